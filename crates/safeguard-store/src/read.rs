//! The read path: persons, chronologies, households and search.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use safeguard_core::household::{
    EvidenceStrength, Presence, Relationship, RelationshipKind, Residence, Validity, household_at,
    with_people_around,
};
use safeguard_core::{
    AgencyId, Entry, EntryId, EntryKind, Household, LinkedRecord, OccurredAt, ParticipantRole,
    Person, PersonId, RecordId,
};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::StoreError;
use crate::append::parse_id;
use crate::sql::{Row, Sql, Value, placeholders};

/// The most entries one chronology page returns.
pub const MAX_PAGE: usize = 1000;

/// Which part of a chronology to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChronologyQuery {
    /// Only entries from these agencies (all when empty).
    pub agencies: Vec<AgencyId>,
    /// Only entries of these kinds (all when empty).
    pub kinds: Vec<EntryKind>,
    /// Only entries that occurred on or after this day.
    pub from: Option<NaiveDate>,
    /// Only entries that occurred on or before this day.
    pub to: Option<NaiveDate>,
    /// Continue after this position (from the previous page's `next`).
    pub after: Option<Cursor>,
    /// Page size, at most [`MAX_PAGE`].
    pub limit: usize,
    /// Include entries that a later entry corrects.
    pub include_superseded: bool,
    /// Only this entry (if it names the person).
    pub entry: Option<EntryId>,
}

impl Default for ChronologyQuery {
    fn default() -> Self {
        Self {
            agencies: Vec::new(),
            kinds: Vec::new(),
            from: None,
            to: None,
            after: None,
            limit: 100,
            include_superseded: false,
            entry: None,
        }
    }
}

/// A position in a chronology: the occurrence key and identifier of the last entry read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    occurred_at: i64,
    id: EntryId,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.occurred_at, self.id)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a page cursor from a previous response");
        let (at, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            occurred_at: at.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// An entry as the chronology returns it: its identifiers, and its body as stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChronologyEntry {
    /// The entry's identifier.
    pub id: EntryId,
    /// When Safeguard received it.
    pub received_at: DateTime<Utc>,
    /// The person each participant (in `entry.persons` order) belongs to.
    pub person_ids: Vec<PersonId>,
    /// The entry that corrects this one, if any.
    pub superseded_by: Option<EntryId>,
    /// The entry as it was sent.
    #[cfg_attr(feature = "openapi", schema(value_type = Entry))]
    pub entry: EntryJson,
}

/// An entry's JSON as stored, validated when it was written. Served as it is (no decoding and
/// re-encoding on the way out); decoded only where typed fields are needed.
#[derive(Debug, Clone)]
pub struct EntryJson(Arc<RawValue>);

impl EntryJson {
    /// The typed entry.
    pub fn decode(&self) -> Result<Entry, StoreError> {
        json(self.0.get())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl Serialize for EntryJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (*self.0).serialize(serializer)
    }
}

/// Entries as the chronology serves them, by id: each one's body and the person records it
/// names, in participant order. An entry never changes once stored (a correction is another
/// entry), so what is read once is true in every process for as long as the entry is listed;
/// which entries are listed, and which person each record belongs to now, are always read
/// from the database. Saves sending and checking each body, and looking up each entry's
/// participants, again on every read of a busy child's record.
#[derive(Default)]
pub(crate) struct BodyCache {
    entries: std::sync::RwLock<BodyMap>,
}

#[derive(Clone)]
struct CachedEntry {
    body: Arc<RawValue>,
    records: Arc<[String]>,
}

#[derive(Default)]
struct BodyMap {
    by_id: HashMap<EntryId, CachedEntry>,
    bytes: usize,
}

/// The most bytes of bodies held; past it the cache starts again empty.
const MAX_CACHED_BODY_BYTES: usize = 64 << 20;

impl BodyCache {
    fn get(&self, id: &EntryId) -> Option<CachedEntry> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.by_id.get(id).cloned()
    }

    fn insert(&self, id: EntryId, entry: CachedEntry) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let size = entry.body.get().len() + entry.records.iter().map(String::len).sum::<usize>();
        if entries.bytes + size > MAX_CACHED_BODY_BYTES {
            *entries = BodyMap::default();
        }
        if entries.by_id.insert(id, entry).is_none() {
            entries.bytes += size;
        }
    }
}

