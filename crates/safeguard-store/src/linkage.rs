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

/// A decision a person made on two records: one person, or two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityDecision {
    /// The agencies of the two records.
    pub agencies: (String, String),
    /// The same person (else different people).
    pub same_person: bool,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: chrono::DateTime<chrono::Utc>,
    /// Why, as they wrote it.
    pub reason: String,
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

/// A record's blocking keys, as stored.
fn blocking_keys(record: &Prepared) -> BTreeSet<i64> {
    settings()
        .rules
        .iter()
        .filter_map(|rule| rule.key(record))
        .map(|k| k as i64)
        .collect()
}

/// Stores the blocking keys of a new record, in one statement.
pub(crate) fn insert_keys(
    sql: &mut dyn Sql,
    id: RecordId,
    record: &Prepared,
) -> Result<(), StoreError> {
    let keys = blocking_keys(record);
    if keys.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..keys.len())
        .map(|i| format!("(${}, $1)", i + 2))
        .collect();
    let mut params: Vec<Value> = vec![id.to_string().into()];
    params.extend(keys.into_iter().map(Value::from));
    sql.execute(
        &format!(
            "INSERT INTO person_record_keys (blocking_key, record_id) VALUES {}",
            rows.join(", ")
        ),
        &params,
    )?;
    Ok(())
}

