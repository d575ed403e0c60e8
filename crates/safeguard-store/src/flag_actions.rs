//! What professionals do about a concern the rules raised: acknowledge it, saying what is
//! being done, or assign it to a worker of their agency. Each act is kept (never edited) and
//! audited in the child's access log in the same transaction; the latest acknowledgement and
//! the latest assignment are the concern's state.

use chrono::{DateTime, Utc};
use safeguard_core::{AgencyId, FieldError, PersonId};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{self, AuditEvent};
use crate::sql::{Sql, SqlExt};
use crate::{Actor, Store, StoreError};

/// Something a professional does about a concern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagAction {
    /// Seen, and this is what is being done (a real sentence).
    Acknowledge {
        /// Why no more is needed, or what is being done.
        reason: String,
    },
    /// Given to a worker of the assigner's own agency to act on.
    Assign {
        /// The worker's user id.
        to: String,
    },
}

/// One thing done about a concern, as the child's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagActionRecord {
    /// The action's identifier.
    pub id: String,
    /// The concern's key.
    pub flag_key: String,
    /// `acknowledged` or `assigned`.
    pub action: String,
    /// Who did it.
    pub user: String,
    /// Their name.
    pub user_name: String,
    /// Their agency's name.
    pub agency_name: String,
    /// The reason given, for an acknowledgement.
    pub reason: Option<String>,
    /// The worker assigned, for an assignment.
    pub assignee: Option<String>,
    /// Their name.
    pub assignee_name: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

fn invalid(field: &str, message: &str) -> StoreError {
    StoreError::Invalid {
        index: None,
        error: FieldError::new(field, message),
    }
}

impl Store {
    /// Records what `actor` (a user of `agency`) did about the open concern `flag_key` on
    /// `person`'s record, and audits it. Refused, with nothing written, when the concern is
    /// not open on that record, the reason is not a real sentence, or the assignee is not an
    /// active user of the same agency. Who may act at all is the caller's access rule.
    pub fn act_on_flag(
        &self,
        actor: &Actor,
        agency: &AgencyId,
        person: PersonId,
        flag_key: &str,
        action: &FlagAction,
    ) -> Result<FlagActionRecord, StoreError> {
        let (name, reason, assignee) = match action {
            FlagAction::Acknowledge { reason } => {
                let reason = safeguard_core::text::reason("reason", reason)
                    .map_err(|error| StoreError::Invalid { index: None, error })?;
                ("acknowledged", Some(reason.trim().to_owned()), None)
            }
            FlagAction::Assign { to } => ("assigned", None, Some(to.as_str())),
        };
        let at = Utc::now().timestamp_micros();
        let id = self.write(|sql| {
            let open = sql.query_opt(
                "SELECT rule FROM flags WHERE person_id = $1 AND flag_key = $2 AND resolved_at IS NULL",
                &[person.to_string().into(), flag_key.into()],
            )?;
            let Some(open) = open else {
                return Err(invalid("flag", "is not an open concern on this record"));
            };
            let rule = open.text(0)?.to_owned();
            if let Some(to) = assignee {
                let worker = sql.query_opt(
                    "SELECT roles FROM users WHERE id = $1 AND agency_id = $2 AND disabled = 0",
                    &[to.into(), agency.as_str().into()],
                )?;
                // Someone who works cases: an auditor or an administrator reads no records.
                let works_cases = match &worker {
                    Some(row) => row
                        .text(0)?
                        .split(',')
                        .filter_map(safeguard_core::access::Role::parse)
                        .any(|r| r.works_cases()),
                    None => false,
                };
                if !works_cases {
                    return Err(invalid(
                        "assignee",
                        "must be an active caseworker of your own agency",
                    ));
                }
            }
            let id = Uuid::now_v7();
            sql.execute(
                "INSERT INTO flag_actions (id, person_id, flag_key, action, user_id, reason, assignee, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    id.to_string().into(),
                    person.to_string().into(),
                    flag_key.into(),
                    name.into(),
                    actor.id().into(),
                    reason.as_deref().into(),
                    assignee.into(),
                    at.into(),
                ],
            )?;
            // In the child's access log: the concern, and the reason or the worker.
            let said = match (&reason, assignee) {
                (Some(reason), _) => format!("{rule} ({flag_key}): {reason}"),
                (None, Some(to)) => format!("{rule} ({flag_key}) to {to}"),
                (None, None) => format!("{rule} ({flag_key})"),
            };
            let event = AuditEvent {
                reason: Some(said),
                ..AuditEvent::new(&format!("flag_{name}"), person.to_string())
            };
            audit::append_events(sql, actor, at, &[event])?;
            Ok(id)
        })?;
        self.flag_actions(person)?
            .into_iter()
            .find(|a| a.id == id.to_string())
            .ok_or_else(|| StoreError::Corrupt(format!("flag action {id} vanished")))
    }

    /// Everything done about the concerns on `person`'s record, oldest first.
    pub fn flag_actions(&self, person: PersonId) -> Result<Vec<FlagActionRecord>, StoreError> {
        self.read(|sql| flag_actions_in(sql, person))
    }
}

