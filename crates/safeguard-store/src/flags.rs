//! Flags on children's records: re-evaluated when an entry about a child arrives (or when the
//! rules change), and stored only by difference, each change audited.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use safeguard_core::rules::{Child, ChronologyItem, Flag, RuleBook, Severity};
use safeguard_core::{EntryId, PartialDate, PersonId};
use serde::Serialize;

use crate::append::parse_id;
use crate::audit::{self, AuditEvent};
use crate::sql::{Row, Sql, SqlExt};
use crate::{Actor, Store, StoreError};

/// A flag as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFlag {
    /// The flag.
    #[serde(flatten)]
    pub flag: Flag,
    /// When Safeguard raised it.
    pub raised_at: chrono::DateTime<Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<Utc>,
}

/// What a re-evaluation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagChanges {
    /// Flags raised now.
    pub raised: Vec<Flag>,
    /// Flags whose entries or wording changed.
    pub updated: Vec<Flag>,
    /// Keys of flags that no longer hold.
    pub resolved: Vec<String>,
    /// The evaluation failed: the child keeps the flags they had, and the failure is listed
    /// by [`Store::evaluation_failures`].
    pub failed: bool,
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// What re-evaluating every child changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reevaluated {
    /// Children evaluated.
    pub children: usize,
    /// Flags raised.
    pub raised: usize,
    /// Flags updated.
    pub updated: usize,
    /// Flags resolved.
    pub resolved: usize,
    /// Children that could not be evaluated.
    pub failed: usize,
}

/// A child whose rules could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvaluationFailure {
    /// The child.
    pub person: PersonId,
    /// Why (a year missing from the calendar, a rule that erred).
    pub reason: String,
    /// When it first failed (RFC 3339).
    pub first_failed_at: String,
    /// When it last failed (RFC 3339).
    pub last_failed_at: String,
    /// How many evaluations failed since the last that succeeded.
    pub attempts: i64,
}

fn micros_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// What a stored flag is about, from its key (`rule:about:first-entry`).
fn about_in_key(rule: &str, key: &str) -> Option<String> {
    let rest = key.strip_prefix(rule)?.strip_prefix(':')?;
    let (about, _first_entry) = rest.rsplit_once(':')?;
    Some(about.to_owned())
}

pub(crate) fn flag_from(row: &Row) -> Result<StoredFlag, StoreError> {
    let at = |i| {
        row.int(i).and_then(|t| {
            chrono::DateTime::from_timestamp_micros(t).ok_or_else(|| corrupt("a flag time"))
        })
    };
    Ok(StoredFlag {
        flag: Flag {
            rule: row.text(0)?.to_owned(),
            severity: serde_json::from_value(serde_json::Value::from(row.text(1)?))
                .map_err(corrupt)?,
            first_knowable: NaiveDate::parse_from_str(row.text(2)?, "%Y-%m-%d").map_err(corrupt)?,
            sentence: row.text(3)?.to_owned(),
            entries: row
                .text(4)?
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|id| parse_id(id).map(EntryId))
                .collect::<Result<_, _>>()?,
            parameters: serde_json::from_str(row.text(5)?).map_err(corrupt)?,
            about: about_in_key(row.text(0)?, row.text(8)?),
        },
        raised_at: at(6)?,
        updated_at: at(7)?,
    })
}

/// Entries decoded for the rules, with their participants' records in order. Entries never
/// change once stored, so a decoded entry stays true in every process.
#[derive(Clone)]
pub(crate) struct DecodedEntry {
    entry: std::sync::Arc<safeguard_core::Entry>,
    details: std::sync::Arc<serde_json::Value>,
    records: std::sync::Arc<[String]>,
}

