//! Identity resolution at the store's edge. The linkage engine (`safeguard-linkage`) decides;
//! this module feeds it the store's records, keeps each record's blocking keys so that an
//! arriving record meets its candidates by index, stores the proposals a person must decide,
//! and applies people's decisions by merging and splitting persons. A person's decision is
//! never overridden by automatic linkage, online or in batch.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Utc};
use safeguard_core::rules::RuleBook;
use safeguard_core::{PartialDate, PersonId, PersonRecord, RecordId, Sex};
use safeguard_linkage::compare::BirthDate;
use safeguard_linkage::linker::{self, Progress, Settings, Stage, Trained};
use safeguard_linkage::model::Explanation;
use safeguard_linkage::record::{self, Prepared, Record};
use serde::Serialize;
use uuid::Uuid;

use crate::append::parse_id;
use crate::audit::{self, AuditEvent};
use crate::sql::{Sql, SqlExt, Value, placeholders};
use crate::{Actor, Store, StoreError};

mod batch;
mod decisions;
mod placement;
mod proposals;

pub use batch::Relinked;
pub use decisions::{Decided, IdentityDecision, LinkDecision, Verdict};
use decisions::{conflict, decided_pairs, holdings, recluster, reconcile};
pub use placement::ONE_PERSONS_PARTS;
pub(crate) use placement::{insert_keys, place_new_record, rematch_updated, update_keys};
pub use proposals::{ASSOCIATES, Evidence, LinkReview, LinkSide};
use proposals::{ordered, propose_associates_of};
pub(crate) use proposals::{propose, propose_associates};

/// The store's linkage settings: the engine's defaults.
fn settings() -> Settings {
    Settings::default()
}

/// Below this many records a store keeps the generic model: too few pairs to fit one.
pub const MIN_TRAINING_RECORDS: usize = 2_000;

/// A person record as linkage sees it. Of the address, the lines before the town.
pub(crate) fn linkage_record(id: RecordId, r: &PersonRecord) -> Record {
    let address = r.addresses.first();
    let lines = address.map(|a| {
        let street = match a.lines.len() {
            0 | 1 => &a.lines[..],
            n => &a.lines[..n - 1],
        };
        street.join(" ")
    });
    Record {
        id: id.to_string(),
        given_name: r.name.given.first().cloned(),
        family_name: r.name.family.clone(),
        birth_date: r
            .date_of_birth
            .map(|d| match d {
                PartialDate::Year(year) => BirthDate {
                    year,
                    month: None,
                    day: None,
                },
                PartialDate::Month(year, month) => BirthDate {
                    year,
                    month: Some(month),
                    day: None,
                },
                PartialDate::Day(date) => BirthDate {
                    year: date.year(),
                    month: Some(date.month()),
                    day: Some(date.day()),
                },
            })
            .or_else(|| r.expected_date_of_birth.and_then(expected_birth_year)),
        sex: match r.sex {
            Some(Sex::Female) => Some(record::Sex::Female),
            Some(Sex::Male) => Some(record::Sex::Male),
            Some(Sex::Unknown) | None => None,
        },
        postcode: address
            .and_then(|a| a.postcode.as_ref())
            .map(|p| p.as_str().to_owned()),
        address: lines.filter(|l| !l.is_empty()),
        nhs_number: r.nhs_number.as_ref().map(|n| n.as_str().to_owned()),
    }
}

/// What an unborn child's expected date of delivery says of the baby's date of birth: the
/// year, when every likely birth falls in it (from 17 weeks early, the most preterm births a
/// maternity record goes on to name, to 3 weeks late); otherwise nothing, so that a baby due in
/// January and born in December is not taken for another child.
fn expected_birth_year(expected: chrono::NaiveDate) -> Option<BirthDate> {
    let earliest = expected - chrono::Duration::weeks(17);
    let latest = expected + chrono::Duration::weeks(3);
    (earliest.year() == latest.year()).then(|| BirthDate {
        year: expected.year(),
        month: None,
        day: None,
    })
}

fn prepared_json(id: RecordId, json: &str) -> Result<Prepared, StoreError> {
    let record: PersonRecord =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?;
    Ok(Prepared::new(&linkage_record(id, &record)))
}

