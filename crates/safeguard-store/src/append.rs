//! The write path: appending entries, resolving the person records they name, storing what
//! they state, and auditing each write, all in the caller's transaction.

use std::collections::HashMap;

use chrono::Utc;
use safeguard_core::{AgencyId, Entry, EntryId, FieldError, PersonId, PersonRecord, RecordId};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use safeguard_linkage::record::Prepared;

use crate::audit::{self, AuditEvent};
use crate::linkage;
use crate::migrate::hex;
use crate::sql::{Sql, SqlExt};
use crate::{Actor, Store, StoreError};

/// What happened to one entry of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Stored now.
    Created,
    /// Already stored with the same content: nothing written.
    AlreadyRecorded,
}

/// The result for one entry of an append, in batch order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Appended {
    /// The stored entry (the earlier one, if this was a re-send).
    pub id: EntryId,
    /// Whether it was stored now.
    pub outcome: Outcome,
}

/// Record identifiers already resolved in this transaction, by provenance.
type RecordCache = HashMap<(String, String, String), ResolvedRecord>;

#[derive(Clone)]
struct ResolvedRecord {
    id: RecordId,
    person: PersonId,
    as_of: i64,
    json: String,
}

pub(crate) fn append(
    sql: &mut dyn Sql,
    actor: &Actor,
    entries: &[Entry],
    matcher: &linkage::Matcher,
    involvement_period_micros: i64,
) -> Result<Vec<Appended>, StoreError> {
    let now = Utc::now().timestamp_micros();
    let mut records = RecordCache::new();
    // Relinks of records matched again after an update, audited with the entries.
    let mut relinks = Vec::new();
    let appended = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if i > 0 && i % ANALYZE_EVERY == 0 {
                analyze(sql)?;
            }
            append_one(
                sql,
                e,
                i,
                (now, involvement_period_micros),
                matcher,
                (&mut records, &mut relinks),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut events: Vec<AuditEvent> = appended
        .iter()
        .filter(|a| a.outcome == Outcome::Created)
        .map(|a| AuditEvent::new("append_entry", a.id.to_string()))
        .collect();
    events.extend(relinks);
    audit::append_events(sql, actor, now, &events)?;
    Ok(appended)
}

/// How many entries one transaction appends between refreshing the planner's statistics.
const ANALYZE_EVERY: usize = 2_000;

/// Refreshes the statistics of the tables an append reads, within its transaction. A large
/// import is one transaction, which no background ANALYZE sees into: on PostgreSQL the planner
/// kept planning for the tables as they stood before it, and each entry's lookups grew with
/// the rows already written (20,000 rows imported at a sixth of the batched rate).
fn analyze(sql: &mut dyn Sql) -> Result<(), StoreError> {
    for table in [
        "persons",
        "person_records",
        "person_record_keys",
        "person_search_keys",
        "entries",
        "entry_persons",
        "involvements",
    ] {
        sql.execute(&format!("ANALYZE {table}"), &[])?;
    }
    Ok(())
}

fn append_one(
    sql: &mut dyn Sql,
    entry: &Entry,
    index: usize,
    (now, involvement_period_micros): (i64, i64),
    matcher: &linkage::Matcher,
    (records, events): (&mut RecordCache, &mut Vec<AuditEvent>),
) -> Result<Appended, StoreError> {
    let (body, content_hash) = body_and_hash(entry)?;
    let supersedes = match &entry.supersedes {
        None => None,
        Some(source_id) => Some(
            find_entry(sql, &entry.agency, &entry.source.system, source_id)?.ok_or_else(|| {
                StoreError::invalid(
                    Some(index),
                    "supersedes",
                    format!("no entry {source_id:?} from this agency and system to supersede"),
                )
            })?,
        ),
    };

    let id = EntryId(Uuid::now_v7());
    let inserted = sql.query_opt(
        "INSERT INTO entries (id, agency_id, source_system, source_id, kind, occurred_at,
             occurred_precision, recorded_at, received_at, supersedes, content_hash, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (agency_id, source_system, source_id) DO NOTHING
         RETURNING id",
        &[
            id.to_string().into(),
            entry.agency.as_str().into(),
            entry.source.system.as_str().into(),
            entry.source.id.as_str().into(),
            entry.kind().as_str().into(),
            entry.occurred_at.sort_key().into(),
            entry.occurred_at.precision().as_str().into(),
            entry.recorded_at.timestamp_micros().into(),
            now.into(),
            supersedes.map(|s| s.to_string()).into(),
            content_hash.as_str().into(),
            body.as_str().into(),
        ],
    )?;
    if inserted.is_none() {
        let row = sql
            .query_opt(
                "SELECT id, content_hash, body FROM entries
                 WHERE agency_id = $1 AND source_system = $2 AND source_id = $3",
                &[
                    entry.agency.as_str().into(),
                    entry.source.system.as_str().into(),
                    entry.source.id.as_str().into(),
                ],
            )?
            .ok_or_else(|| StoreError::Corrupt("conflicting entry vanished".into()))?;
        if row.text(1)? != content_hash {
            // The same source id with other content is a mistake or a correction sent wrongly:
            // refused whole, naming the first field that differs, so nothing is dropped unseen.
            return Err(StoreError::Conflict {
                index: Some(index),
                error: resent_with_other_content(row.text(2)?, &body)?,
            });
        }
        return Ok(Appended {
            id: parse_id(row.text(0)?).map(EntryId)?,
            outcome: Outcome::AlreadyRecorded,
        });
    }

    let as_of = entry.recorded_at.timestamp_micros();
    let mut by_local_id = HashMap::new();
    let mut participants: Vec<(RecordId, PersonId, Option<Prepared>)> = Vec::new();
    for (position, p) in entry.persons.iter().enumerate() {
        let (record, created) =
            resolve_record(sql, entry, &p.record, as_of, now, matcher, records, events)?;
        participants.push((record.id, record.person, created));
        by_local_id.insert(p.record.local_id.as_str(), record.id);
        sql.execute(
            "INSERT INTO entry_persons (entry_id, position, record_id, role) VALUES ($1, $2, $3, $4)",
            &[
                id.to_string().into(),
                (position as i64).into(),
                record.id.to_string().into(),
                p.role.as_str().into(),
            ],
        )?;
    }
    // The household's parents and children, pair by pair, for finding a child's siblings.
    for (parent, p) in participants.iter().zip(&entry.persons) {
        if p.role != safeguard_core::ParticipantRole::Parent {
            continue;
        }
        for (child, c) in participants.iter().zip(&entry.persons) {
            if c.role == safeguard_core::ParticipantRole::SubjectChild {
                sql.execute(
                    "INSERT INTO parent_children (parent_record_id, child_record_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[parent.0.to_string().into(), child.0.to_string().into()],
                )?;
            }
        }
    }
    // Recording about a person establishes, keeps or asks for the agency's involvement.
    let mut noted = std::collections::HashSet::new();
    for (record, person, _) in &participants {
        if noted.insert(*record) {
            crate::involvement::note_entry(
                sql,
                *record,
                *person,
                &entry.agency,
                now,
                involvement_period_micros,
            )?;
        }
    }
    // The company an adult keeps can say who they are when their record cannot: a new adult
    // record without a date of birth or a family name is compared with the others recorded
    // with the same people. (A child's records meet by date of birth.)
    for (i, (id, person, created)) in participants.iter().enumerate() {
        let Some(prepared) = created else { continue };
        if !entry.persons[i].role.is_household_adult()
            || !safeguard_linkage::linker::needs_company(prepared)
        {
            continue;
        }
        let mut with: Vec<PersonId> = participants
            .iter()
            .map(|p| p.1)
            .filter(|p| p != person)
            .collect();
        with.sort();
        with.dedup();
        linkage::propose_associates(sql, matcher, *id, prepared, *person, &with, now)?;
    }
    // validate() has checked that every local id below names a participant.
    let record_of = |local_id: &str| by_local_id[local_id].to_string();
    let default_from = entry.occurred_at.date();
    for (position, r) in entry.residences.iter().enumerate() {
        let address =
            serde_json::to_string(&r.address).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sql.execute(
            "INSERT INTO residences (entry_id, position, record_id, address_key, address,
                 valid_from, valid_to, strength)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                id.to_string().into(),
                (position as i64).into(),
                record_of(&r.person).into(),
                r.address.key().into(),
                address.into(),
                r.from.unwrap_or(default_from).to_string().into(),
                r.to.map(|d| d.to_string()).into(),
                r.strength.as_str().into(),
            ],
        )?;
    }
    for (position, r) in entry.relationships.iter().enumerate() {
        sql.execute(
            "INSERT INTO relationships (entry_id, position, record_id, kind, other_record_id,
                 valid_from, valid_to, strength)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                id.to_string().into(),
                (position as i64).into(),
                record_of(&r.person).into(),
                r.kind.as_str().into(),
                record_of(&r.other).into(),
                r.from.unwrap_or(default_from).to_string().into(),
                r.to.map(|d| d.to_string()).into(),
                r.strength.as_str().into(),
            ],
        )?;
    }
    Ok(Appended {
        id,
        outcome: Outcome::Created,
    })
}