/// Reads and decodes entries, with their participants' records.
fn decode_entries(
    sql: &mut dyn Sql,
    ids: &[EntryId],
) -> Result<Vec<(EntryId, DecodedEntry)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Few statement shapes, padded with NULLs to a power of two, so that prepared statements
    // are reused and one new entry (an append's usual case) binds one parameter, not a hundred.
    const CHUNK: usize = 128;
    let mut decoded = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let width = chunk.len().next_power_of_two();
        let bodies = format!(
            "SELECT id, body FROM entries WHERE id IN ({})",
            crate::sql::placeholders(0, width)
        );
        let participants = format!(
            "SELECT entry_id, record_id FROM entry_persons WHERE entry_id IN ({}) ORDER BY entry_id, position",
            crate::sql::placeholders(0, width)
        );
        let mut values: Vec<crate::sql::Value> =
            chunk.iter().map(|id| id.to_string().into()).collect();
        values.resize(width, crate::sql::Value::Null);
        let mut records: HashMap<EntryId, Vec<String>> = HashMap::with_capacity(chunk.len());
        for row in sql.query(&participants, &values)? {
            records
                .entry(EntryId(parse_id(row.text(0)?)?))
                .or_default()
                .push(row.text(1)?.to_owned());
        }
        for row in sql.query(&bodies, &values)? {
            let id = EntryId(parse_id(row.text(0)?)?);
            let entry: safeguard_core::Entry =
                serde_json::from_str(row.text(1)?).map_err(corrupt)?;
            let details = std::sync::Arc::new(safeguard_core::rules::details_json(&entry));
            decoded.push((
                id,
                DecodedEntry {
                    entry: std::sync::Arc::new(entry),
                    details,
                    records: records.remove(&id).unwrap_or_default().into(),
                },
            ));
        }
    }
    Ok(decoded)
}

/// Decoded entries kept in memory at most (about 3 KiB each, with their details as JSON).
const MAX_DECODED: usize = 200_000;

pub(crate) const FLAG_COLUMNS: &str = "rule, severity, first_knowable, sentence, entries, parameters, raised_at, updated_at, flag_key";

/// The persons an entry names in `role` (`subject_child`, `subject_adult`).
fn persons_in_role(
    sql: &mut dyn Sql,
    entry: EntryId,
    role: &str,
) -> Result<Vec<PersonId>, StoreError> {
    person_ids(sql.query(
        "SELECT r.person_id FROM entry_persons ep JOIN person_records r ON r.id = ep.record_id
         WHERE ep.entry_id = $1 AND ep.role = $2",
        &[entry.to_string().into(), role.into()],
    )?)
}

/// The children an entry is about (its subject children's persons).
fn subject_children_in(sql: &mut dyn Sql, entry: EntryId) -> Result<Vec<PersonId>, StoreError> {
    persons_in_role(sql, entry, "subject_child")
}

/// Persons in the first column of `rows`.
fn person_ids(rows: Vec<Row>) -> Result<Vec<PersonId>, StoreError> {
    rows.iter()
        .map(|row| parse_id(row.text(0)?).map(PersonId))
        .collect()
}

/// The entries (not superseded) naming `person` in `role`.
fn entries_as(sql: &mut dyn Sql, person: PersonId, role: &str) -> Result<Vec<EntryId>, StoreError> {
    sql.query(
        "SELECT ep.entry_id FROM entry_persons ep JOIN person_records r ON r.id = ep.record_id
         WHERE r.person_id = $1 AND ep.role = $2
           AND NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = ep.entry_id)",
        &[person.to_string().into(), role.into()],
    )?
    .iter()
    .map(|row| parse_id(row.text(0)?).map(EntryId))
    .collect()
}

/// The most siblings a child's evaluation reads: a household, not a parent record shared by
/// mistake across a town.
const MAX_SIBLINGS: usize = 20;

/// The subject children, other than `child`, of entries naming one of `parents` as a parent.
fn children_of_parents_in(
    sql: &mut dyn Sql,
    child: PersonId,
    parents: &[PersonId],
) -> Result<Vec<PersonId>, StoreError> {
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let parents = &parents[..parents.len().min(MAX_SIBLINGS)];
    let mut values: Vec<crate::sql::Value> = vec![child.to_string().into()];
    values.extend(parents.iter().map(|p| p.to_string().into()));
    person_ids(sql.query(
        &format!(
            "SELECT DISTINCT sr.person_id FROM person_records pr
             JOIN parent_children pc ON pc.parent_record_id = pr.id
             JOIN person_records sr ON sr.id = pc.child_record_id
             WHERE pr.person_id IN ({}) AND sr.person_id <> $1
             ORDER BY sr.person_id LIMIT {MAX_SIBLINGS}",
            crate::sql::placeholders(1, parents.len())
        ),
        &values,
    )?)
}

/// Who is around a child, as the child's own entries (not superseded) name them.
struct AdultsAround {
    /// Named as a parent.
    parents: Vec<PersonId>,
    /// Named as a parent, a carer or another adult present: at most [`MAX_SIBLINGS`].
    adults: Vec<PersonId>,
}