/// One page of a chronology.
#[derive(Debug, Clone)]
pub struct ChronologyPage {
    /// The entries, oldest first.
    pub entries: Vec<ChronologyEntry>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

pub(crate) fn person(sql: &mut dyn Sql, id: PersonId) -> Result<Option<Person>, StoreError> {
    Ok(persons(sql, &[id])?.pop())
}

/// Persons with their records, in the order of `ids`; unknown ids are skipped.
pub(crate) fn persons(sql: &mut dyn Sql, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sql.query(
        &format!(
            "SELECT person_id, id, agency_id, source_system, record FROM person_records
             WHERE person_id IN ({}) ORDER BY first_seen_at, id",
            placeholders(0, ids.len())
        ),
        &ids.iter()
            .map(|p| p.to_string().into())
            .collect::<Vec<Value>>(),
    )?;
    let mut by_person: HashMap<PersonId, Vec<LinkedRecord>> = HashMap::new();
    for row in rows {
        by_person
            .entry(PersonId(parse_id(row.text(0)?)?))
            .or_default()
            .push(LinkedRecord {
                id: RecordId(parse_id(row.text(1)?)?),
                agency: AgencyId::parse(row.text(2)?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                source_system: row.text(3)?.to_owned(),
                record: json(row.text(4)?)?,
            });
    }
    Ok(ids
        .iter()
        .filter_map(|id| {
            by_person
                .remove(id)
                .map(|records| Person { id: *id, records })
        })
        .collect())
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn day_start(date: NaiveDate) -> i64 {
    OccurredAt::on(date).sort_key()
}

pub(crate) fn chronology(
    sql: &mut dyn Sql,
    bodies: &BodyCache,
    person: PersonId,
    query: &ChronologyQuery,
) -> Result<ChronologyPage, StoreError> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    let mut params: Vec<Value> = vec![person.to_string().into()];
    let mut conditions = vec![
        "e.id IN (SELECT ep.entry_id FROM entry_persons ep
                  JOIN person_records r ON r.id = ep.record_id WHERE r.person_id = $1)"
            .to_owned(),
    ];
    if !query.include_superseded {
        conditions.push("NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.id)".into());
    }
    if !query.agencies.is_empty() {
        conditions.push(format!(
            "e.agency_id IN ({})",
            placeholders(params.len(), query.agencies.len())
        ));
        params.extend(query.agencies.iter().map(|a| a.as_str().into()));
    }
    if !query.kinds.is_empty() {
        conditions.push(format!(
            "e.kind IN ({})",
            placeholders(params.len(), query.kinds.len())
        ));
        params.extend(query.kinds.iter().map(|k| k.as_str().into()));
    }
    if let Some(from) = query.from {
        params.push(day_start(from).into());
        conditions.push(format!("e.occurred_at >= ${}", params.len()));
    }
    if let Some(to) = query.to {
        params.push(day_start(to + chrono::Duration::days(1)).into());
        conditions.push(format!("e.occurred_at < ${}", params.len()));
    }
    if let Some(entry) = query.entry {
        params.push(entry.to_string().into());
        conditions.push(format!("e.id = ${}", params.len()));
    }
    if let Some(after) = query.after {
        params.push(after.occurred_at.into());
        params.push(after.id.to_string().into());
        let (at, id) = (params.len() - 1, params.len());
        conditions.push(format!(
            "(e.occurred_at > ${at} OR (e.occurred_at = ${at} AND e.id > ${id}))"
        ));
    }
    // One more than the page, to know whether another page follows.
    params.push(((limit + 1) as i64).into());
    // Without superseded entries, nothing on the page is superseded: skip the lookup.
    let superseded_by = if query.include_superseded {
        "(SELECT MAX(s.id) FROM entries s WHERE s.supersedes = e.id)"
    } else {
        "NULL"
    };
    // The page is chosen and ordered narrow; each entry's body and records come from the
    // cache, and those it lacks from the database, then whose each record is now.
    let sql_text = format!(
        "SELECT e.id, e.occurred_at, e.received_at, {superseded_by} FROM entries e WHERE {}
         ORDER BY e.occurred_at, e.id LIMIT ${}",
        conditions.join(" AND "),
        params.len()
    );
    let rows = sql.query(&sql_text, &params)?;
    let mut listed = Vec::with_capacity(limit.min(rows.len()));
    let mut next = None;
    for row in &rows {
        if listed.len() == limit {
            // The extra entry only says that another page follows this one.
            next = listed.last().map(|(cursor, _, _): &(Cursor, _, _)| *cursor);
            break;
        }
        let id = EntryId(parse_id(row.text(0)?)?);
        let received = row.int(2)?;
        let received_at = DateTime::from_timestamp_micros(received)
            .ok_or_else(|| StoreError::Corrupt(format!("received_at {received}")))?;
        let superseded_by = row
            .opt_text(3)?
            .map(|s| parse_id(s).map(EntryId))
            .transpose()?;
        listed.push((
            Cursor {
                occurred_at: row.int(1)?,
                id,
            },
            received_at,
            superseded_by,
        ));
    }
    let ids: Vec<EntryId> = listed.iter().map(|(cursor, ..)| cursor.id).collect();
    let cached = cached_entries(sql, bodies, &ids)?;
    let records: Vec<Value> = cached
        .iter()
        .flat_map(|entry| entry.records.iter())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|record| record.as_str().into())
        .collect();
    let mut person_of: HashMap<String, PersonId> = HashMap::with_capacity(records.len());
    if !records.is_empty() {
        for row in sql.query(
            &format!(
                "SELECT id, person_id FROM person_records WHERE id IN ({})",
                placeholders(0, records.len())
            ),
            &records,
        )? {
            person_of.insert(row.text(0)?.to_owned(), PersonId(parse_id(row.text(1)?)?));
        }
    }
    let entries = listed
        .into_iter()
        .zip(cached)
        .map(|((cursor, received_at, superseded_by), cached)| {
            let person_ids = cached
                .records
                .iter()
                .map(|record| {
                    person_of.get(record).copied().ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "entry {} names no record {record}",
                            cursor.id.0
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ChronologyEntry {
                id: cursor.id,
                received_at,
                person_ids,
                superseded_by,
                entry: EntryJson(cached.body),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(ChronologyPage { entries, next })
}

/// Each entry's body and records, in the order of `ids`: from the cache, and those it lacks
/// from the database (then cached).
fn cached_entries(
    sql: &mut dyn Sql,
    cache: &BodyCache,
    ids: &[EntryId],
) -> Result<Vec<CachedEntry>, StoreError> {
    let mut found: Vec<Option<CachedEntry>> = ids.iter().map(|id| cache.get(id)).collect();
    let missing: Vec<Value> = ids
        .iter()
        .zip(&found)
        .filter(|(_, entry)| entry.is_none())
        .map(|(id, _)| id.to_string().into())
        .collect();
    if !missing.is_empty() {
        let list = placeholders(0, missing.len());
        let mut records: HashMap<EntryId, Vec<String>> = HashMap::with_capacity(missing.len());
        for row in sql.query(
            &format!(
                "SELECT entry_id, record_id FROM entry_persons WHERE entry_id IN ({list})
                 ORDER BY entry_id, position"
            ),
            &missing,
        )? {
            records
                .entry(EntryId(parse_id(row.text(0)?)?))
                .or_default()
                .push(row.text(1)?.to_owned());
        }
        let mut read: HashMap<EntryId, CachedEntry> = HashMap::with_capacity(missing.len());
        for row in sql.query(
            &format!("SELECT id, body FROM entries WHERE id IN ({list})"),
            &missing,
        )? {
            let id = EntryId(parse_id(row.text(0)?)?);
            let body = RawValue::from_string(row.text(1)?.to_owned())
                .map_err(|e| StoreError::Corrupt(format!("entry body: {e}")))?;
            let entry = CachedEntry {
                body: Arc::from(body),
                records: records.remove(&id).unwrap_or_default().into(),
            };
            cache.insert(id, entry.clone());
            read.insert(id, entry);
        }
        for (id, entry) in ids.iter().zip(&mut found) {
            if entry.is_none() {
                *entry = read.remove(id);
            }
        }
    }
    ids.iter()
        .zip(found)
        .map(|(id, entry)| {
            entry.ok_or_else(|| StoreError::Corrupt(format!("entry {} has no body", id.0)))
        })
        .collect()
}

pub(crate) fn household(
    sql: &mut dyn Sql,
    subject: PersonId,
    date: NaiveDate,
    around_days: i64,
) -> Result<Household, StoreError> {
    const NOT_SUPERSEDED: &str =
        "NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = x.entry_id)";
    // Every residence at any address the subject was ever stated to live at: the pure
    // derivation picks what was in force on the date.
    let rows = sql.query(
        &format!(
            "SELECT p.person_id, x.address, x.valid_from, x.valid_to, x.strength, x.entry_id
             FROM residences x JOIN person_records p ON p.id = x.record_id
             WHERE {NOT_SUPERSEDED} AND x.address_key IN (
                 SELECT r2.address_key FROM residences r2
                 JOIN person_records p2 ON p2.id = r2.record_id WHERE p2.person_id = $1)"
        ),
        &[subject.to_string().into()],
    )?;
    let residences = rows
        .iter()
        .map(|row| {
            Ok(Residence {
                person: PersonId(parse_id(row.text(0)?)?),
                address: json(row.text(1)?)?,
                validity: validity(row, 2)?,
                strength: strength(row.text(4)?)?,
                entry: EntryId(parse_id(row.text(5)?)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;

    let mut people: BTreeSet<PersonId> = residences.iter().map(|r| r.person).collect();
    people.insert(subject);
    let ids: Vec<Value> = people.iter().map(|p| p.to_string().into()).collect();
    let list = placeholders(0, ids.len());
    let rows = sql.query(
        &format!(
            "SELECT a.person_id, x.kind, b.person_id, x.valid_from, x.valid_to, x.strength, x.entry_id
             FROM relationships x
             JOIN person_records a ON a.id = x.record_id
             JOIN person_records b ON b.id = x.other_record_id
             WHERE {NOT_SUPERSEDED} AND (a.person_id IN ({list}) OR b.person_id IN ({list}))"
        ),
        &ids,
    )?;
    let relationships = rows
        .iter()
        .map(|row| {
            Ok(Relationship {
                person: PersonId(parse_id(row.text(0)?)?),
                kind: RelationshipKind::parse(row.text(1)?).ok_or_else(|| {
                    StoreError::Corrupt(format!("relationship {:?}", row.text(1)))
                })?,
                other: PersonId(parse_id(row.text(2)?)?),
                validity: validity(row, 3)?,
                strength: strength(row.text(5)?)?,
                entry: EntryId(parse_id(row.text(6)?)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Everyone named with the subject in the window, in their parts.
    let rows = sql.query(
        "SELECT e.id, e.occurred_at, ep2.role, r2.person_id FROM entries e
         JOIN entry_persons ep ON ep.entry_id = e.id
         JOIN person_records r ON r.id = ep.record_id
         JOIN entry_persons ep2 ON ep2.entry_id = e.id
         JOIN person_records r2 ON r2.id = ep2.record_id
         WHERE r.person_id = $1 AND r2.person_id <> $1
           AND e.occurred_at >= $2 AND e.occurred_at < $3
           AND NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.id)",
        &[
            subject.to_string().into(),
            day_start(date - chrono::Duration::days(around_days)).into(),
            day_start(date + chrono::Duration::days(1)).into(),
        ],
    )?;
    let presences = rows
        .iter()
        .map(|row| {
            let role: ParticipantRole =
                serde_json::from_value(serde_json::Value::from(row.text(2)?))
                    .map_err(|e| StoreError::Corrupt(format!("role: {e}")))?;
            Ok(Presence {
                entry: EntryId(parse_id(row.text(0)?)?),
                date: OccurredAt::from_sort_key(row.int(1)?, safeguard_core::Precision::Day)
                    .ok_or_else(|| StoreError::Corrupt("occurred_at".into()))?
                    .date(),
                role,
                person: PersonId(parse_id(row.text(3)?)?),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(with_people_around(
        household_at(subject, date, &residences, &relationships),
        &presences,
        around_days,
    ))
}

fn validity(row: &Row, from_column: usize) -> Result<Validity, StoreError> {
    let date = |t: &str| {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("date {t:?}: {e}")))
    };
    Ok(Validity {
        from: date(row.text(from_column)?)?,
        to: row.opt_text(from_column + 1)?.map(date).transpose()?,
    })
}

fn strength(text: &str) -> Result<EvidenceStrength, StoreError> {
    EvidenceStrength::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("evidence strength {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            occurred_at: 1_165_847_400,
            id: EntryId(uuid::Uuid::from_u128(7)),
        };
        assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        assert!("12".parse::<Cursor>().is_err());
        assert!("x.y".parse::<Cursor>().is_err());
    }
}