/// The path of the first field where two JSON values differ, if they do.
/// An entry's stored body and the hash a resend is compared by.
fn body_and_hash(entry: &Entry) -> Result<(String, String), StoreError> {
    let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let hash = hex(&Sha256::digest(body.as_bytes()));
    Ok((body, hash))
}

/// What is wrong with an entry sent again under its source id with other content: the first
/// field that differs from the stored body.
fn resent_with_other_content(stored: &str, sent: &str) -> Result<FieldError, StoreError> {
    let parse = |body: &str| {
        serde_json::from_str::<serde_json::Value>(body)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let field = first_difference(String::new(), &parse(stored)?, &parse(sent)?).unwrap_or_default();
    Ok(FieldError::new(
        field,
        "differs from the entry already recorded under this source id; send a correction with a new source id and supersedes",
    ))
}

impl Store {
    /// The entries already recorded under their source id with other content, each with its
    /// place in `entries` and the first field that differs: what an append would refuse as a
    /// conflict, found without writing, so that an import can list every one before storing
    /// anything.
    pub fn changed_resends(
        &self,
        entries: &[Entry],
    ) -> Result<Vec<(usize, FieldError)>, StoreError> {
        self.read(|sql| {
            let mut changed = Vec::new();
            for (index, entry) in entries.iter().enumerate() {
                let Some(row) = sql.query_opt(
                    "SELECT content_hash, body FROM entries
                     WHERE agency_id = $1 AND source_system = $2 AND source_id = $3",
                    &[
                        entry.agency.as_str().into(),
                        entry.source.system.as_str().into(),
                        entry.source.id.as_str().into(),
                    ],
                )?
                else {
                    continue;
                };
                let (body, content_hash) = body_and_hash(entry)?;
                if row.text(0)? != content_hash {
                    changed.push((index, resent_with_other_content(row.text(1)?, &body)?));
                }
            }
            Ok(changed)
        })
    }
}

fn first_difference(path: String, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => first_difference(join(k), v, w),
                (None, None) => None,
                _ => Some(join(k)),
            })
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(format!("{path}[{i}]"), v, w))
            .or_else(|| (x.len() != y.len()).then(|| path.clone())),
        _ if a == b => None,
        _ => Some(path),
    }
}