fn adults_around(child: PersonId, chronology: &[ChronologyItem]) -> AdultsAround {
    use safeguard_core::ParticipantRole::{Carer, OtherAdultPresent, Parent, SubjectChild};
    let mut parents = std::collections::BTreeSet::new();
    let mut adults = std::collections::BTreeSet::new();
    for item in chronology {
        let named = || item.entry.persons.iter().zip(&item.person_ids);
        if !named().any(|(p, id)| p.role == SubjectChild && *id == child) {
            continue;
        }
        for (p, id) in named() {
            if p.role == Parent {
                parents.insert(*id);
            }
            if matches!(p.role, Parent | Carer | OtherAdultPresent) {
                adults.insert(*id);
            }
        }
    }
    AdultsAround {
        parents: parents.into_iter().collect(),
        adults: adults.into_iter().take(MAX_SIBLINGS).collect(),
    }
}

/// The children around an adult: those whose entries name the adult as a parent, carer or
/// other adult present.
fn children_around_in(sql: &mut dyn Sql, adult: PersonId) -> Result<Vec<PersonId>, StoreError> {
    person_ids(sql.query(
        &format!(
            "SELECT DISTINCT cr.person_id FROM person_records ar
             JOIN entry_persons a ON a.record_id = ar.id
                 AND a.role IN ('parent', 'carer', 'other_adult_present')
             JOIN entry_persons c ON c.entry_id = a.entry_id AND c.role = 'subject_child'
             JOIN person_records cr ON cr.id = c.record_id
             WHERE ar.person_id = $1
             ORDER BY cr.person_id LIMIT {MAX_SIBLINGS}"
        ),
        &[adult.to_string().into()],
    )?)
}

impl Store {
    /// A child as the rules see them: their most precise date of birth and every entry (not
    /// superseded), oldest first. Entries already decoded are reused, not read again.
    pub fn child(&self, person: PersonId) -> Result<Option<Child>, StoreError> {
        Ok(self
            .read(|sql| self.child_in(sql, person))?
            .map(|(child, _)| child))
    }

    /// The child as the rules see them, with their siblings (found on the way, and wanted by
    /// an append, whose entry can change what a sibling's household shows).
    fn child_in(
        &self,
        sql: &mut dyn Sql,
        person: PersonId,
    ) -> Result<Option<(Child, Vec<PersonId>)>, StoreError> {
        // The dates of birth the person's records hold (kept as a search column), not the
        // records themselves: parsing every record on every append is what a long
        // chronology cannot afford.
        let rows = sql.query(
            "SELECT date_of_birth FROM person_records WHERE person_id = $1",
            &[person.to_string().into()],
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        let precision = |d: &PartialDate| match d {
            PartialDate::Day(_) => 2,
            PartialDate::Month(..) => 1,
            PartialDate::Year(_) => 0,
        };
        let mut dates = Vec::new();
        for row in &rows {
            if let Some(text) = row.opt_text(0)? {
                dates.push(PartialDate::parse(text).map_err(corrupt)?);
            }
        }
        let date_of_birth = dates.into_iter().max_by_key(precision);
        // The entries the person's records take part in, less those superseded. Entries and
        // their participants never change once stored, so each is decoded once per process and
        // ordered here; only the participants' persons (which linkage moves) are read afresh.
        let ids: std::collections::BTreeSet<EntryId> = sql
            .query(
                "SELECT ep.entry_id FROM entry_persons ep JOIN person_records r ON r.id = ep.record_id
                 WHERE r.person_id = $1
                   AND NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = ep.entry_id)",
                &[person.to_string().into()],
            )?
            .iter()
            .map(|row| parse_id(row.text(0)?).map(EntryId))
            .collect::<Result<_, _>>()?;
        let chronology = self.items_in(sql, &ids)?;
        // The household: entries about the child's siblings (other children of the child's
        // parents) that do not name the child, for the rules that look across children; and
        // the records of the adults around the child whose subject is the adult. Who the
        // parents and adults are is read off the child's own entries, already in hand.
        let around = adults_around(person, &chronology);
        let mut household_ids = std::collections::BTreeSet::new();
        let siblings = children_of_parents_in(sql, person, &around.parents)?;
        for sibling in &siblings {
            household_ids.extend(entries_as(sql, *sibling, "subject_child")?);
        }
        for adult in around.adults {
            household_ids.extend(entries_as(sql, adult, "subject_adult")?);
        }
        household_ids.retain(|id| !ids.contains(id));
        let household = self.items_in(sql, &household_ids)?;
        Ok(Some((
            Child {
                person,
                date_of_birth,
                chronology,
                household,
            },
            siblings,
        )))
    }