/// Replaces a record's blocking keys with those of its current demographics, if they changed.
pub(crate) fn update_keys(
    sql: &mut dyn Sql,
    id: RecordId,
    record: &Prepared,
) -> Result<(), StoreError> {
    let stored: BTreeSet<i64> = sql
        .query(
            "SELECT blocking_key FROM person_record_keys WHERE record_id = $1",
            &[id.to_string().into()],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    if stored == blocking_keys(record) {
        return Ok(());
    }
    sql.execute(
        "DELETE FROM person_record_keys WHERE record_id = $1",
        &[id.to_string().into()],
    )?;
    insert_keys(sql, id, record)
}

/// Where a new record belongs: the person it joins, if any, and the records it should be
/// reviewed against, with the probability and why it was not joined.
pub(crate) struct NewRecordPlacement {
    pub(crate) joins: Option<PersonId>,
    pub(crate) review: Vec<(RecordId, f64, &'static str)>,
}

/// Matches a new record against the records that share a blocking key with it (`except` one,
/// the record itself when it is matched again after an update).
pub(crate) fn place_new_record(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    record: &Prepared,
    except: Option<RecordId>,
) -> Result<NewRecordPlacement, StoreError> {
    let settings = settings();
    let keys = blocking_keys(record);
    if keys.is_empty() {
        return Ok(NewRecordPlacement {
            joins: None,
            review: Vec::new(),
        });
    }
    // One round trip, one row per key a record shares (a nested query to fetch each record
    // once let PostgreSQL's planner scan whole tables). Keys shared by so many records that
    // they say nothing are left out, as in batch blocking.
    let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
    let rows = sql.query(
        &format!(
            "SELECT k.blocking_key, r.id, r.person_id, r.as_of, r.record
             FROM person_record_keys k JOIN person_records r ON r.id = k.record_id
             WHERE k.blocking_key IN ({})",
            placeholders(0, keys.len())
        ),
        &keys,
    )?;
    let mut block_sizes: HashMap<i64, usize> = HashMap::new();
    for row in &rows {
        *block_sizes.entry(row.int(0)?).or_default() += 1;
    }
    let mut seen: BTreeSet<RecordId> = BTreeSet::new();
    let mut candidates: Vec<(RecordId, PersonId, Arc<Prepared>)> = Vec::new();
    for row in &rows {
        let id = RecordId(parse_id(row.text(1)?)?);
        if block_sizes[&row.int(0)?] >= settings.max_block || Some(id) == except || !seen.insert(id)
        {
            continue;
        }
        let person = PersonId(parse_id(row.text(2)?)?);
        candidates.push((id, person, matcher.prepared(id, row.int(3)?, row.text(4)?)?));
    }
    // Ordered by record, so that the outcome does not depend on the order rows came back in.
    candidates.sort_by_key(|c| c.0);
    let matches: Vec<(PersonId, _)> = candidates
        .iter()
        .map(|(_, person, held)| (*person, matcher.trained.score(held, record)))
        .collect();
    let placement = linker::place(&matches, &settings);
    Ok(NewRecordPlacement {
        joins: placement.joins.map(|(person, _)| person),
        review: placement
            .review
            .into_iter()
            .map(|(i, why)| (candidates[i].0, matches[i].1.probability, why))
            .collect(),
    })
}

/// Why two persons are proposed as one when a record matches both strongly.
pub const ONE_PERSONS_PARTS: &str =
    "both strongly match one record of an agency: perhaps one person's parts";

/// Matches a record again after its agency updated it, in the update's transaction, as a new
/// record is matched: a maternity record of an unborn child that becomes the named baby, or a
/// corrected date of birth, finds the person its records now belong with. When it joins
/// another person, that person's records and its own person's are clustered afresh under every
/// decision (so a record alone moves, and a person holding more records moves with it only as
/// far as the weights agree), audited as any relink is. Likely matches it does not join are
/// proposed for review, and two persons it strongly matches are proposed as one person's
/// parts. Returns the record's person now.
pub(crate) fn rematch_updated(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    id: RecordId,
    person: PersonId,
    prepared: &Prepared,
    now: i64,
    events: &mut Vec<AuditEvent>,
) -> Result<PersonId, StoreError> {
    let placement = place_new_record(sql, matcher, prepared, Some(id))?;
    if let Some(other) = placement.joins.filter(|q| *q != person) {
        // The person joined first, so that it survives a tie.
        let mut held = holdings(sql, Some(other))?;
        let mine = holdings(sql, Some(person))?;
        held.ids.extend(mine.ids);
        held.persons.extend(mine.persons);
        held.json.extend(mine.json);
        let cluster = recluster(sql, &matcher.trained, &held)?;
        reconcile(sql, &held, &cluster, now, events)?;
    }
    let mine = person_of(sql, id)?;
    let mut torn: Vec<(RecordId, PersonId)> = Vec::new();
    for (other, probability, reason) in placement.review {
        let theirs = person_of(sql, other)?;
        if theirs == mine {
            continue;
        }
        propose(sql, id, other, probability, reason, now)?;
        if reason == linker::MORE_THAN_ONE_PERSON {
            torn.push((other, theirs));
        }
    }
    for (i, &(a, person_a)) in torn.iter().enumerate() {
        for &(b, person_b) in &torn[i + 1..] {
            if person_a == person_b {
                continue;
            }
            let (x, y) = (matcher.prepared_of(sql, a)?, matcher.prepared_of(sql, b)?);
            let weighed = matcher.trained.score(&x, &y);
            if linker::keeps_apart(&weighed).is_none() {
                propose(sql, a, b, weighed.probability, ONE_PERSONS_PARTS, now)?;
            }
        }
    }
    Ok(mine)
}

/// Proposes for review the records of other persons that were recorded with the same people
/// as a new record (in an entry naming one of `with`) and could be the same person by name:
/// "Dan", whom a mother calls a friend to children's services, and "Danny Marsh", whom police
/// find at her door. Weight alone would not propose them; the company they keep does.
pub(crate) fn propose_associates(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    record: RecordId,
    prepared: &Prepared,
    person: PersonId,
    with: &[PersonId],
    now: i64,
) -> Result<(), StoreError> {
    let company: Vec<Company> = company_of(sql, matcher, with)?
        .into_iter()
        .filter(|c| c.person != person)
        .collect();
    propose_best_per_person(sql, &matcher.trained, record, prepared, &company, now)
}

/// After a merge, the records recorded with the merged person keep new company: proposes
/// those of them that could be one person (the family support project's "Dan", once its
/// records of the mother are hers, meets the police's "Danny Marsh").
pub(crate) fn propose_associates_of(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    person: PersonId,
    now: i64,
) -> Result<(), StoreError> {
    let company = company_of(sql, matcher, &[person])?;
    for (i, c) in company.iter().enumerate() {
        let others: Vec<Company> = company[i + 1..]
            .iter()
            .filter(|o| o.person != c.person)
            .cloned()
            .collect();
        propose_best_per_person(sql, &matcher.trained, c.record, &c.prepared, &others, now)?;
    }
    Ok(())
}

/// A record of another person, recorded in an entry with someone.
#[derive(Clone)]
struct Company {
    record: RecordId,
    person: PersonId,
    prepared: Arc<Prepared>,
}

/// The records of other persons named in an entry with any of `with`, at most 500.
fn company_of(
    sql: &mut dyn Sql,
    matcher: &Matcher,
    with: &[PersonId],
) -> Result<Vec<Company>, StoreError> {
    if with.is_empty() {
        return Ok(Vec::new());
    }
    let list = placeholders(0, with.len());
    let params: Vec<Value> = with.iter().map(|p| Value::from(p.to_string())).collect();
    sql.query(
        &format!(
            "SELECT DISTINCT r.id, r.person_id, r.as_of, r.record FROM person_records o
             JOIN entry_persons together ON together.record_id = o.id
             JOIN entry_persons ep ON ep.entry_id = together.entry_id
             JOIN person_records r ON r.id = ep.record_id
             WHERE o.person_id IN ({list}) AND r.person_id NOT IN ({list})
             ORDER BY r.id LIMIT 500"
        ),
        &params,
    )?
    .iter()
    .map(|row| {
        let record = RecordId(parse_id(row.text(0)?)?);
        Ok(Company {
            record,
            person: PersonId(parse_id(row.text(1)?)?),
            prepared: matcher.prepared(record, row.int(2)?, row.text(3)?)?,
        })
    })
    .collect()
}

/// Proposes `record` with the best-matching compatible record of each person in `company`,
/// skipping persons it is already proposed with.
fn propose_best_per_person(
    sql: &mut dyn Sql,
    trained: &Trained,
    record: RecordId,
    prepared: &Prepared,
    company: &[Company],
    now: i64,
) -> Result<(), StoreError> {
    let mut best: Vec<(PersonId, RecordId, f64)> = Vec::new();
    for c in company {
        let weighed = trained.score(&c.prepared, prepared);
        let probability = weighed.probability;
        if !linker::could_be_the_same_person(&weighed.levels) {
            continue;
        }
        match best.iter_mut().find(|b| b.0 == c.person) {
            Some(b) if b.2 >= probability => {}
            Some(b) => *b = (c.person, c.record, probability),
            None => best.push((c.person, c.record, probability)),
        }
    }
    if best.is_empty() {
        return Ok(());
    }
    let proposed: BTreeSet<PersonId> = sql
        .query(
            "SELECT r.person_id FROM link_reviews v JOIN person_records r
                 ON r.id = CASE WHEN v.record_id = $1 THEN v.other_record_id ELSE v.record_id END
             WHERE v.record_id = $1 OR v.other_record_id = $1",
            &[record.to_string().into()],
        )?
        .iter()
        .map(|r| parse_id(r.text(0)?).map(PersonId))
        .collect::<Result<_, _>>()?;
    for (person, other, probability) in best {
        if !proposed.contains(&person) {
            propose(sql, record, other, probability, ASSOCIATES, now)?;
        }
    }
    Ok(())
}

/// Why an associate is proposed.
pub const ASSOCIATES: &str = "recorded with the same people, with a compatible name";

/// A pair in stored order: the smaller id first.
fn ordered(a: RecordId, b: RecordId) -> (String, String) {
    let (a, b) = (a.to_string(), b.to_string());
    if a <= b { (a, b) } else { (b, a) }
}

/// Proposes a pair for review, unless a person has already decided it or it is proposed.
pub(crate) fn propose(
    sql: &mut dyn Sql,
    a: RecordId,
    b: RecordId,
    probability: f64,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (a, b) = ordered(a, b);
    sql.execute(
        "INSERT INTO link_reviews (record_id, other_record_id, probability_ppm, reason, proposed_at)
         SELECT $1, $2, $3, $4, $5
         WHERE NOT EXISTS (SELECT 1 FROM link_decisions WHERE record_id = $1 AND other_record_id = $2)
         ON CONFLICT (record_id, other_record_id) DO NOTHING",
        &[
            a.into(),
            b.into(),
            ((probability * 1e6).round() as i64).into(),
            reason.into(),
            now.into(),
        ],
    )?;
    Ok(())
}

/// One side of a proposed or decided link, as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkSide {
    /// The record.
    pub record: RecordId,
    /// The person it belongs to now.
    pub person: PersonId,
    /// The agency holding it.
    pub agency: String,
    /// The record as the agency sent it.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: PersonRecord,
}

/// What one comparison contributed, for a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The comparison (`given name`, `date of birth`, ...).
    pub comparison: String,
    /// How the two records compare on it (`nickname`, `day and month swapped`, ...), or
    /// `missing` when either lacks it.
    pub level: String,
    /// Weight, in bits, for "same person" against "unrelated people".
    pub against_unrelated: f64,
    /// Weight, in bits, for "same person" against "another person in the same household".
    pub against_household: f64,
}