/// Finds the record for an agency's person, creating it if it is new, and keeping the
/// demographics of the most recently recorded entry.
///
/// A new record is matched online against the records sharing a blocking key with it: it
/// joins the one person it safely and strongly matches, or starts a person of its own; likely
/// matches it was not joined to wait in the review queue. Returns the record and, when it was
/// created now, its prepared form (for matching by the company it keeps).
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename them
fn resolve_record(
    sql: &mut dyn Sql,
    entry: &Entry,
    record: &PersonRecord,
    as_of: i64,
    now: i64,
    matcher: &linkage::Matcher,
    cache: &mut RecordCache,
    events: &mut Vec<AuditEvent>,
) -> Result<(ResolvedRecord, Option<Prepared>), StoreError> {
    let key = (
        entry.agency.as_str().to_owned(),
        entry.source.system.clone(),
        record.local_id.clone(),
    );
    let json = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let existing = match cache.get(&key) {
        Some(r) => Some(r.clone()),
        None => sql
            .query_opt(
                "SELECT id, person_id, as_of, record FROM person_records
                 WHERE agency_id = $1 AND source_system = $2 AND local_id = $3",
                &[
                    key.0.as_str().into(),
                    key.1.as_str().into(),
                    key.2.as_str().into(),
                ],
            )?
            .map(|row| -> Result<ResolvedRecord, StoreError> {
                Ok(ResolvedRecord {
                    id: RecordId(parse_id(row.text(0)?)?),
                    person: PersonId(parse_id(row.text(1)?)?),
                    as_of: row.int(2)?,
                    json: row.text(3)?.to_owned(),
                })
            })
            .transpose()?,
    };
    let keys = SearchKeys::of(record);
    let mut created = None;
    let resolved = match existing {
        Some(mut r) => {
            if as_of >= r.as_of && json != r.json {
                sql.execute(
                    "UPDATE person_records SET as_of = $2, search_names = $3,
                         date_of_birth = $4, nhs_number = $5, postcode = $6, record = $7
                     WHERE id = $1",
                    &[
                        r.id.to_string().into(),
                        as_of.into(),
                        keys.search_names.into(),
                        keys.date_of_birth.into(),
                        keys.nhs_number.into(),
                        keys.postcode.into(),
                        json.as_str().into(),
                    ],
                )?;
                let id = RecordId(r.id.0);
                let prepared = Prepared::new(&linkage::linkage_record(id, record));
                linkage::update_keys(sql, id, &prepared)?;
                crate::search::replace_keys(sql, &id.to_string(), record)?;
                r.as_of = as_of;
                r.json = json;
                let person =
                    linkage::rematch_updated(sql, matcher, id, r.person, &prepared, now, events)?;
                if person != r.person {
                    // Other records may have moved with it: read their persons afresh.
                    cache.clear();
                    r.person = person;
                }
            }
            r
        }
        None => {
            let id = RecordId(Uuid::now_v7());
            let prepared = Prepared::new(&linkage::linkage_record(id, record));
            let placement = linkage::place_new_record(sql, matcher, &prepared, None)?;
            let r = ResolvedRecord {
                id,
                person: placement.joins.unwrap_or_else(|| PersonId(Uuid::now_v7())),
                as_of,
                json,
            };
            if placement.joins.is_none() {
                sql.execute(
                    "INSERT INTO persons (id, created_at) VALUES ($1, $2)",
                    &[r.person.to_string().into(), as_of.into()],
                )?;
            }
            insert_record(sql, &r, &key, record, &prepared)?;
            for (other, probability, reason) in placement.review {
                linkage::propose(sql, id, other, probability, reason, now)?;
            }
            created = Some(prepared);
            r
        }
    };
    cache.insert(key, resolved.clone());
    Ok((resolved, created))
}