    /// Entries as the rules see them, decoded once per process, with their participants'
    /// persons read afresh, in time order.
    fn items_in(
        &self,
        sql: &mut dyn Sql,
        ids: &std::collections::BTreeSet<EntryId>,
    ) -> Result<Vec<ChronologyItem>, StoreError> {
        let missing: Vec<EntryId> = {
            let decoded = self.inner.decoded.lock().unwrap_or_else(|e| e.into_inner());
            ids.iter()
                .filter(|id| !decoded.contains_key(id))
                .copied()
                .collect()
        };
        let fresh = decode_entries(sql, &missing)?;
        let entries: Vec<(EntryId, DecodedEntry)> = {
            let mut decoded = self.inner.decoded.lock().unwrap_or_else(|e| e.into_inner());
            if decoded.len() + fresh.len() > MAX_DECODED {
                decoded.clear();
            }
            decoded.extend(fresh);
            ids.iter()
                .map(|id| {
                    decoded
                        .get(id)
                        .map(|d| (*id, d.clone()))
                        .ok_or_else(|| corrupt(format!("entry {id} vanished")))
                })
                .collect::<Result<_, _>>()?
        };
        // The persons of the few distinct records taking part: one lookup per record rather
        // than one per participant of every entry.
        let records: std::collections::BTreeSet<&str> = entries
            .iter()
            .flat_map(|(_, d)| d.records.iter().map(String::as_str))
            .collect();
        let records: Vec<&str> = records.into_iter().collect();
        let mut person_of: HashMap<String, PersonId> = HashMap::with_capacity(records.len());
        for chunk in records.chunks(500) {
            let values: Vec<crate::sql::Value> = chunk.iter().map(|r| (*r).into()).collect();
            for row in sql.query(
                &format!(
                    "SELECT id, person_id FROM person_records WHERE id IN ({})",
                    crate::sql::placeholders(0, values.len())
                ),
                &values,
            )? {
                person_of.insert(row.text(0)?.to_owned(), PersonId(parse_id(row.text(1)?)?));
            }
        }
        let mut chronology = entries
            .iter()
            .map(|(id, decoded)| {
                let person_ids = decoded
                    .records
                    .iter()
                    .map(|r| {
                        person_of
                            .get(r.as_str())
                            .copied()
                            .ok_or_else(|| corrupt(format!("record {r} vanished")))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ChronologyItem {
                    id: *id,
                    entry: decoded.entry.clone(),
                    details: decoded.details.clone(),
                    person_ids,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // The order the chronology query used to give: when it happened, then the entry's id.
        chronology.sort_by_key(|item| (item.entry.occurred_at.sort_key(), item.id));
        Ok(chronology)
    }

    /// The flags open on a child's record, most severe and earliest first.
    pub fn flags(&self, person: PersonId) -> Result<Vec<StoredFlag>, StoreError> {
        let mut flags = self.read(|sql| {
            sql.query(
                &format!(
                    "SELECT {FLAG_COLUMNS} FROM flags WHERE person_id = $1 AND resolved_at IS NULL"
                ),
                &[person.to_string().into()],
            )?
            .iter()
            .map(flag_from)
            .collect::<Result<Vec<_>, _>>()
        })?;
        sort_flags(&mut flags);
        Ok(flags)
    }

    /// The open flags of each of `children`, as [`Store::flags`] gives them, from one
    /// snapshot: a caseload's hundreds of children in a few queries, not a read each.
    pub fn flags_of(
        &self,
        children: &[PersonId],
    ) -> Result<Vec<(PersonId, StoredFlag)>, StoreError> {
        let mut by_child: std::collections::BTreeMap<PersonId, Vec<StoredFlag>> =
            std::collections::BTreeMap::new();
        let person_column = FLAG_COLUMNS.split(", ").count();
        self.read(|sql| {
            for chunk in children.chunks(500) {
                let values: Vec<crate::sql::Value> =
                    chunk.iter().map(|c| c.to_string().into()).collect();
                for row in sql.query(
                    &format!(
                        "SELECT {FLAG_COLUMNS}, person_id FROM flags
                         WHERE resolved_at IS NULL AND person_id IN ({})",
                        crate::sql::placeholders(0, values.len())
                    ),
                    &values,
                )? {
                    let child = PersonId(parse_id(row.text(person_column)?)?);
                    by_child.entry(child).or_default().push(flag_from(&row)?);
                }
            }
            Ok(())
        })?;
        Ok(by_child
            .into_iter()
            .flat_map(|(child, mut flags)| {
                sort_flags(&mut flags);
                flags.into_iter().map(move |f| (child, f))
            })
            .collect())
    }

    /// Re-evaluates a child's flags as of `as_of` and stores the difference, auditing each
    /// change. A person who is not a child on any entry has no flags.
    pub fn refresh_flags(
        &self,
        actor: &Actor,
        person: PersonId,
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<FlagChanges, StoreError> {
        self.write(|sql| self.refresh_flags_in(sql, actor, person, book, as_of))
    }

    /// [`Store::refresh_flags`] in the caller's transaction, reading what it has written.
    pub(crate) fn refresh_flags_in(
        &self,
        sql: &mut dyn Sql,
        actor: &Actor,
        person: PersonId,
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<FlagChanges, StoreError> {
        Ok(self
            .refresh_child_in(sql, actor, person, book, as_of)?
            .map(|refreshed| refreshed.changes)
            .unwrap_or_default())
    }

    /// [`Store::refresh_flags_in`], giving also what an append goes on to need of the child
    /// read for it; `None` for a person who is not a child on any entry.
    fn refresh_child_in(
        &self,
        sql: &mut dyn Sql,
        actor: &Actor,
        person: PersonId,
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<Option<Refreshed>, StoreError> {
        let Some((child, siblings)) = self.child_in(sql, person)? else {
            return Ok(None);
        };
        let on_plan = child.on_plan();
        let now = Utc::now().timestamp_micros();
        // Recording never waits on evaluation: a child that cannot be evaluated keeps the
        // flags it had, and the failure waits, visible, until an evaluation succeeds.
        let flags = match book.evaluate_with_horizon(&child, as_of) {
            Ok(evaluation) => {
                sql.execute(
                    "DELETE FROM evaluation_failures WHERE person_id = $1",
                    &[person.to_string().into()],
                )?;
                set_horizon(sql, person, as_of, evaluation.changes_on)?;
                evaluation.flags
            }
            Err(e) => {
                // Tried again at the next tick.
                set_horizon(sql, person, as_of, Some(as_of + chrono::Duration::days(1)))?;
                let reason = e.to_string();
                sql.execute(
                    "INSERT INTO evaluation_failures (person_id, reason, first_failed_at, last_failed_at, attempts)
                     VALUES ($1, $2, $3, $3, 1)
                     ON CONFLICT (person_id) DO UPDATE SET reason = excluded.reason,
                         last_failed_at = excluded.last_failed_at,
                         attempts = evaluation_failures.attempts + 1",
                    &[person.to_string().into(), reason.as_str().into(), now.into()],
                )?;
                audit::append_events(
                    sql,
                    actor,
                    now,
                    &[AuditEvent {
                        reason: Some(reason),
                        ..AuditEvent::new("evaluation_failed", person.to_string())
                    }],
                )?;
                return Ok(Some(Refreshed {
                    changes: FlagChanges {
                        failed: true,
                        ..FlagChanges::default()
                    },
                    siblings,
                    on_plan,
                }));
            }
        };
        {
            // Open flags as stored text, compared with the new flags written the same way: a
            // long chronology's dozens of flags are compared, not parsed, on every append.
            let rows = sql.query(
                "SELECT flag_key, rule, severity, first_knowable, sentence, entries, parameters
                 FROM flags WHERE person_id = $1 AND resolved_at IS NULL",
                &[person.to_string().into()],
            )?;
            let open: HashMap<&str, &Row> = rows
                .iter()
                .map(|r| Ok((r.text(0)?, r)))
                .collect::<Result<_, StoreError>>()?;
            let mut parameters_text: HashMap<&str, String> = HashMap::new();
            let mut changes = FlagChanges::default();
            let mut seen = std::collections::BTreeSet::new();
            for flag in &flags {
                let key = flag.key();
                if !seen.insert(key.clone()) {
                    // Keys are unique by construction (rule, what it is about, first entry).
                    return Err(StoreError::Corrupt(format!(
                        "two flags share the key {key}"
                    )));
                }
                let text = [
                    flag.rule.clone(),
                    severity_text(flag.severity).to_owned(),
                    flag.first_knowable.to_string(),
                    flag.sentence.clone(),
                    flag.entries
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    parameters_text
                        .entry(flag.rule.as_str())
                        .or_insert_with(|| flag.parameters.to_string())
                        .clone(),
                ];
                let stored = open.get(key.as_str());
                let mut unchanged = stored.is_some();
                if let Some(row) = stored {
                    for (i, t) in text.iter().enumerate() {
                        unchanged &= row.text(i + 1)? == t;
                    }
                }
                if unchanged {
                    continue;
                }
                let flag = flag.clone();
                let mut values: Vec<crate::sql::Value> =
                    vec![person.to_string().into(), key.as_str().into()];
                values.extend(text.into_iter().map(crate::sql::Value::from));
                values.push(now.into());
                match stored {
                    Some(_) => {
                        sql.execute(
                            "UPDATE flags SET rule = $3, severity = $4, first_knowable = $5, sentence = $6,
                                 entries = $7, parameters = $8, updated_at = $9
                             WHERE person_id = $1 AND flag_key = $2",
                            &values,
                        )?;
                        changes.updated.push(flag);
                    }
                    None => {
                        // A flag resolved before and raised again is raised anew.
                        sql.execute(
                            "DELETE FROM flags WHERE person_id = $1 AND flag_key = $2",
                            &values[..2],
                        )?;
                        sql.execute(
                            "INSERT INTO flags (person_id, flag_key, rule, severity, first_knowable, sentence,
                                 entries, parameters, raised_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                            &values,
                        )?;
                        changes.raised.push(flag);
                    }
                }
            }
            let mut resolved: Vec<&str> = open
                .keys()
                .filter(|k| !seen.contains(**k))
                .copied()
                .collect();
            resolved.sort_unstable();
            for key in resolved {
                sql.execute(
                    "UPDATE flags SET resolved_at = $3 WHERE person_id = $1 AND flag_key = $2",
                    &[person.to_string().into(), key.into(), now.into()],
                )?;
                changes.resolved.push(key.to_owned());
            }
            // Escalations: the team managers of the agencies holding the child hear of flags
            // whose rule escalates.
            for flag in changes
                .raised
                .iter()
                .filter(|f| book.rules.iter().any(|r| r.id == f.rule && r.escalate))
            {
                let managers = sql.query(
                    "SELECT DISTINCT u.id FROM allocations a
                     JOIN users worker ON worker.id = a.user_id
                     JOIN users u ON u.agency_id = worker.agency_id
                     WHERE a.person_id = $1 AND a.ended_at IS NULL AND u.disabled = 0
                       AND (',' || u.roles || ',') LIKE '%,team_manager,%'",
                    &[person.to_string().into()],
                )?;
                let Some(first) = flag.entries.first() else {
                    continue;
                };
                for m in &managers {
                    let reason = format!("Escalated: {}", flag.sentence);
                    crate::alerts::insert_alert(
                        sql,
                        m.text(0)?,
                        person,
                        *first,
                        now,
                        Some(reason),
                    )?;
                }
            }
            let subject = person.to_string();
            let event = |action: &str, key: String| AuditEvent {
                reason: Some(key),
                ..AuditEvent::new(action, subject.as_str())
            };
            let events: Vec<AuditEvent> = changes
                .raised
                .iter()
                .map(|f| event("flag_raised", f.key()))
                .chain(
                    changes
                        .updated
                        .iter()
                        .map(|f| event("flag_updated", f.key())),
                )
                .chain(
                    changes
                        .resolved
                        .iter()
                        .map(|k| event("flag_resolved", k.clone())),
                )
                .collect();
            audit::append_events(sql, actor, now, &events)?;
            Ok(Some(Refreshed {
                changes,
                siblings,
                on_plan,
            }))
        }
    }

    /// Re-evaluates every child as the record stood on `as_of`, storing the differences:
    /// after the rules change (`rules rerun`). A child that cannot be evaluated is counted in
    /// `failed` and listed by [`Store::evaluation_failures`]. `progress` hears after each
    /// child.
    pub fn reevaluate_all(
        &self,
        actor: &Actor,
        book: &RuleBook,
        as_of: NaiveDate,
        progress: impl FnMut(usize, usize),
    ) -> Result<Reevaluated, StoreError> {
        let children = self.all_subject_children()?;
        let totals = self.reevaluate(actor, book, as_of, &children, progress)?;
        self.write(|sql| set_book(sql, &book_fingerprint(book)))?;
        Ok(totals)
    }

    /// What time alone changes, as of `as_of` (`rules tick`, and `serve` at start and each
    /// new day): re-evaluates the children whose flags could have changed since they were
    /// last evaluated (a clock fallen due, a stretch unseen grown past its limit, an
    /// evaluation that failed), and no others, giving the flags a full re-evaluation would.
    /// Under another rule book than the last pass's, every child is re-evaluated.
    pub fn tick(
        &self,
        actor: &Actor,
        book: &RuleBook,
        as_of: NaiveDate,
        progress: impl FnMut(usize, usize),
    ) -> Result<Reevaluated, StoreError> {
        let fingerprint = book_fingerprint(book);
        let (same_book, due) = self.read(|sql| {
            let stored =
                sql.query_opt("SELECT fingerprint FROM evaluation_book WHERE id = 1", &[])?;
            let same_book = match stored {
                Some(row) => row.text(0)? == fingerprint,
                None => false,
            };
            let day = as_of.to_string();
            // Flags that may have changed by `as_of`, or that were worked out for a later day
            // (a tick for a day gone by).
            let rows = sql.query(
                "SELECT person_id FROM evaluation_horizons WHERE changes_on <= $1
                 UNION SELECT person_id FROM evaluation_horizons WHERE evaluated_on > $1",
                &[day.as_str().into()],
            )?;
            let due = rows
                .iter()
                .map(|r| r.text(0)?.parse().map_err(corrupt))
                .collect::<Result<Vec<PersonId>, StoreError>>()?;
            Ok((same_book, due))
        })?;
        let totals = if same_book {
            self.reevaluate(actor, book, as_of, &due, progress)?
        } else {
            self.reevaluate_all(actor, book, as_of, progress)?
        };
        self.refresh_statistics()?;
        Ok(totals)
    }

    /// Once a day, SQLite's planner statistics, sampled (`analysis_limit`) so that it takes a
    /// moment at any size: a store that started empty is otherwise planned as the empty store
    /// it was, and a query can go in by the wrong index as the record grows. PostgreSQL's
    /// autovacuum keeps its own.
    fn refresh_statistics(&self) -> Result<(), StoreError> {
        if self.engine_name() == "sqlite" {
            self.write(|sql| sql.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE"))?;
        }
        Ok(())
    }

    /// Re-evaluates `children`, many to a transaction (so that a pass is not a commit per
    /// child, yet appends wait for one chunk at most).
    fn reevaluate(
        &self,
        actor: &Actor,
        book: &RuleBook,
        as_of: NaiveDate,
        children: &[PersonId],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Reevaluated, StoreError> {
        /// Children evaluated in one transaction.
        const CHILDREN_PER_TRANSACTION: usize = 256;
        let mut totals = Reevaluated {
            children: children.len(),
            ..Reevaluated::default()
        };
        let mut done = 0;
        for chunk in children.chunks(CHILDREN_PER_TRANSACTION) {
            let changes = self.write(|sql| {
                chunk
                    .iter()
                    .map(|child| self.refresh_flags_in(sql, actor, *child, book, as_of))
                    .collect::<Result<Vec<_>, StoreError>>()
            })?;
            for c in changes {
                totals.raised += c.raised.len();
                totals.updated += c.updated.len();
                totals.resolved += c.resolved.len();
                totals.failed += usize::from(c.failed);
            }
            done += chunk.len();
            progress(done, totals.children);
        }
        Ok(totals)
    }

    /// Children whose rules or clocks could not be evaluated, with why, most recent first.
    pub fn evaluation_failures(&self) -> Result<Vec<EvaluationFailure>, StoreError> {
        self.read(|sql| {
            sql.query(
                "SELECT person_id, reason, first_failed_at, last_failed_at, attempts
                 FROM evaluation_failures ORDER BY last_failed_at DESC, person_id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(EvaluationFailure {
                    person: r.text(0)?.parse().map_err(corrupt)?,
                    reason: r.text(1)?.to_owned(),
                    first_failed_at: micros_text(r.int(2)?),
                    last_failed_at: micros_text(r.int(3)?),
                    attempts: r.int(4)?,
                })
            })
            .collect()
        })
    }

    /// Appends entries and, in the same transaction, re-evaluates the children they are about
    /// and raises the alerts they call for: one commit, so an entry is never stored without
    /// its consequences (and the write is made once).
    pub fn append_and_refresh(
        &self,
        actor: &Actor,
        entries: &[safeguard_core::Entry],
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<Vec<crate::Appended>, StoreError> {
        self.append_known_and_refresh(actor, entries, &[], book, as_of)
    }

    /// [`Store::append_and_refresh`], with participants the recorder chose among people
    /// already known (`known`, of the first entry) joined to those persons rather than
    /// placed by linkage.
    pub fn append_known_and_refresh(
        &self,
        actor: &Actor,
        entries: &[safeguard_core::Entry],
        known: &[crate::KnownParticipant],
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<Vec<crate::Appended>, StoreError> {
        self.check_appendable(entries)?;
        self.write(|sql| {
            if let Some(first) = entries.first() {
                crate::append::bind_known(sql, first, known)?;
            }
            let matcher = self.matcher_in(sql)?;
            let appended = crate::append::append(
                sql,
                actor,
                entries,
                &matcher,
                self.involvement_period_micros(),
            )?;
            self.join_births_in(sql, actor, entries, &appended)?;
            let created: Vec<EntryId> = appended
                .iter()
                .filter(|a| a.outcome == crate::Outcome::Created)
                .map(|a| a.id)
                .collect();
            let mut about = Vec::new();
            for entry in &created {
                for child in subject_children_in(sql, *entry)? {
                    about.push((*entry, child));
                }
            }
            let children: std::collections::BTreeSet<PersonId> =
                about.iter().map(|(_, child)| *child).collect();
            // An entry about one child can change what the household shows for a sibling (the
            // child's own evaluation finds them), and an agency's record of an adult what it
            // shows for the children around them.
            let mut household = std::collections::BTreeSet::new();
            let mut on_plan = HashMap::new();
            for child in &children {
                if let Some(refreshed) = self.refresh_child_in(sql, actor, *child, book, as_of)? {
                    household.extend(refreshed.siblings);
                    on_plan.insert(*child, refreshed.on_plan);
                }
            }
            let now = Utc::now().timestamp_micros();
            for (entry, child) in about {
                let on_plan = on_plan.get(&child).copied().unwrap_or(false);
                crate::alerts::raise_alerts_in(sql, entry, child, on_plan, now)?;
            }
            for entry in &created {
                for adult in persons_in_role(sql, *entry, "subject_adult")? {
                    household.extend(children_around_in(sql, adult)?);
                }
            }
            for child in household.difference(&children) {
                self.refresh_flags_in(sql, actor, *child, book, as_of)?;
            }
            Ok(appended)
        })
    }

    /// The children an entry is about (its subject children's persons).
    pub fn subject_children(&self, entries: &[EntryId]) -> Result<Vec<PersonId>, StoreError> {
        let mut children = std::collections::BTreeSet::new();
        self.read(|sql| {
            for id in entries {
                children.extend(subject_children_in(sql, *id)?);
            }
            Ok(())
        })?;
        Ok(children.into_iter().collect())
    }

    /// Every person who is the subject child of some entry.
    pub fn all_subject_children(&self) -> Result<Vec<PersonId>, StoreError> {
        self.read(|sql| {
            sql.query(
                "SELECT DISTINCT r.person_id FROM entry_persons ep JOIN person_records r ON r.id = ep.record_id
                 WHERE ep.role = 'subject_child' ORDER BY r.person_id",
                &[],
            )?
            .iter()
            .map(|r| parse_id(r.text(0)?).map(PersonId))
            .collect()
        })
    }
}

/// A child re-evaluated for an append: what changed, and what the append needs next of the
/// child as read for the evaluation.
struct Refreshed {
    changes: FlagChanges,
    /// The child's siblings, whose households the entry may change.
    siblings: Vec<PersonId>,
    /// Whether the child is on a plan (who hears of the entry).
    on_plan: bool,
}

/// Most severe first, then earliest, then by rule.
fn sort_flags(flags: &mut [StoredFlag]) {
    flags.sort_by(|a, b| {
        (b.flag.severity, a.flag.first_knowable, &a.flag.rule).cmp(&(
            a.flag.severity,
            b.flag.first_knowable,
            &b.flag.rule,
        ))
    });
}

/// Records until when a child's flags, evaluated as of `as_of`, hold.
fn set_horizon(
    sql: &mut dyn Sql,
    person: PersonId,
    as_of: NaiveDate,
    changes_on: Option<NaiveDate>,
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO evaluation_horizons (person_id, evaluated_on, changes_on) VALUES ($1, $2, $3)
         ON CONFLICT (person_id) DO UPDATE SET evaluated_on = excluded.evaluated_on,
             changes_on = excluded.changes_on",
        &[
            person.to_string().into(),
            as_of.to_string().into(),
            changes_on.map(|d| d.to_string()).into(),
        ],
    )?;
    Ok(())
}

fn set_book(sql: &mut dyn Sql, fingerprint: &str) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO evaluation_book (id, fingerprint) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
        &[fingerprint.into()],
    )?;
    Ok(())
}

/// The rule book's identity: its rules, clocks and calendar as parsed, hashed.
fn book_fingerprint(book: &RuleBook) -> String {
    use sha2::{Digest, Sha256};
    let parsed = format!("{:?}", (&book.rules, &book.clocks, &book.calendar));
    crate::migrate::hex(&Sha256::digest(parsed.as_bytes()))
}
