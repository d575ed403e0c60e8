//! Agencies: the organisations that record what they know about a child.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an agency identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an agency identifier: {0:?} (use 2 to 64 lower-case letters, digits and hyphens, e.g. \"north-police\")"
)]
pub struct AgencyIdError(pub String);

/// A short, stable identifier for an agency (`haringey-childrens-services`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyId(String);

impl AgencyId {
    /// Parses an identifier of lower-case ASCII letters, digits and inner hyphens.
    pub fn parse(text: &str) -> Result<Self, AgencyIdError> {
        let ok = (2..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(AgencyIdError(text.to_owned()))
        }
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of service an agency is; rules and access read this, not the agency's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgencyKind {
    /// Local authority children's social care.
    SocialCare,
    /// A police force.
    Police,
    /// A general practice.
    Gp,
    /// A hospital, including its emergency department.
    Hospital,
    /// Health visiting.
    HealthVisiting,
    /// Midwifery.
    Midwifery,
    /// A school, nursery or education service.
    Education,
    /// The local authority's legal service.
    Legal,
    /// Probation.
    Probation,
    /// Housing.
    Housing,
    /// A voluntary-sector organisation.
    Voluntary,
}

impl AgencyKind {
    /// Every kind, for forms and validation messages.
    pub const ALL: [AgencyKind; 11] = [
        AgencyKind::SocialCare,
        AgencyKind::Police,
        AgencyKind::Gp,
        AgencyKind::Hospital,
        AgencyKind::HealthVisiting,
        AgencyKind::Midwifery,
        AgencyKind::Education,
        AgencyKind::Legal,
        AgencyKind::Probation,
        AgencyKind::Housing,
        AgencyKind::Voluntary,
    ];

    /// The stored and exchanged name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyKind::SocialCare => "social_care",
            AgencyKind::Police => "police",
            AgencyKind::Gp => "gp",
            AgencyKind::Hospital => "hospital",
            AgencyKind::HealthVisiting => "health_visiting",
            AgencyKind::Midwifery => "midwifery",
            AgencyKind::Education => "education",
            AgencyKind::Legal => "legal",
            AgencyKind::Probation => "probation",
            AgencyKind::Housing => "housing",
            AgencyKind::Voluntary => "voluntary",
        }
    }

    /// The kind with this stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// An organisation that records entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    /// Stable identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "north-police"))]
    pub id: AgencyId,
    /// Name as people know it.
    pub name: String,
    /// Kind of service.
    pub kind: AgencyKind,
}

text_value!(AgencyId, AgencyIdError, |value| value.0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_ids_are_lower_case_slugs() {
        assert!(AgencyId::parse("north-police").is_ok());
        assert!(AgencyId::parse("gp-7").is_ok());
        for bad in ["North-Police", "-police", "police-", "a", "has space", ""] {
            assert!(AgencyId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_agency_kind_round_trips_through_its_name() {
        for kind in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