/// The model in use and where it came from, cached per store until another is stored.
#[derive(Clone)]
pub(crate) struct CachedModel {
    /// The stored model's id; 0 for the generic model.
    id: i64,
    /// As stored.
    trained: Arc<Trained>,
    /// As scaled to the store's records when last counted (see [`Trained::for_population`]).
    scaled: Arc<Trained>,
    counted_at: std::time::Instant,
}

/// How often the records are counted again to scale the model's priors: a count takes a scan,
/// and a store grows by a small share in a minute.
const RECOUNT_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Records already prepared for comparison, by record and version (`as_of`), so that a
/// household's records are not parsed and encoded again for every arriving record. Bounded by
/// clearing.
#[derive(Default)]
pub(crate) struct PreparedCache(std::sync::Mutex<HashMap<(RecordId, i64), Arc<Prepared>>>);

/// Records kept prepared at most (a few hundred bytes each).
const MAX_PREPARED: usize = 100_000;

/// What online matching needs: the model, and the records already prepared.
pub(crate) struct Matcher {
    pub(crate) trained: Arc<Trained>,
    cache: Arc<PreparedCache>,
}

impl Matcher {
    /// A stored record, prepared.
    fn prepared_of(&self, sql: &mut dyn Sql, id: RecordId) -> Result<Arc<Prepared>, StoreError> {
        let row = sql
            .query_opt(
                "SELECT as_of, record FROM person_records WHERE id = $1",
                &[id.to_string().into()],
            )?
            .ok_or_else(|| no_record(id))?;
        self.prepared(id, row.int(0)?, row.text(1)?)
    }

