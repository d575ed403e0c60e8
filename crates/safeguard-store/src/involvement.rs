//! Involvement established by the server. Recording about a child does not by itself open the
//! other agencies' entries: an agency that records about a child whom others already hold asks
//! to be involved, and sees only its own entries and the child's status until the child's lead
//! professional or a safeguarding lead confirms it. Standing is kept per agency record (so that
//! identity decisions, which move records between persons, carry it along) and lapses after the
//! involvement period without an entry, counted by when Safeguard received the entries.

use safeguard_core::access::Involvement;
use safeguard_core::{AgencyId, PersonId, RecordId};
use serde::Serialize;

use crate::audit::{self, AuditEvent};
use crate::sql::{Sql, SqlExt};
use crate::{Actor, Store, StoreError};

/// An agency's standing with a child, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Standing {
    /// The agency held the child first: nobody else had recorded about them.
    Held,
    /// The agency recorded about a child others hold and waits for confirmation.
    Requested,
    /// The lead professional or a safeguarding lead confirmed the agency's involvement.
    Confirmed,
    /// The lead professional or a safeguarding lead declined it; recording again asks again.
    Declined,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Held => "held",
            Standing::Requested => "requested",
            Standing::Confirmed => "confirmed",
            Standing::Declined => "declined",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "held" => Standing::Held,
            "requested" => Standing::Requested,
            "confirmed" => Standing::Confirmed,
            "declined" => Standing::Declined,
            other => return Err(StoreError::Corrupt(format!("unknown standing {other:?}"))),
        })
    }

    fn established(self) -> bool {
        matches!(self, Standing::Held | Standing::Confirmed)
    }
}

/// An agency's request to be involved with a child, waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingInvolvement {
    /// The child (or other person) recorded about.
    pub person: PersonId,
    /// The agency asking.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub agency: AgencyId,
    /// The agency's name.
    pub agency_name: String,
    /// When the request was made (RFC 3339).
    pub requested_at: String,
    /// When Safeguard received the agency's latest entry (RFC 3339).
    pub last_entry_at: String,
}

/// One agency's standing with a child, for the child's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyStanding {
    /// The agency.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub agency: AgencyId,
    /// Its standing.
    pub standing: Standing,
    /// When a confirmation or decline was given (RFC 3339), with its reason.
    pub decided_at: Option<String>,
    /// The reason given with the decision.
    pub reason: Option<String>,
}

/// What an agency that may not (yet) read a child's record may know: enough to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChildStatus {
    /// Whether a child protection plan is in force (the latest plan entry starts one).
    pub on_plan: bool,
    /// The lead professional, if one is allocated: whom to call.
    pub lead_professional: Option<LeadProfessional>,
    /// The standing of each agency that recorded about the child within the period.
    pub agencies: Vec<AgencyStanding>,
}

/// A worker allocated to a child, as the child's page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    /// Their name.
    pub name: String,
    /// Their agency's name.
    pub agency_name: String,
    /// Whether they are the child's lead professional.
    pub lead: bool,
    /// When they were allocated (RFC 3339).
    pub since: String,
}

/// A child's lead professional, as shown to other agencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadProfessional {
    /// Their name.
    pub name: String,
    /// Their agency.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub agency: AgencyId,
    /// Their agency's name.
    pub agency_name: String,
}

