//! Online matching: each record's blocking keys, kept so that an arriving or updated record
//! meets its candidates by index, and where such a record belongs.

use super::*;

/// A record's blocking keys, as stored.
fn blocking_keys(record: &Prepared) -> BTreeSet<i64> {
    let mut keys = BTreeSet::new();
    for rule in &settings().rules {
        rule.each_key(record, |k| {
            keys.insert(k as i64);
        });
    }
    keys
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
        let held = matcher.prepared(id, row.int(3)?, row.text(4)?)?;
        // A key is shared by more than the rule's candidates (see `BlockingRule::keeps`).
        if safeguard_linkage::blocking::is_candidate(&held, record, &settings.rules) {
            candidates.push((id, person, held));
        }
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