/// A proposed link, with the evidence for and against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkReview {
    /// One record.
    pub a: LinkSide,
    /// The other.
    pub b: LinkSide,
    /// P(same person), by the current model.
    pub probability: f64,
    /// Why it was not linked automatically.
    pub reason: String,
    /// When it was proposed (microseconds since 1970, UTC).
    pub proposed_at: i64,
    /// Prior weight (bits) against "unrelated", then per comparison.
    pub prior_against_unrelated: f64,
    /// Prior weight (bits) against "same household".
    pub prior_against_household: f64,
    /// What each comparison contributed; with the priors, each column sums to its total.
    pub evidence: Vec<Evidence>,
    /// Total weight against "unrelated".
    pub total_against_unrelated: f64,
    /// Total weight against "same household".
    pub total_against_household: Option<f64>,
}

fn side(sql: &mut dyn Sql, id: RecordId) -> Result<LinkSide, StoreError> {
    let row = sql
        .query_opt(
            "SELECT person_id, agency_id, record FROM person_records WHERE id = $1",
            &[id.to_string().into()],
        )?
        .ok_or_else(|| no_record(id))?;
    Ok(LinkSide {
        record: id,
        person: PersonId(parse_id(row.text(0)?)?),
        agency: row.text(1)?.to_owned(),
        details: serde_json::from_str(row.text(2)?)
            .map_err(|e| StoreError::Corrupt(format!("record {id}: {e}")))?,
    })
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

fn explained(
    sql: &mut dyn Sql,
    trained: &Trained,
    a: RecordId,
    b: RecordId,
    reason: String,
    proposed_at: i64,
) -> Result<LinkReview, StoreError> {
    let (a, b) = (side(sql, a)?, side(sql, b)?);
    let prepare = |s: &LinkSide| Prepared::new(&linkage_record(s.record, &s.details));
    let x: Explanation = trained.explain(&prepare(&a), &prepare(&b));
    Ok(LinkReview {
        a,
        b,
        probability: x.probability,
        reason,
        proposed_at,
        prior_against_unrelated: x.prior_against_unrelated,
        prior_against_household: x.prior_against_household,
        evidence: x
            .contributions
            .iter()
            .map(|c| Evidence {
                comparison: c.field.name().to_owned(),
                level: c
                    .level
                    .map_or("missing", |l| c.field.levels()[l as usize])
                    .to_owned(),
                against_unrelated: c.against_unrelated,
                against_household: c.against_household,
            })
            .collect(),
        total_against_unrelated: x.total_against_unrelated,
        total_against_household: x.total_against_household,
    })
}

/// What a person decided about two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Verdict {
    /// The same person: their persons are merged.
    SamePerson,
    /// Different people: they are kept, or split, apart.
    DifferentPeople,
}

