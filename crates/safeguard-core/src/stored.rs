//! What the record holds once entries are stored: persons with their linked records.

use serde::{Deserialize, Serialize};

use crate::{AgencyId, PersonId, PersonRecord, RecordId};

/// One agency's record of a person, as linked to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedRecord {
    /// The record's identifier.
    pub id: RecordId,
    /// The agency holding it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub agency: AgencyId,
    /// The agency's system.
    pub source_system: String,
    /// The latest demographics the agency sent.
    pub record: PersonRecord,
}

/// A person: the records believed to be one human being.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// The person's identifier.
    pub id: PersonId,
    /// Their records, in the order they were first seen.
    pub records: Vec<LinkedRecord>,
}

impl Person {
    /// The name to show: the fullest name among the records (most parts, then first seen).
    pub fn display_name(&self) -> String {
        self.records
            .iter()
            .map(|r| &r.record.name)
            .filter(|n| !n.is_empty())
            // max_by_key keeps the last of equals; reversed, that is the first seen.
            .rev()
            .max_by_key(|n| n.given.len() + usize::from(n.family.is_some()))
            .map(|n| n.display())
            .unwrap_or_else(|| "(name not recorded)".to_owned())
    }
}