    fn prepared(&self, id: RecordId, as_of: i64, json: &str) -> Result<Arc<Prepared>, StoreError> {
        let key = (id, as_of);
        if let Some(p) = self.lock().get(&key) {
            return Ok(p.clone());
        }
        let p = Arc::new(prepared_json(id, json)?);
        let mut cache = self.lock();
        if cache.len() >= MAX_PREPARED {
            cache.clear();
        }
        cache.insert(key, p.clone());
        Ok(p)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(RecordId, i64), Arc<Prepared>>> {
        self.cache.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    /// The model and the prepared records online matching uses.
    pub(crate) fn matcher_in(&self, sql: &mut dyn Sql) -> Result<Matcher, StoreError> {
        Ok(Matcher {
            trained: self.model_in(sql)?,
            cache: self.inner.prepared.clone(),
        })
    }

    /// The model online matching uses: the last one trained on this store's records, or the
    /// generic one until there is one. Read in the caller's transaction, so that a model stored
    /// by another process is seen.
    pub(crate) fn model_in(&self, sql: &mut dyn Sql) -> Result<Arc<Trained>, StoreError> {
        let latest = sql
            .query_opt("SELECT MAX(id) FROM linkage_models", &[])?
            .and_then(|r| r.int(0).ok())
            .unwrap_or(0);
        let mut cache = self.inner.model.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache
            .as_ref()
            .filter(|c| c.id == latest && c.counted_at.elapsed() < RECOUNT_AFTER)
        {
            return Ok(c.scaled.clone());
        }
        let records = sql
            .query_opt("SELECT COUNT(*) FROM person_records", &[])?
            .and_then(|r| r.int(0).ok())
            .unwrap_or(0) as usize;
        if let Some(c) = cache.as_mut().filter(|c| c.id == latest) {
            c.scaled = Arc::new(c.trained.for_population(records));
            c.counted_at = std::time::Instant::now();
            return Ok(c.scaled.clone());
        }
        let stored: Option<Trained> = if latest == 0 {
            None
        } else {
            let row = sql
                .query_opt(
                    "SELECT model FROM linkage_models WHERE id = $1",
                    &[latest.into()],
                )?
                .ok_or_else(|| StoreError::Corrupt("the linkage model vanished".into()))?;
            Some(
                serde_json::from_str(row.text(0)?)
                    .map_err(|e| StoreError::Corrupt(format!("linkage model {latest}: {e}")))?,
            )
        };
        // A model an earlier release trained with other comparisons gives way to the generic
        // one until `safeguard link` trains again.
        let trained = Arc::new(
            stored
                .filter(|t| t.model.fits_the_comparisons())
                .unwrap_or_else(|| Trained::generic().clone()),
        );
        let scaled = Arc::new(trained.for_population(records));
        *cache = Some(CachedModel {
            id: latest,
            trained,
            scaled: scaled.clone(),
            counted_at: std::time::Instant::now(),
        });
        Ok(scaled)
    }
}

fn no_record(id: RecordId) -> StoreError {
    StoreError::invalid(None, "record", format!("no record {id}"))
}

/// The person a record belongs to now.
fn person_of(sql: &mut dyn Sql, id: RecordId) -> Result<PersonId, StoreError> {
    let row = sql
        .query_opt(
            "SELECT person_id FROM person_records WHERE id = $1",
            &[id.to_string().into()],
        )?
        .ok_or_else(|| no_record(id))?;
    Ok(PersonId(parse_id(row.text(0)?)?))
}

impl Store {
    /// An agency's record by the sending system's identifier, with the person it belongs to.
    pub fn find_record(
        &self,
        agency: &str,
        system: &str,
        local_id: &str,
    ) -> Result<Option<(RecordId, PersonId)>, StoreError> {
        self.read(|sql| {
            let row = sql.query_opt(
                "SELECT id, person_id FROM person_records
                 WHERE agency_id = $1 AND source_system = $2 AND local_id = $3",
                &[agency.into(), system.into(), local_id.into()],
            )?;
            row.map(|r| {
                Ok((
                    RecordId(parse_id(r.text(0)?)?),
                    PersonId(parse_id(r.text(1)?)?),
                ))
            })
            .transpose()
        })
    }

    /// The person a retired person was merged into, if it was.
    pub fn merged_into(&self, person: PersonId) -> Result<Option<PersonId>, StoreError> {
        self.read(|sql| merged_into_in(sql, person))
    }
}

/// [`Store::merged_into`] within a transaction.
pub(crate) fn merged_into_in(
    sql: &mut dyn Sql,
    person: PersonId,
) -> Result<Option<PersonId>, StoreError> {
    let row = sql.query_opt(
        "SELECT merged_into FROM persons WHERE id = $1",
        &[person.to_string().into()],
    )?;
    match row {
        Some(row) => row
            .opt_text(0)?
            .map(|t| parse_id(t).map(PersonId))
            .transpose(),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safeguard_core::{Address, PersonName, Postcode};

    #[test]
    fn a_record_is_given_to_linkage_with_its_street_not_its_town() {
        let mut r = PersonRecord::named("1", PersonName::new("Daniel", "Marsh"));
        r.date_of_birth = PartialDate::parse("1975-08").ok();
        r.sex = Some(Sex::Unknown);
        r.addresses.push(Address {
            lines: vec![
                "Flat 6, Carlow House".into(),
                "Tern Street".into(),
                "Northbury".into(),
            ],
            postcode: Postcode::parse("NB2 9LS").ok(),
        });
        let l = linkage_record(RecordId(Uuid::nil()), &r);
        assert_eq!(l.given_name.as_deref(), Some("Daniel"));
        assert_eq!(
            l.address.as_deref(),
            Some("Flat 6, Carlow House Tern Street")
        );
        assert_eq!(l.postcode.as_deref(), Some("NB2 9LS"));
        assert_eq!(
            l.birth_date,
            Some(BirthDate {
                year: 1975,
                month: Some(8),
                day: None
            })
        );
        assert_eq!(l.sex, None, "unknown sex is missing, not a disagreement");
    }

    #[test]
    fn an_expected_date_says_the_birth_year_only_when_every_likely_birth_falls_in_it() {
        let due = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            expected_birth_year(due(2024, 6, 20)).map(|b| b.year),
            Some(2024)
        );
        assert_eq!(
            expected_birth_year(due(2024, 6, 20)).and_then(|b| b.month),
            None
        );
        assert_eq!(
            expected_birth_year(due(2024, 1, 15)),
            None,
            "perhaps born in 2023"
        );
        assert_eq!(
            expected_birth_year(due(2024, 12, 20)),
            None,
            "perhaps born in 2025"
        );
    }
}