/// A person's decision on two records, with the reason kept beside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkDecision {
    /// One record.
    pub a: RecordId,
    /// The other.
    pub b: RecordId,
    /// The same person, or different people.
    pub verdict: Verdict,
    /// Why: what was checked.
    pub reason: String,
}

/// What a decision changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decided {
    /// The persons the two records belong to now.
    pub persons: Vec<PersonId>,
    /// Persons merged into another and no longer in use.
    pub merged: Vec<PersonId>,
}

/// Every record's person, and people's decisions: what clustering needs from the store.
struct Holdings {
    ids: Vec<RecordId>,
    persons: Vec<PersonId>,
    json: Vec<String>,
}

fn holdings(sql: &mut dyn Sql, person: Option<PersonId>) -> Result<Holdings, StoreError> {
    let rows = match person {
        Some(p) => sql.query(
            "SELECT id, person_id, record FROM person_records WHERE person_id = $1
             ORDER BY first_seen_at, id",
            &[p.to_string().into()],
        )?,
        None => sql.query(
            "SELECT id, person_id, record FROM person_records ORDER BY first_seen_at, id",
            &[],
        )?,
    };
    let mut h = Holdings {
        ids: Vec::with_capacity(rows.len()),
        persons: Vec::with_capacity(rows.len()),
        json: Vec::with_capacity(rows.len()),
    };
    for row in rows {
        h.ids.push(RecordId(parse_id(row.text(0)?)?));
        h.persons.push(PersonId(parse_id(row.text(1)?)?));
        h.json.push(row.text(2)?.to_owned());
    }
    Ok(h)
}

impl Holdings {
    /// Every record, prepared for comparison.
    fn prepared(&self) -> Result<Vec<Prepared>, StoreError> {
        self.ids
            .iter()
            .zip(&self.json)
            .map(|(id, json)| prepared_json(*id, json))
            .collect()
    }
}

type Pairs = Vec<(usize, usize)>;

/// People's decisions among the held records, as must-link and cannot-link index pairs.
fn decisions(sql: &mut dyn Sql, ids: &[RecordId]) -> Result<(Pairs, Pairs), StoreError> {
    let index: HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.to_string(), i))
        .collect();
    let (mut must, mut cannot) = (Vec::new(), Vec::new());
    for row in sql.query(
        "SELECT record_id, other_record_id, same_person FROM link_decisions",
        &[],
    )? {
        if let (Some(&a), Some(&b)) = (index.get(row.text(0)?), index.get(row.text(1)?)) {
            if row.int(2)? == 1 {
                must.push((a, b));
            } else {
                cannot.push((a, b));
            }
        }
    }
    Ok((must, cannot))
}

