//! People's decisions on two records, applied by merging and splitting persons: what
//! clustering needs from the store, and the moves and merges it makes.

use super::*;

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
pub(super) struct Holdings {
    pub(super) ids: Vec<RecordId>,
    pub(super) persons: Vec<PersonId>,
    pub(super) json: Vec<String>,
}

pub(super) fn holdings(
    sql: &mut dyn Sql,
    person: Option<PersonId>,
) -> Result<Holdings, StoreError> {
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
    pub(super) fn prepared(&self) -> Result<Vec<Prepared>, StoreError> {
        self.ids
            .iter()
            .zip(&self.json)
            .map(|(id, json)| prepared_json(*id, json))
            .collect()
    }
}

pub(super) type Pairs = Vec<(usize, usize)>;

/// People's decisions among the held records, as must-link and cannot-link index pairs.
pub(super) fn decided_pairs(
    sql: &mut dyn Sql,
    ids: &[RecordId],
) -> Result<(Pairs, Pairs), StoreError> {
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
pub(super) fn reconcile(
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
pub(super) fn recluster(
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
    let (must, cannot) = decided_pairs(sql, &held.ids)?;
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

pub(super) fn conflict(held: &Holdings, c: safeguard_linkage::cluster::Conflict) -> StoreError {
    StoreError::invalid(
        None,
        "decision",
        format!(
            "records {} and {} would be both the same person and different people by people's decisions",
            held.ids[c.a], held.ids[c.b]
        ),
    )
}

impl Store {
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

    /// Re-evaluates, in the caller's transaction, the persons an identity decision changed and
    /// every child whose chronology names any of them (an adult's records joined can bring a
    /// claim and the observation that contradicts it together in the child's record). Each
    /// concern this raises on a child is alerted to the child's lead professional, as an
    /// append's would be.
    pub(super) fn refresh_after_identity_change(
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
}