/// Stores a new person record of `person` and its linkage keys.
fn insert_record(
    sql: &mut dyn Sql,
    r: &ResolvedRecord,
    key: &(String, String, String),
    record: &PersonRecord,
    prepared: &Prepared,
) -> Result<(), StoreError> {
    let keys = SearchKeys::of(record);
    sql.execute(
        "INSERT INTO person_records (id, person_id, agency_id, source_system, local_id,
             as_of, first_seen_at, search_names, date_of_birth, nhs_number, postcode, record)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)",
        &[
            r.id.to_string().into(),
            r.person.to_string().into(),
            key.0.as_str().into(),
            key.1.as_str().into(),
            key.2.as_str().into(),
            r.as_of.into(),
            keys.search_names.into(),
            keys.date_of_birth.into(),
            keys.nhs_number.into(),
            keys.postcode.into(),
            r.json.as_str().into(),
        ],
    )?;
    linkage::insert_keys(sql, r.id, prepared)?;
    crate::search::insert_keys(sql, &r.id.to_string(), record)
}

/// A participant the recorder chose among people already known (someone in the child's
/// household, on a form), not one described for linkage to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownParticipant {
    /// The participant's `local_id` in the entry.
    pub local_id: String,
    /// Who they are.
    pub person: PersonId,
}

