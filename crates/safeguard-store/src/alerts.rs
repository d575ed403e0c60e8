//! Alerts: when any agency records an entry about a child, the child's lead professional in
//! another agency is told, and so is every allocated worker of another agency while the child
//! is on a child protection plan. Written in the same request as the entry.

use chrono::Utc;
use safeguard_core::{EntryId, PersonId};
use serde::Serialize;
use uuid::Uuid;

use crate::append::parse_id;
use crate::sql::{Row, Sql, SqlExt};
use crate::{Store, StoreError};

/// An alert for a professional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// The alert's identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// The child.
    pub person: PersonId,
    /// The entry recorded.
    pub entry: EntryId,
    /// The agency that recorded it.
    pub agency: String,
    /// The entry's kind.
    pub kind: String,
    /// When the alert was raised.
    pub created_at: chrono::DateTime<Utc>,
    /// Whether the professional has seen it.
    pub read: bool,
    /// For an escalation, the concern escalated.
    pub reason: Option<String>,
}

fn alert_from(row: &Row) -> Result<Alert, StoreError> {
    let created = row.int(5)?;
    Ok(Alert {
        id: parse_id(row.text(0)?)?,
        person: PersonId(parse_id(row.text(1)?)?),
        entry: EntryId(parse_id(row.text(2)?)?),
        agency: row.text(3)?.to_owned(),
        kind: row.text(4)?.to_owned(),
        created_at: chrono::DateTime::from_timestamp_micros(created)
            .ok_or_else(|| StoreError::Corrupt(format!("alert time {created}")))?,
        read: row.opt_int(6)?.is_some(),
        reason: row.opt_text(7)?.map(str::to_owned),
    })
}

/// Stores an alert (once per professional, entry and child) and, when the professional's
/// agency has a webhook, queues its delivery in the same transaction. Returns whether it is new.
pub(crate) fn insert_alert(
    sql: &mut dyn Sql,
    user: &str,
    child: PersonId,
    entry: EntryId,
    now: i64,
    reason: Option<String>,
) -> Result<bool, StoreError> {
    let id = Uuid::now_v7();
    let inserted = sql.execute(
        "INSERT INTO alerts (id, user_id, person_id, entry_id, created_at, reason)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, entry_id, person_id) DO NOTHING",
        &[
            id.to_string().into(),
            user.into(),
            child.to_string().into(),
            entry.to_string().into(),
            now.into(),
            reason.clone().into(),
        ],
    )? == 1;
    if inserted
        && let Some(hook) = sql.query_opt(
            "SELECT w.agency_id FROM agency_webhooks w JOIN users u ON u.agency_id = w.agency_id
             WHERE u.id = $1",
            &[user.into()],
        )?
    {
        // Identifiers only: the agency's system reads the record through the API.
        let body = serde_json::json!({
            "alert": id, "user": user, "person": child, "entry": entry,
            "reason": reason, "created_at": chrono::DateTime::from_timestamp_micros(now),
        });
        sql.execute(
            "INSERT INTO webhook_deliveries (id, agency_id, body, next_attempt_at) VALUES ($1, $2, $3, $4)",
            &[Uuid::now_v7().to_string().into(), hook.text(0)?.into(), body.to_string().into(), now.into()],
        )?;
    }
    Ok(inserted)
}

/// Raises the alerts an entry about `child` calls for, in the caller's transaction; returns
/// how many. Every allocated worker of another agency hears of it while the child is on a
/// plan (`on_plan`), the lead only otherwise.
pub(crate) fn raise_alerts_in(
    sql: &mut dyn Sql,
    entry: EntryId,
    child: PersonId,
    on_plan: bool,
    now: i64,
) -> Result<usize, StoreError> {
    let recipients = sql.query(
        "SELECT a.user_id FROM allocations a
             JOIN users u ON u.id = a.user_id
             JOIN entries e ON e.id = $2
             WHERE a.person_id = $1 AND a.ended_at IS NULL AND u.disabled = 0
               AND u.agency_id <> e.agency_id AND (a.lead = 1 OR $3 = 1)",
        &[
            child.to_string().into(),
            entry.to_string().into(),
            i64::from(on_plan).into(),
        ],
    )?;
    let mut raised = 0;
    for r in &recipients {
        raised += usize::from(insert_alert(sql, r.text(0)?, child, entry, now, None)?);
    }
    Ok(raised)
}

impl Store {
    /// A professional's alerts, newest first (at most 200).
    pub fn alerts(&self, user: &str) -> Result<Vec<Alert>, StoreError> {
        self.read(|sql| {
            sql.query(
                "SELECT a.id, a.person_id, a.entry_id, e.agency_id, e.kind, a.created_at, a.read_at,
                        a.reason
                 FROM alerts a JOIN entries e ON e.id = a.entry_id
                 WHERE a.user_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT 200",
                &[user.into()],
            )?
            .iter()
            .map(alert_from)
            .collect()
        })
    }

    /// Marks every alert of a professional about a child as seen.
    pub fn mark_alerts_read(&self, user: &str, child: PersonId) -> Result<(), StoreError> {
        self.write(|sql| {
            sql.execute(
                "UPDATE alerts SET read_at = $3 WHERE user_id = $1 AND person_id = $2 AND read_at IS NULL",
                &[user.into(), child.to_string().into(), Utc::now().timestamp_micros().into()],
            )
            .map(|_| ())
        })
    }
}