pub(crate) fn flag_actions_in(
    sql: &mut dyn Sql,
    person: PersonId,
) -> Result<Vec<FlagActionRecord>, StoreError> {
    sql.query(
        "SELECT f.flag_key, f.action, f.user_id, u.display_name, g.name, f.reason, f.assignee,
                w.display_name, f.at, f.id
         FROM flag_actions f
         JOIN users u ON u.id = f.user_id
         JOIN agencies g ON g.id = u.agency_id
         LEFT JOIN users w ON w.id = f.assignee
         WHERE f.person_id = $1 ORDER BY f.at, f.id",
        &[person.to_string().into()],
    )?
    .iter()
    .map(|row| {
        Ok(FlagActionRecord {
            id: row.text(9)?.to_owned(),
            flag_key: row.text(0)?.to_owned(),
            action: row.text(1)?.to_owned(),
            user: row.text(2)?.to_owned(),
            user_name: row.text(3)?.to_owned(),
            agency_name: row.text(4)?.to_owned(),
            reason: row.opt_text(5)?.map(str::to_owned),
            assignee: row.opt_text(6)?.map(str::to_owned),
            assignee_name: row.opt_text(7)?.map(str::to_owned),
            at: DateTime::from_timestamp_micros(row.int(8)?)
                .ok_or_else(|| StoreError::Corrupt("a flag action's time".into()))?,
        })
    })
    .collect()
}

/// An open concern whose latest assignment is to a worker, for their list.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedConcern {
    /// The child.
    pub person: PersonId,
    /// The concern.
    pub flag: crate::flags::StoredFlag,
    /// Who assigned it.
    pub by: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

impl Store {
    /// The open concerns last assigned to `user`, most recently assigned first (at most 200).
    pub fn assigned_to(&self, user: &str) -> Result<Vec<AssignedConcern>, StoreError> {
        let columns: Vec<String> = crate::flags::FLAG_COLUMNS
            .split(", ")
            .map(|c| format!("fl.{c}"))
            .collect();
        // The columns after the flag's own.
        let n = columns.len();
        let columns = columns.join(", ");
        self.read(|sql| {
            sql.query(
                &format!(
                    "SELECT {columns}, a.person_id, u.display_name, a.at
                     FROM flag_actions a
                     JOIN flags fl ON fl.person_id = a.person_id AND fl.flag_key = a.flag_key
                     JOIN users u ON u.id = a.user_id
                     WHERE a.assignee = $1 AND a.action = 'assigned' AND fl.resolved_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM flag_actions later
                           WHERE later.person_id = a.person_id AND later.flag_key = a.flag_key
                             AND later.action = 'assigned' AND later.at > a.at)
                     ORDER BY a.at DESC LIMIT 200"
                ),
                &[user.into()],
            )?
            .iter()
            .map(|row| {
                Ok(AssignedConcern {
                    flag: crate::flags::flag_from(row)?,
                    person: PersonId(crate::append::parse_id(row.text(n)?)?),
                    by: row.text(n + 1)?.to_owned(),
                    at: DateTime::from_timestamp_micros(row.int(n + 2)?)
                        .ok_or_else(|| StoreError::Corrupt("an assignment's time".into()))?,
                })
            })
            .collect()
        })
    }
}