/// Joins the records that `entry` names for `known` participants to those persons before
/// the entry is appended: a record new to the agency and system is stored as that person's
/// (linkage does not place it), one already stored must already be theirs.
pub(crate) fn bind_known(
    sql: &mut dyn Sql,
    entry: &Entry,
    known: &[KnownParticipant],
) -> Result<(), StoreError> {
    for k in known {
        let (index, participant) = entry
            .persons
            .iter()
            .enumerate()
            .find(|(_, p)| p.record.local_id == k.local_id)
            .ok_or_else(|| {
                StoreError::invalid(None, "persons", format!("no participant {:?}", k.local_id))
            })?;
        let field = format!("persons[{index}].record.local_id");
        let person = match sql.query_opt(
            "SELECT merged_into FROM persons WHERE id = $1",
            &[k.person.to_string().into()],
        )? {
            None => return Err(StoreError::invalid(None, &field, "no such person")),
            Some(row) => match row.opt_text(0)? {
                Some(into) => PersonId(parse_id(into)?),
                None => k.person,
            },
        };
        let key = (
            entry.agency.as_str().to_owned(),
            entry.source.system.clone(),
            k.local_id.clone(),
        );
        let stored = sql.query_opt(
            "SELECT person_id FROM person_records
             WHERE agency_id = $1 AND source_system = $2 AND local_id = $3",
            &[
                key.0.as_str().into(),
                key.1.as_str().into(),
                key.2.as_str().into(),
            ],
        )?;
        match stored {
            Some(row) if PersonId(parse_id(row.text(0)?)?) == person => {}
            Some(_) => {
                return Err(StoreError::invalid(
                    None,
                    &field,
                    "this agency's record under that identifier is of someone else",
                ));
            }
            None => {
                let record = &participant.record;
                let id = RecordId(Uuid::now_v7());
                let resolved = ResolvedRecord {
                    id,
                    person,
                    as_of: entry.recorded_at.timestamp_micros(),
                    json: serde_json::to_string(record)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                };
                let prepared = Prepared::new(&linkage::linkage_record(id, record));
                insert_record(sql, &resolved, &key, record, &prepared)?;
            }
        }
    }
    Ok(())
}

/// The columns person search uses, derived from a record.
pub(crate) struct SearchKeys {
    /// Every name part, normalised, each with a space either side (`" sam example "`), so that
    /// `LIKE '% sam%'` finds a name part starting with `sam`.
    pub(crate) search_names: String,
    pub(crate) date_of_birth: Option<String>,
    pub(crate) nhs_number: Option<String>,
    pub(crate) postcode: Option<String>,
}

impl SearchKeys {
    pub(crate) fn of(record: &PersonRecord) -> Self {
        let mut parts: Vec<String> = Vec::new();
        for name in std::iter::once(&record.name).chain(&record.other_names) {
            for part in name.given.iter().chain(&name.family) {
                parts.extend(name_parts(part));
            }
        }
        Self {
            search_names: format!(" {} ", parts.join(" ")),
            date_of_birth: record.date_of_birth.map(|d| d.to_string()),
            nhs_number: record.nhs_number.as_ref().map(|n| n.as_str().to_owned()),
            postcode: record.current_postcode().map(|p| p.as_str().to_owned()),
        }
    }
}

/// The normalised parts of a name as written: `Harker-Jones` is `harker` and `jones`.
pub(crate) fn name_parts(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(normalise)
        .filter(|p| !p.is_empty())
}

/// A name part as search compares it: lower case, letters and digits only (`O'Brien` → `obrien`).
pub(crate) fn normalise(part: &str) -> String {
    part.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

pub(crate) fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("identifier {text:?}: {e}")))
}

pub(crate) fn find_entry(
    sql: &mut dyn Sql,
    agency: &AgencyId,
    system: &str,
    source_id: &str,
) -> Result<Option<EntryId>, StoreError> {
    sql.query_opt(
        "SELECT id FROM entries WHERE agency_id = $1 AND source_system = $2 AND source_id = $3",
        &[agency.as_str().into(), system.into(), source_id.into()],
    )?
    .map(|r| parse_id(r.text(0)?).map(EntryId))
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_by_its_path() {
        let a = serde_json::json!({"summary": "x", "persons": [{"name": "a"}, {"name": "b"}]});
        let b = serde_json::json!({"summary": "x", "persons": [{"name": "a"}, {"name": "c"}]});
        assert_eq!(
            first_difference(String::new(), &a, &b).as_deref(),
            Some("persons[1].name")
        );
        assert_eq!(first_difference(String::new(), &a, &a), None);
        let c = serde_json::json!({"summary": "x", "persons": [{"name": "a"}]});
        assert_eq!(
            first_difference(String::new(), &a, &c).as_deref(),
            Some("persons")
        );
    }

    #[test]
    fn names_are_normalised_for_search() {
        assert_eq!(normalise("O'Brien"), "obrien");
        assert_eq!(normalise("Anne-Marie"), "annemarie");
    }

    #[test]
    fn search_names_hold_every_part_of_every_name() {
        let mut r = PersonRecord::named(
            "1",
            safeguard_core::PersonName::new("Daniel", "Harker-Jones"),
        );
        r.other_names
            .push(safeguard_core::PersonName::new("Danny", "H"));
        let keys = SearchKeys::of(&r);
        assert_eq!(keys.search_names, " daniel harker jones danny h ");
    }
}