/// Assigns clusters to persons, keeping each person's id with the cluster holding most of its
/// records, and moves the records that changed person. Returns the persons that changed and
/// those emptied (merged into the person most of their records went to).
fn reconcile(
    sql: &mut dyn Sql,
    held: &Holdings,
    cluster: &[usize],
    now: i64,
    events: &mut Vec<AuditEvent>,
) -> Result<(BTreeSet<PersonId>, Vec<PersonId>), StoreError> {
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, c) in cluster.iter().enumerate() {
        members.entry(*c).or_default().push(i);
    }
    let mut clusters: Vec<Vec<usize>> = members.into_values().collect();
    // Largest first, then by first record, so that the outcome does not depend on hashing.
    clusters.sort_by_key(|m| (std::cmp::Reverse(m.len()), m[0]));
    let mut claimed: BTreeSet<PersonId> = BTreeSet::new();
    let mut changed: BTreeSet<PersonId> = BTreeSet::new();
    let mut destination: HashMap<PersonId, HashMap<PersonId, usize>> = HashMap::new();
    for records in &clusters {
        let mut votes: Vec<(PersonId, usize)> = Vec::new();
        for &i in records {
            match votes.iter_mut().find(|(p, _)| *p == held.persons[i]) {
                Some((_, n)) => *n += 1,
                None => votes.push((held.persons[i], 1)),
            }
        }
        // Most records first; ties to the person seen first (records are oldest first).
        votes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let owner = match votes.iter().find(|(p, _)| !claimed.contains(p)) {
            Some((p, _)) => *p,
            None => {
                let p = PersonId(Uuid::now_v7());
                sql.execute(
                    "INSERT INTO persons (id, created_at) VALUES ($1, $2)",
                    &[p.to_string().into(), now.into()],
                )?;
                p
            }
        };
        claimed.insert(owner);
        for &i in records {
            let from = held.persons[i];
            if from == owner {
                continue;
            }
            sql.execute(
                "UPDATE person_records SET person_id = $2 WHERE id = $1",
                &[held.ids[i].to_string().into(), owner.to_string().into()],
            )?;
            events.push(AuditEvent {
                reason: Some(format!("from person {from} to person {owner}")),
                ..AuditEvent::new("record_relinked", held.ids[i].to_string())
            });
            *destination
                .entry(from)
                .or_default()
                .entry(owner)
                .or_default() += 1;
            changed.insert(from);
            changed.insert(owner);
        }
    }
    let mut merged = Vec::new();
    for (from, to) in destination {
        if claimed.contains(&from) {
            continue;
        }
        let (&into, _) = to
            .iter()
            .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
            .expect("a person is emptied only by moves");
        let resolved = merge_person(sql, from, into, now)?;
        events.push(AuditEvent {
            reason: Some(format!("into person {into}")),
            ..AuditEvent::new("person_merged", from.to_string())
        });
        // As every change to stored flags is: the retired person's flags, resolved.
        events.extend(resolved.into_iter().map(|key| AuditEvent {
            reason: Some(key),
            ..AuditEvent::new("flag_resolved", from.to_string())
        }));
        merged.push(from);
    }
    merged.sort();
    Ok((changed, merged))
}

/// Retires a person whose records have all moved to `into`: old links to it resolve to `into`,
/// its allocations move (a lead only if `into` has none), its open flags are resolved.
/// Returns the keys of the flags resolved.
fn merge_person(
    sql: &mut dyn Sql,
    gone: PersonId,
    into: PersonId,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let (gone, into) = (gone.to_string(), into.to_string());
    let both = || -> [Value; 2] { [gone.as_str().into(), into.as_str().into()] };
    sql.execute(
        "UPDATE persons SET merged_into = $2 WHERE id = $1 OR merged_into = $1",
        &both(),
    )?;
    sql.execute(
        "UPDATE allocations SET lead = 0 WHERE person_id = $1 AND EXISTS
             (SELECT 1 FROM allocations k WHERE k.person_id = $2 AND k.lead = 1 AND k.ended_at IS NULL)",
        &both(),
    )?;
    sql.execute(
        "UPDATE allocations SET person_id = $2 WHERE person_id = $1
             AND user_id NOT IN (SELECT k.user_id FROM allocations k WHERE k.person_id = $2)",
        &both(),
    )?;
    sql.execute(
        "DELETE FROM allocations WHERE person_id = $1",
        &[gone.as_str().into()],
    )?;
    let open: Vec<String> = sql
        .query(
            "SELECT flag_key FROM flags WHERE person_id = $1 AND resolved_at IS NULL
             ORDER BY flag_key",
            &[gone.as_str().into()],
        )?
        .iter()
        .map(|r| r.text(0).map(str::to_owned))
        .collect::<Result<_, _>>()?;
    sql.execute(
        "UPDATE flags SET resolved_at = $2 WHERE person_id = $1 AND resolved_at IS NULL",
        &[gone.as_str().into(), now.into()],
    )?;
    Ok(open)
}

/// Clusters the records of the given persons afresh, with the model and people's decisions.
fn recluster(
    sql: &mut dyn Sql,
    trained: &Trained,
    held: &Holdings,
) -> Result<Vec<usize>, StoreError> {
    let records = held.prepared()?;
    // A person holds few records: every pair is compared.
    let mut scored = Vec::new();
    for a in 0..records.len() {
        for b in a + 1..records.len() {
            scored.push(linker::Scored {
                a: a as u32,
                b: b as u32,
                weighed: trained.score(&records[a], &records[b]),
            });
        }
    }
    let (must, cannot) = decisions(sql, &held.ids)?;
    let persons = linker::persons(
        records.len(),
        &scored,
        &trained.model,
        &settings(),
        &must,
        &cannot,
    )
    .map_err(|c| conflict(held, c))?;
    Ok(persons.cluster)
}

fn conflict(held: &Holdings, c: safeguard_linkage::cluster::Conflict) -> StoreError {
    StoreError::invalid(
        None,
        "decision",
        format!(
            "records {} and {} would be both the same person and different people by people's decisions",
            held.ids[c.a], held.ids[c.b]
        ),
    )
}

/// What a batch run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Relinked {
    /// Records linked.
    pub records: usize,
    /// Persons they form.
    pub persons: usize,
    /// Records moved to another person.
    pub moved: usize,
    /// Persons merged into another.
    pub merged: usize,
    /// Pairs awaiting a person's decision.
    pub open_reviews: usize,
    /// People's decisions honoured.
    pub decisions: usize,
    /// Whether a model was trained on the store's records (else the generic one was used).
    pub trained: bool,
    /// Persons whose records changed; their flags were re-evaluated.
    pub changed: Vec<PersonId>,
}