fn micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn agency(text: &str) -> Result<AgencyId, StoreError> {
    AgencyId::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Notes, in the append's transaction, that `agency` recorded an entry naming `record` (now
/// linked to `person`) at `now`: keeps an established standing that has not lapsed, and
/// otherwise holds the child for the agency if nobody else has recorded about them or been
/// allocated, or asks to be involved.
pub(crate) fn note_entry(
    sql: &mut dyn Sql,
    record: RecordId,
    person: PersonId,
    agency: &AgencyId,
    now: i64,
    period_micros: i64,
) -> Result<(), StoreError> {
    let since = now - period_micros;
    let person = person.to_string();
    // From the person's few records to their involvements, never the other way: CROSS JOIN
    // keeps that order on SQLite whatever its statistics say (without them, the index on
    // state looked the narrower way in, and each entry read every agency's involvements).
    let standing = sql
        .query_opt(
            "SELECT i.state FROM person_records r CROSS JOIN involvements i
             WHERE i.record_id = r.id AND r.person_id = $1 AND i.agency_id = $2
               AND i.state IN ('held', 'confirmed') AND i.last_entry_at >= $3
             ORDER BY i.state DESC LIMIT 1",
            &[person.as_str().into(), agency.as_str().into(), since.into()],
        )?
        .map(|r| r.text(0).and_then(Standing::parse))
        .transpose()?;
    let standing = match standing {
        Some(established) => established,
        None => {
            // Anyone else's history with the child, however old, is theirs to share.
            let held_by_others = sql
                .query_opt(
                    "SELECT 1 FROM involvements i JOIN person_records r ON r.id = i.record_id
                     WHERE r.person_id = $1 AND i.agency_id <> $2
                     UNION ALL
                     SELECT 1 FROM allocations WHERE person_id = $1 AND ended_at IS NULL
                     LIMIT 1",
                    &[person.as_str().into(), agency.as_str().into()],
                )?
                .is_some();
            if held_by_others {
                Standing::Requested
            } else {
                Standing::Held
            }
        }
    };
    sql.execute(
        "INSERT INTO involvements (record_id, agency_id, state, requested_at, last_entry_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (record_id) DO UPDATE SET
             state = excluded.state,
             last_entry_at = excluded.last_entry_at,
             requested_at = CASE WHEN involvements.state = excluded.state
                 THEN involvements.requested_at ELSE excluded.requested_at END,
             decided_at = CASE WHEN involvements.state = excluded.state
                 THEN involvements.decided_at ELSE NULL END,
             decided_by = CASE WHEN involvements.state = excluded.state
                 THEN involvements.decided_by ELSE NULL END,
             reason = CASE WHEN involvements.state = excluded.state
                 THEN involvements.reason ELSE NULL END",
        &[
            record.to_string().into(),
            agency.as_str().into(),
            standing.as_str().into(),
            now.into(),
        ],
    )?;
    Ok(())
}

impl Store {
    /// Sets the involvement period in days: how long an agency's standing lasts after the
    /// latest entry it recorded about a child.
    pub fn set_involvement_days(&self, days: i64) {
        self.inner
            .involvement_days
            .store(days.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The involvement period in microseconds.
    pub(crate) fn involvement_period_micros(&self) -> i64 {
        self.inner
            .involvement_days
            .load(std::sync::atomic::Ordering::Relaxed)
            * 24
            * 60
            * 60
            * 1_000_000
    }

    /// What ties agencies and workers to a child: the agencies whose standing is established
    /// or awaits a decision (by when their entries were received, within the involvement
    /// period), and live allocations.
    pub fn involvement(&self, person: PersonId) -> Result<Involvement, StoreError> {
        let since = micros() - self.involvement_period_micros();
        self.read_alone(|sql| Ok(standing_in(sql, person, since, None)?.involvement))
    }

    /// What the access rule needs to decide a read of a person, from one snapshot: the person
    /// they were merged into (then read there), the agencies' involvement, and whether the
    /// session (when there is one) broke glass for them.
    pub fn read_standing(
        &self,
        person: PersonId,
        session_hash: Option<&str>,
    ) -> Result<ReadStanding, StoreError> {
        let since = micros() - self.involvement_period_micros();
        self.read_alone(|sql| standing_in(sql, person, since, session_hash))
    }

    /// Confirms (or declines) the involvement an agency asked for with a child: audited, with
    /// its reason, and shown to the agency in the child's status. A confirmation can be
    /// withdrawn by declining, and a decision given again with a new reason; a decline lasts
    /// until the agency records again. An agency that held the child first has nothing to
    /// decide.
    pub fn decide_involvement(
        &self,
        actor: &Actor,
        person: PersonId,
        agency: &AgencyId,
        confirm: bool,
        reason: &str,
    ) -> Result<(), StoreError> {
        let at = micros();
        let since = at - self.involvement_period_micros();
        let (from, to, action) = if confirm {
            (
                "'requested', 'declined', 'confirmed'",
                Standing::Confirmed,
                "confirm_involvement",
            )
        } else {
            (
                "'requested', 'confirmed', 'declined'",
                Standing::Declined,
                "decline_involvement",
            )
        };
        self.write(|sql| {
            let changed = sql.execute(
                &format!(
                    "UPDATE involvements SET state = $1, decided_at = $2, decided_by = $3, reason = $4
                     WHERE agency_id = $5 AND state IN ({from}) AND last_entry_at >= $6
                       AND record_id IN (SELECT id FROM person_records WHERE person_id = $7)"
                ),
                &[
                    to.as_str().into(),
                    at.into(),
                    actor.id().into(),
                    reason.into(),
                    agency.as_str().into(),
                    since.into(),
                    person.to_string().into(),
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::invalid(
                    None,
                    "agency",
                    format!("{agency} has no involvement with this person that can be {}", if confirm { "confirmed" } else { "declined" }),
                ));
            }
            let event = AuditEvent {
                reason: Some(format!("{agency}: {reason}")),
                ..AuditEvent::new(action, person.to_string())
            };
            audit::append_events(sql, actor, at, &[event])
        })
    }

    /// Requests to be involved that wait for a decision, oldest first: those about children
    /// `lead` is the lead professional of, or every one when `lead` is `None` (a safeguarding
    /// lead's list).
    pub fn pending_involvements(
        &self,
        lead: Option<&str>,
    ) -> Result<Vec<PendingInvolvement>, StoreError> {
        let since = micros() - self.involvement_period_micros();
        self.read(|sql| {
            let mut params = vec![since.into()];
            let mut filter = "";
            if let Some(user) = lead {
                params.push(user.into());
                filter = "AND r.person_id IN (SELECT person_id FROM allocations
                           WHERE user_id = $2 AND lead = 1 AND ended_at IS NULL)";
            }
            sql.query(
                &format!(
                    "SELECT r.person_id, i.agency_id, a.name, MIN(i.requested_at), MAX(i.last_entry_at)
                     FROM involvements i
                     JOIN person_records r ON r.id = i.record_id
                     JOIN agencies a ON a.id = i.agency_id
                     WHERE i.state = 'requested' AND i.last_entry_at >= $1 {filter}
                     GROUP BY r.person_id, i.agency_id, a.name
                     ORDER BY MIN(i.requested_at), r.person_id, i.agency_id"
                ),
                &params,
            )?
            .iter()
            .map(|r| {
                Ok(PendingInvolvement {
                    person: r
                        .text(0)?
                        .parse()
                        .map_err(|_| StoreError::Corrupt("bad person id".into()))?,
                    agency: agency(r.text(1)?)?,
                    agency_name: r.text(2)?.to_owned(),
                    requested_at: rfc3339(r.int(3)?),
                    last_entry_at: rfc3339(r.int(4)?),
                })
            })
            .collect()
        })
    }

    /// The workers allocated to a child now, the lead professional first.
    pub fn allocations(&self, person: PersonId) -> Result<Vec<Allocation>, StoreError> {
        self.read(|sql| {
            sql.query(
                "SELECT u.display_name, g.name, a.lead, a.allocated_at FROM allocations a
                 JOIN users u ON u.id = a.user_id JOIN agencies g ON g.id = u.agency_id
                 WHERE a.person_id = $1 AND a.ended_at IS NULL AND u.disabled = 0
                 ORDER BY a.lead DESC, a.allocated_at, u.display_name",
                &[person.to_string().into()],
            )?
            .iter()
            .map(|r| {
                Ok(Allocation {
                    name: r.text(0)?.to_owned(),
                    agency_name: r.text(1)?.to_owned(),
                    lead: r.int(2)? != 0,
                    since: rfc3339(r.int(3)?),
                })
            })
            .collect()
        })
    }

    /// A child's status: on a plan or not, the lead professional, and each agency's standing.
    pub fn child_status(&self, person: PersonId) -> Result<ChildStatus, StoreError> {
        let since = micros() - self.involvement_period_micros();
        self.read(|sql| {
            let id = person.to_string();
            let latest_plan = sql.query_opt(
                "SELECT e.kind FROM entries e
                 JOIN entry_persons ep ON ep.entry_id = e.id
                 JOIN person_records r ON r.id = ep.record_id
                 WHERE r.person_id = $1 AND e.kind IN ('plan_start', 'plan_end')
                 ORDER BY e.occurred_at DESC, e.received_at DESC LIMIT 1",
                &[id.as_str().into()],
            )?;
            let on_plan = match latest_plan {
                Some(row) => row.text(0)? == "plan_start",
                None => false,
            };
            let lead_professional = sql
                .query_opt(
                    "SELECT u.display_name, u.agency_id, g.name FROM allocations a
                     JOIN users u ON u.id = a.user_id JOIN agencies g ON g.id = u.agency_id
                     WHERE a.person_id = $1 AND a.lead = 1 AND a.ended_at IS NULL AND u.disabled = 0",
                    &[id.as_str().into()],
                )?
                .map(|r| {
                    Ok::<_, StoreError>(LeadProfessional {
                        name: r.text(0)?.to_owned(),
                        agency: agency(r.text(1)?)?,
                        agency_name: r.text(2)?.to_owned(),
                    })
                })
                .transpose()?;
            let rows = sql.query(
                "SELECT i.agency_id, i.state, i.decided_at, i.reason FROM involvements i
                 JOIN person_records r ON r.id = i.record_id
                 WHERE r.person_id = $1 AND i.last_entry_at >= $2
                 ORDER BY i.agency_id, i.last_entry_at DESC",
                &[id.as_str().into(), since.into()],
            )?;
            let mut agencies: Vec<AgencyStanding> = Vec::new();
            for r in &rows {
                let standing = AgencyStanding {
                    agency: agency(r.text(0)?)?,
                    standing: Standing::parse(r.text(1)?)?,
                    decided_at: r.opt_int(2)?.map(rfc3339),
                    reason: r.opt_text(3)?.map(str::to_owned),
                };
                match agencies.iter_mut().find(|a| a.agency == standing.agency) {
                    // An established record outranks a request of the same agency.
                    Some(a) if standing.standing.established() && !a.standing.established() => {
                        *a = standing
                    }
                    Some(_) => {}
                    None => agencies.push(standing),
                }
            }
            Ok(ChildStatus {
                on_plan,
                lead_professional,
                agencies,
            })
        })
    }
}

/// The involvement of a child within a transaction: `since` is the start of the period.
/// See [`Store::read_standing`].
#[derive(Debug, Clone)]
pub struct ReadStanding {
    /// The person this one was merged into.
    pub merged_into: Option<PersonId>,
    /// The agencies' involvement with the person.
    pub involvement: Involvement,
    /// The session broke glass for the person, and it has not expired.
    pub broke_glass: bool,
}

/// The read standing of `person` in one statement, and so one snapshot and one round trip,
/// however the engine runs it: every read of a child's record asks this first. Each part is
/// a branch of one `UNION ALL`, its rows tagged by what they are.
fn standing_in(
    sql: &mut dyn Sql,
    person: PersonId,
    since: i64,
    session_hash: Option<&str>,
) -> Result<ReadStanding, StoreError> {
    let mut values: Vec<crate::sql::Value> = vec![person.to_string().into(), since.into()];
    let broke_glass = match session_hash {
        Some(hash) => {
            values.push(hash.into());
            values.push(micros().into());
            "UNION ALL
             SELECT 'broke_glass', NULL, NULL, NULL FROM break_glass
             WHERE session_hash = $3 AND person_id = $1 AND expires_at > $4"
        }
        None => "",
    };
    // Only the local authority's record opens a review: see `serious_incidents_in`.
    let rows = sql.query(
        &format!(
            "SELECT 'merged', merged_into, CAST(NULL AS TEXT), CAST(NULL AS BIGINT)
             FROM persons WHERE id = $1
             UNION ALL
             SELECT 'involvement', i.agency_id, i.state, NULL FROM involvements i
             JOIN person_records r ON r.id = i.record_id
             WHERE r.person_id = $1 AND i.last_entry_at >= $2
             UNION ALL
             SELECT 'allocation', a.user_id, u.agency_id, a.lead
             FROM allocations a JOIN users u ON u.id = a.user_id
             WHERE a.person_id = $1 AND a.ended_at IS NULL AND u.disabled = 0
             UNION ALL
             SELECT 'incident', e.body, r.person_id || ' ' || e.id, e.occurred_at FROM entries e
             JOIN agencies g ON g.id = e.agency_id AND g.kind = 'social_care'
             JOIN entry_persons ep ON ep.entry_id = e.id AND ep.role = 'subject_child'
             JOIN person_records r ON r.id = ep.record_id
             WHERE e.kind = 'serious_incident'
               AND NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.id)
               AND (r.person_id = $1 OR EXISTS (
                   SELECT 1 FROM person_records mr
                   JOIN entry_persons mep ON mep.record_id = mr.id
                   JOIN entry_persons cep ON cep.entry_id = mep.entry_id
                   JOIN person_records cr ON cr.id = cep.record_id
                   WHERE mr.person_id = $1 AND cr.person_id = r.person_id))
             {broke_glass}"
        ),
        &values,
    )?;
    let mut standing = ReadStanding {
        merged_into: None,
        involvement: Involvement::default(),
        broke_glass: false,
    };
    let mut incidents = Vec::new();
    for r in &rows {
        match r.text(0)? {
            "merged" => {
                standing.merged_into = r
                    .opt_text(1)?
                    .map(|t| crate::append::parse_id(t).map(PersonId))
                    .transpose()?;
            }
            "involvement" => {
                let agency = agency(r.text(1)?)?;
                if Standing::parse(r.text(2)?)?.established() {
                    standing.involvement.established_agencies.push(agency);
                } else {
                    standing.involvement.pending_agencies.push(agency);
                }
            }
            "allocation" => {
                let user = r.text(1)?.to_owned();
                standing
                    .involvement
                    .allocated_agencies
                    .push(agency(r.text(2)?)?);
                if r.int(3)? != 0 {
                    standing.involvement.lead_professional = Some(user.clone());
                }
                standing.involvement.allocated_users.push(user);
            }
            "incident" => incidents.push((r.int(3)?, r.text(2)?.to_owned(), r.text(1)?.to_owned())),
            "broke_glass" => standing.broke_glass = true,
            other => return Err(StoreError::Corrupt(format!("standing row {other}"))),
        }
    }
    let involvement = &mut standing.involvement;
    let established = involvement.established_agencies.clone();
    involvement
        .pending_agencies
        .retain(|a| !established.contains(a));
    for agencies in [
        &mut involvement.established_agencies,
        &mut involvement.pending_agencies,
    ] {
        agencies.sort();
        agencies.dedup();
    }
    // Each child's incidents in order: the child's own review, and those of the children
    // whose record names this person (a parent, a sibling, the adult seen at the home).
    let mut by_child: std::collections::BTreeMap<&str, Vec<(i64, &str, &str)>> =
        std::collections::BTreeMap::new();
    for (at, key, body) in &incidents {
        let (child, entry) = key.split_once(' ').unwrap_or((key, ""));
        by_child.entry(child).or_default().push((*at, entry, body));
    }
    let reviews = by_child
        .into_values()
        .map(|mut of_child| {
            of_child.sort_unstable();
            let incidents = of_child
                .iter()
                .map(|(_, _, body)| incident_of(body))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(safeguard_core::ReviewProgress::of(
                incidents.iter().flatten().map(|i| ((), i)),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    (involvement.under_review, involvement.review_panel) =
        safeguard_core::reading_by_reviews(&reviews);
    Ok(standing)
}

/// The serious incident an entry body records, if it records one.
fn incident_of(body: &str) -> Result<Option<safeguard_core::SeriousIncident>, StoreError> {
    let entry: safeguard_core::Entry =
        serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(match entry.details {
        safeguard_core::EntryDetails::SeriousIncident(incident) => Some(incident),
        _ => None,
    })
}

/// Children's social care's serious incident entries about `person` (as the subject child,
/// not superseded), oldest first. Only the local authority's record opens a review: an entry
/// from any other agency saying so does not open the record to review panels.
fn serious_incidents_in(
    sql: &mut dyn Sql,
) -> Result<Vec<(PersonId, safeguard_core::SeriousIncident)>, StoreError> {
    let rows = sql.query(
        "SELECT r.person_id, e.body FROM entries e
         JOIN agencies g ON g.id = e.agency_id AND g.kind = 'social_care'
         JOIN entry_persons ep ON ep.entry_id = e.id AND ep.role = 'subject_child'
         JOIN person_records r ON r.id = ep.record_id
         WHERE e.kind = 'serious_incident'
           AND NOT EXISTS (SELECT 1 FROM entries s WHERE s.supersedes = e.id)
         ORDER BY e.occurred_at, e.id",
        &[],
    )?;
    let mut incidents = Vec::with_capacity(rows.len());
    for row in &rows {
        let child = PersonId(crate::append::parse_id(row.text(0)?)?);
        if let Some(incident) = incident_of(row.text(1)?)? {
            incidents.push((child, incident));
        }
    }
    Ok(incidents)
}

/// A child whose practice review is open, for the review panel's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderReview {
    /// The child.
    pub person: PersonId,
    /// Where the review stands: the latest stage recorded.
    pub stage: safeguard_core::IncidentStage,
    /// The panel members named for it (none named: every review panel member).
    pub panel: Vec<String>,
}

impl Store {
    /// Every child whose practice review is open, with its latest stage.
    pub fn children_under_review(&self) -> Result<Vec<UnderReview>, StoreError> {
        self.read(|sql| {
            let mut by_child: std::collections::BTreeMap<
                PersonId,
                Vec<safeguard_core::SeriousIncident>,
            > = std::collections::BTreeMap::new();
            for (child, incident) in serious_incidents_in(sql)? {
                by_child.entry(child).or_default().push(incident);
            }
            Ok(by_child
                .into_iter()
                .filter(|(_, incidents)| safeguard_core::review_open(incidents))
                .filter_map(|(person, incidents)| {
                    incidents.last().map(|i| UnderReview {
                        person,
                        stage: i.stage,
                        panel: safeguard_core::review_panel(&incidents),
                    })
                })
                .collect())
        })
    }
}

/// A team's caseload, as its manager sees it: the agency's workers and the children allocated
/// to each, the concerns open on those children, and the children the agency holds that nobody
/// in it is allocated to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caseload {
    /// Each worker who works cases (name, children allocated to them), by name.
    pub workers: Vec<CaseloadWorker>,
    /// Every open flag on the allocated and unallocated children: (child, flag).
    pub flags: Vec<(PersonId, crate::flags::StoredFlag)>,
    /// Children the agency holds (or is confirmed on) within the involvement period, with no
    /// worker of the agency allocated.
    pub unallocated: Vec<PersonId>,
}

/// A worker of a caseload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadWorker {
    /// Their name.
    pub name: String,
    /// The children allocated to them.
    pub children: Vec<PersonId>,
}

impl Store {
    /// The caseload of `agency`'s workers.
    pub fn caseload(&self, agency: &AgencyId) -> Result<Caseload, StoreError> {
        let since = micros() - self.involvement_period_micros();
        let mut caseload = Caseload::default();
        let mut children = std::collections::BTreeSet::new();
        self.read(|sql| {
            let agency = agency.as_str();
            let mut by_user: std::collections::BTreeMap<String, CaseloadWorker> =
                std::collections::BTreeMap::new();
            for r in sql.query(
                "SELECT id, display_name, roles FROM users WHERE agency_id = $1 AND disabled = 0",
                &[agency.into()],
            )? {
                let works = r
                    .text(2)?
                    .split(',')
                    .filter_map(safeguard_core::access::Role::parse)
                    .any(|role| role.works_cases());
                if works {
                    by_user.insert(
                        r.text(0)?.to_owned(),
                        CaseloadWorker {
                            name: r.text(1)?.to_owned(),
                            children: Vec::new(),
                        },
                    );
                }
            }
            for r in sql.query(
                "SELECT a.user_id, a.person_id FROM allocations a JOIN users u ON u.id = a.user_id
                 WHERE u.agency_id = $1 AND a.ended_at IS NULL AND u.disabled = 0
                 ORDER BY a.allocated_at",
                &[agency.into()],
            )? {
                let child = PersonId(crate::append::parse_id(r.text(1)?)?);
                if let Some(worker) = by_user.get_mut(r.text(0)?) {
                    worker.children.push(child);
                }
                children.insert(child);
            }
            caseload.unallocated = sql
                .query(
                    "SELECT DISTINCT r.person_id FROM involvements i
                     JOIN person_records r ON r.id = i.record_id
                     WHERE i.agency_id = $1 AND i.state IN ('held', 'confirmed') AND i.last_entry_at >= $2
                       AND EXISTS (SELECT 1 FROM entry_persons ep JOIN person_records cr ON cr.id = ep.record_id
                                   WHERE cr.person_id = r.person_id AND ep.role = 'subject_child')
                       AND NOT EXISTS (SELECT 1 FROM allocations a JOIN users u ON u.id = a.user_id
                                       WHERE a.person_id = r.person_id AND a.ended_at IS NULL
                                         AND u.agency_id = $1 AND u.disabled = 0)
                     ORDER BY r.person_id",
                    &[agency.into(), since.into()],
                )?
                .iter()
                .map(|r| Ok(PersonId(crate::append::parse_id(r.text(0)?)?)))
                .collect::<Result<_, StoreError>>()?;
            caseload.workers = by_user.into_values().collect();
            caseload.workers.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        })?;
        children.extend(caseload.unallocated.iter().copied());
        caseload.flags = self.flags_of(&children.into_iter().collect::<Vec<_>>())?;
        Ok(caseload)
    }
}
