//! Linking every record afresh in one transaction: training, blocking, clustering under
//! people's decisions, and the review queue made anew.

use super::*;

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
            progress(Stage::Blocking, records.len() as u64, records.len() as u64);
            let trained_here = records.len() >= MIN_TRAINING_RECORDS;
            let stored = if trained_here {
                None
            } else {
                Some(self.model_in(sql)?)
            };
            let (trained, scored) = linker::train_and_score(
                &records,
                &pairs,
                None,
                &settings,
                stored.as_deref(),
                progress,
            );
            if trained_here {
                let json = serde_json::to_string(&trained)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sql.execute(
                    "INSERT INTO linkage_models (id, trained_at, records, model)
                     SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3 FROM linkage_models",
                    &[now.into(), (records.len() as i64).into(), json.into()],
                )?;
            }
            progress(Stage::Clustering, 0, 1);
            let (must, cannot) = decided_pairs(sql, &held.ids)?;
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