impl Store {
    /// Pairs awaiting a person's decision, most likely first, each explained by the current
    /// model.
    pub fn link_reviews(&self, limit: usize) -> Result<Vec<LinkReview>, StoreError> {
        self.open_reviews("", &[], Some(limit))
    }

    /// Every decision people made on the records of `person` (joined or kept apart), newest
    /// first: for a subject access request.
    pub fn identity_decisions_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<IdentityDecision>, StoreError> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT a.agency_id, b.agency_id, d.same_person, d.decided_by, d.decided_at, d.reason
                 FROM link_decisions d
                 JOIN person_records a ON a.id = d.record_id
                 JOIN person_records b ON b.id = d.other_record_id
                 WHERE a.person_id = $1 OR b.person_id = $1
                 ORDER BY d.decided_at DESC",
                &[person.to_string().into()],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(IdentityDecision {
                        agencies: (r.text(0)?.to_owned(), r.text(1)?.to_owned()),
                        same_person: r.int(2)? != 0,
                        decided_by: r.text(3)?.to_owned(),
                        decided_at: chrono::DateTime::from_timestamp_micros(r.int(4)?)
                            .unwrap_or_default(),
                        reason: r.text(5)?.to_owned(),
                    })
                })
                .collect()
        })
    }

    /// The pairs awaiting a decision that involve one record, most likely first.
    pub fn link_reviews_of(&self, record: RecordId) -> Result<Vec<LinkReview>, StoreError> {
        self.open_reviews(
            "WHERE record_id = $2 OR other_record_id = $2",
            &[record.to_string().into()],
            None,
        )
    }

    /// Open reviews matching `filter` (its parameters from `$2`), at most `limit`, explained.
    fn open_reviews(
        &self,
        filter: &str,
        params: &[Value],
        limit: Option<usize>,
    ) -> Result<Vec<LinkReview>, StoreError> {
        self.read(|sql| {
            let trained = self.model_in(sql)?;
            let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
            let mut values: Vec<Value> = vec![limit.into()];
            values.extend_from_slice(params);
            let rows = sql.query(
                &format!(
                    "SELECT record_id, other_record_id, reason, proposed_at FROM link_reviews {filter}
                     ORDER BY probability_ppm DESC, record_id, other_record_id LIMIT $1"
                ),
                &values,
            )?;
            rows.iter()
                .map(|row| {
                    explained(
                        sql,
                        &trained,
                        RecordId(parse_id(row.text(0)?)?),
                        RecordId(parse_id(row.text(1)?)?),
                        row.text(2)?.to_owned(),
                        row.int(3)?,
                    )
                })
                .collect()
        })
    }

    /// Re-evaluates, in the caller's transaction, the persons an identity decision changed and
    /// every child whose chronology names any of them (an adult's records joined can bring a
    /// claim and the observation that contradicts it together in the child's record). Each
    /// concern this raises on a child is alerted to the child's lead professional, as an
    /// append's would be.
    fn refresh_after_identity_change(
        &self,
        sql: &mut dyn Sql,
        actor: &Actor,
        persons: &[PersonId],
        book: &RuleBook,
        as_of: NaiveDate,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut children: BTreeSet<PersonId> = persons.iter().copied().collect();
        for chunk in persons.chunks(500) {
            let ids: Vec<Value> = chunk.iter().map(|p| p.to_string().into()).collect();
            let rows = sql.query(
                &format!(
                    "SELECT DISTINCT cr.person_id FROM person_records r
                     JOIN entry_persons ep ON ep.record_id = r.id
                     JOIN entry_persons cp ON cp.entry_id = ep.entry_id AND cp.role = 'subject_child'
                     JOIN person_records cr ON cr.id = cp.record_id
                     WHERE r.person_id IN ({})",
                    crate::sql::placeholders(0, ids.len())
                ),
                &ids,
            )?;
            for r in &rows {
                children.insert(
                    r.text(0)?
                        .parse()
                        .map_err(|_| StoreError::Corrupt("bad person id".into()))?,
                );
            }
        }
        for child in children {
            let changes = self.refresh_flags_in(sql, actor, child, book, as_of)?;
            if changes.raised.is_empty() {
                continue;
            }
            let lead = sql.query_opt(
                "SELECT user_id FROM allocations WHERE person_id = $1 AND lead = 1 AND ended_at IS NULL",
                &[child.to_string().into()],
            )?;
            let Some(lead) = lead else { continue };
            for flag in &changes.raised {
                if let Some(first) = flag.entries.first() {
                    crate::alerts::insert_alert(
                        sql,
                        lead.text(0)?,
                        child,
                        *first,
                        now,
                        Some(format!(
                            "New concern after an identity decision: {}",
                            flag.sentence
                        )),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Records a person's decision on two records and applies it in one transaction: the same
    /// person merges their persons; different people splits them if they are linked, with the
    /// rest of the person's records re-clustered around the decision. The flags of the persons
    /// the two records belong to afterwards are re-evaluated in the same transaction. Audited;
    /// later automatic linkage never overrides it.
    pub fn decide_link(
        &self,
        actor: &Actor,
        decision: &LinkDecision,
        book: &RuleBook,
        as_of: NaiveDate,
    ) -> Result<Decided, StoreError> {
        self.write(|sql| {
            let now = Utc::now().timestamp_micros();
            let decided = self.decide_link_in(sql, actor, decision, now)?;
            self.refresh_after_identity_change(sql, actor, &decided.persons, book, as_of, now)?;
            Ok(decided)
        })
    }

    /// Joins, in the append's transaction, each unborn child's record to the baby's when a
    /// birth entry names both: the antenatal history becomes the child's, as a same-person
    /// decision (audited, and never overridden by later linkage).
    pub(crate) fn join_births_in(
        &self,
        sql: &mut dyn Sql,
        actor: &Actor,
        entries: &[safeguard_core::Entry],
        appended: &[crate::Appended],
    ) -> Result<(), StoreError> {
        use safeguard_core::{EntryDetails, ParticipantRole};
        let now = Utc::now().timestamp_micros();
        for (entry, appended) in entries.iter().zip(appended) {
            let EntryDetails::Birth(birth) = &entry.details else {
                continue;
            };
            if appended.outcome != crate::Outcome::Created {
                continue;
            }
            let baby = entry.persons.iter().find(|p| {
                p.role == ParticipantRole::SubjectChild && p.record.local_id != birth.unborn
            });
            let Some(baby) = baby else { continue };
            let record = |sql: &mut dyn Sql, local_id: &str| -> Result<RecordId, StoreError> {
                let row = sql
                    .query_opt(
                        "SELECT id FROM person_records
                         WHERE agency_id = $1 AND source_system = $2 AND local_id = $3",
                        &[
                            entry.agency.as_str().into(),
                            entry.source.system.as_str().into(),
                            local_id.into(),
                        ],
                    )?
                    .ok_or_else(|| StoreError::Corrupt("a birth's record vanished".into()))?;
                Ok(RecordId(parse_id(row.text(0)?)?))
            };
            let decision = LinkDecision {
                a: record(sql, &baby.record.local_id)?,
                b: record(sql, &birth.unborn)?,
                verdict: Verdict::SamePerson,
                reason: "Born: the birth entry names the unborn child's record".into(),
            };
            self.decide_link_in(sql, actor, &decision, now)?;
        }
        Ok(())
    }

    /// [`Store::decide_link`] in the caller's transaction, without re-evaluating flags.
    pub(crate) fn decide_link_in(
        &self,
        sql: &mut dyn Sql,
        actor: &Actor,
        decision: &LinkDecision,
        now: i64,
    ) -> Result<Decided, StoreError> {
        let (a, b, reason) = (decision.a, decision.b, decision.reason.trim());
        if a == b {
            return Err(StoreError::invalid(
                None,
                "records",
                "a record cannot be linked to itself",
            ));
        }
        if reason.is_empty() {
            return Err(StoreError::invalid(
                None,
                "reason",
                "say why: the decision is kept and audited",
            ));
        }
        let (person_a, person_b) = (person_of(sql, a)?, person_of(sql, b)?);
        let (x, y) = ordered(a, b);
        let same = decision.verdict == Verdict::SamePerson;
        sql.execute(
                "INSERT INTO link_decisions (record_id, other_record_id, same_person, decided_by, decided_at, reason)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (record_id, other_record_id) DO UPDATE SET same_person = excluded.same_person,
                     decided_by = excluded.decided_by, decided_at = excluded.decided_at, reason = excluded.reason",
                &[
                    x.as_str().into(),
                    y.as_str().into(),
                    i64::from(same).into(),
                    actor.id().into(),
                    now.into(),
                    reason.into(),
                ],
            )?;
        sql.execute(
            "DELETE FROM link_reviews WHERE record_id = $1 AND other_record_id = $2",
            &[x.as_str().into(), y.as_str().into()],
        )?;
        let mut events = vec![AuditEvent {
            reason: Some(format!(
                "{}: {reason}",
                if same {
                    "same person"
                } else {
                    "different people"
                }
            )),
            ..AuditEvent::new("link_decided", format!("{x} {y}"))
        }];
        let mut merged = Vec::new();
        if same && person_a != person_b {
            // Both persons' records, clustered together under every decision: the
            // new must-link joins them unless an earlier "different" forbids it.
            let mut held = holdings(sql, Some(person_a))?;
            let other = holdings(sql, Some(person_b))?;
            held.ids.extend(other.ids);
            held.persons.extend(other.persons);
            held.json.extend(other.json);
            let matcher = self.matcher_in(sql)?;
            let cluster = recluster(sql, &matcher.trained, &held)?;
            let (_, gone) = reconcile(sql, &held, &cluster, now, &mut events)?;
            merged = gone;
            let joined = person_of(sql, a)?;
            propose_associates_of(sql, &matcher, joined, now)?;
        } else if !same && person_a == person_b {
            let held = holdings(sql, Some(person_a))?;
            let trained = self.model_in(sql)?;
            let cluster = recluster(sql, &trained, &held)?;
            reconcile(sql, &held, &cluster, now, &mut events)?;
        }
        audit::append_events(sql, actor, now, &events)?;
        let mut persons = vec![person_of(sql, a)?, person_of(sql, b)?];
        persons.dedup();
        Ok(Decided { persons, merged })
    }

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

    /// Links every record in the store afresh, in one transaction: trains a model on the
    /// records (when there are enough) and stores it for online matching, rebuilds the
    /// blocking keys, clusters under people's decisions, moves records whose person changed,
    /// re-evaluates the flags of persons that changed, and proposes the uncertain pairs for
    /// review. Decisions are never overridden.
    pub fn relink(
        &self,
        actor: &Actor,
        book: &RuleBook,
        as_of: NaiveDate,
        progress: Progress,
    ) -> Result<Relinked, StoreError> {
        self.write(|sql| {
            let now = Utc::now().timestamp_micros();
            let settings = settings();
            let held = holdings(sql, None)?;
            progress(Stage::Preparing, 0, held.ids.len() as u64);
            let records = held.prepared()?;
            progress(
                Stage::Preparing,
                held.ids.len() as u64,
                held.ids.len() as u64,
            );
            sql.execute("DELETE FROM person_record_keys", &[])?;
            for (id, r) in held.ids.iter().zip(&records) {
                insert_keys(sql, *id, r)?;
            }
            progress(Stage::Blocking, 0, records.len() as u64);
            let (pairs, _) = linker::block(&records, &settings, None);
            let training = Settings {
                rules: safeguard_linkage::blocking::BlockingRule::TRAINING.to_vec(),
                ..settings.clone()
            };
            let (training_pairs, _) = linker::block(&records, &training, None);
            progress(Stage::Blocking, records.len() as u64, records.len() as u64);
            let trained_here = records.len() >= MIN_TRAINING_RECORDS;
            let trained = if trained_here {
                let t = linker::train(&records, None, &training_pairs, &pairs, &settings, progress);
                let json =
                    serde_json::to_string(&t).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sql.execute(
                    "INSERT INTO linkage_models (id, trained_at, records, model)
                     SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3 FROM linkage_models",
                    &[now.into(), (records.len() as i64).into(), json.into()],
                )?;
                Arc::new(t)
            } else {
                self.model_in(sql)?
            };
            let scored = linker::score(&records, &pairs, &trained, progress);
            progress(Stage::Clustering, 0, 1);
            let (must, cannot) = decisions(sql, &held.ids)?;
            let found = linker::persons(
                records.len(),
                &scored,
                &trained.model,
                &settings,
                &must,
                &cannot,
            )
            .map_err(|c| conflict(&held, c))?;
            let mut events = Vec::new();
            let (changed, merged) = reconcile(sql, &held, &found.cluster, now, &mut events)?;
            let moved = events.len() - merged.len();
            // Proposals by weight are made afresh with this run's model; those by the
            // company records keep stay until their records share a person.
            sql.execute(
                "DELETE FROM link_reviews WHERE reason <> $1 OR EXISTS (
                     SELECT 1 FROM person_records a, person_records b
                     WHERE a.id = link_reviews.record_id AND b.id = link_reviews.other_record_id
                       AND a.person_id = b.person_id)",
                &[ASSOCIATES.into()],
            )?;
            for s in &scored {
                let (a, b) = (s.a as usize, s.b as usize);
                let p = s.weighed.probability;
                if p < settings.review_threshold || found.cluster[a] == found.cluster[b] {
                    continue;
                }
                let why = linker::review_reason(&s.weighed, &settings);
                propose(sql, held.ids[a], held.ids[b], p, why, now)?;
            }
            progress(Stage::Clustering, 1, 1);
            let open_reviews = sql
                .query_opt("SELECT COUNT(*) FROM link_reviews", &[])?
                .map_or(Ok(0), |r| r.int(0))? as usize;
            let persons = found.cluster.iter().collect::<BTreeSet<_>>().len();
            events.push(AuditEvent {
                reason: Some(format!(
                    "{} records, {persons} persons, {moved} moved, {} merged",
                    records.len(),
                    merged.len()
                )),
                ..AuditEvent::new("linkage_run", "persons")
            });
            audit::append_events(sql, actor, now, &events)?;
            let changed: Vec<PersonId> = changed
                .into_iter()
                .filter(|p| !merged.contains(p))
                .collect();
            self.refresh_after_identity_change(sql, actor, &changed, book, as_of, now)?;
            Ok(Relinked {
                records: records.len(),
                persons,
                moved,
                merged: merged.len(),
                open_reviews,
                decisions: must.len() + cannot.len(),
                trained: trained_here,
                changed,
            })
        })
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
