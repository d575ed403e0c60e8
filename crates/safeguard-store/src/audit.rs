//! The audit log as a hash chain. Each event's hash covers its content and the hash of the
//! event before it (SHA-256 over a length-prefixed canonical encoding), and `audit_head` holds
//! the last. Verifying recomputes the chain and names the first event that was changed, removed,
//! moved or cut off. The chain proves integrity only up to its head: an operator who records
//! the head hash elsewhere (`audit verify` prints it) can also detect a rewritten chain.

use sha2::{Digest, Sha256};

use crate::migrate::hex;
use crate::sql::{Row, Sql, SqlExt, Value};
use crate::{Actor, StoreError};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// What was done (`append_entry`, `read_chronology`, `break_glass`).
    pub action: String,
    /// What it was done to (an entry or person identifier).
    pub subject: String,
    /// The reason given, when one is required (break-glass).
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event with no reason.
    pub fn new(action: &str, subject: impl Into<String>) -> Self {
        Self {
            action: action.to_owned(),
            subject: subject.into(),
            reason: None,
        }
    }
}

/// An event as stored in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When, in microseconds since 1970 (UTC).
    pub at: i64,
    /// Who: a user name or `system:NAME`.
    pub actor: String,
    /// The actor's agency.
    pub agency: Option<String>,
    /// The actor's role.
    pub role: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Why, when a reason was required.
    pub reason: Option<String>,
    /// The hash of the event before.
    pub prev_hash: String,
    /// The hash of this event.
    pub hash: String,
}

impl ChainedEvent {
    /// The hash this event should have, from its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |value: Option<&[u8]>| match value {
            None => h.update([0u8]),
            Some(bytes) => {
                h.update([1u8]);
                h.update((bytes.len() as u64).to_be_bytes());
                h.update(bytes);
            }
        };
        field(Some(&self.seq.to_be_bytes()));
        field(Some(&self.at.to_be_bytes()));
        field(Some(self.actor.as_bytes()));
        field(self.agency.as_deref().map(str::as_bytes));
        field(self.role.as_deref().map(str::as_bytes));
        field(Some(self.action.as_bytes()));
        field(Some(self.subject.as_bytes()));
        field(self.reason.as_deref().map(str::as_bytes));
        field(Some(self.prev_hash.as_bytes()));
        hex(&h.finalize())
    }
}

/// Appends events to the chain in the caller's transaction.
pub(crate) fn append_events(
    sql: &mut dyn Sql,
    actor: &Actor,
    at: i64,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    // Touching the head row first locks it (PostgreSQL) until commit: chains never fork.
    let head = sql
        .query_opt(
            "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("the audit head is missing".into()))?;
    let (mut seq, mut prev_hash) = (head.int(0)?, head.text(1)?.to_owned());
    for e in events {
        seq += 1;
        let event = ChainedEvent {
            seq,
            at,
            actor: actor.id().to_owned(),
            agency: actor.agency().map(str::to_owned),
            role: actor.role().map(str::to_owned),
            action: e.action.clone(),
            subject: e.subject.clone(),
            reason: e.reason.clone(),
            prev_hash,
            hash: String::new(),
        };
        let hash = event.expected_hash();
        sql.execute(
            "INSERT INTO audit_log (seq, at, actor, agency, role, action, subject, reason,
                 prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                seq.into(),
                at.into(),
                event.actor.into(),
                event.agency.into(),
                event.role.into(),
                event.action.into(),
                event.subject.into(),
                event.reason.into(),
                event.prev_hash.into(),
                hash.as_str().into(),
            ],
        )?;
        prev_hash = hash;
    }
    sql.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[seq.into(), Value::Text(prev_hash)],
    )?;
    Ok(())
}

/// Where the chain first fails, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tampering {
    /// The event's content does not match its hash: edited, or moved from elsewhere.
    #[error("audit event {seq} was changed: its content does not match its hash")]
    Changed {
        /// The event.
        seq: i64,
    },
    /// Events are missing before this one.
    #[error("audit events {from} to {to} were removed")]
    Removed {
        /// First missing position.
        from: i64,
        /// Last missing position.
        to: i64,
    },
    /// The event does not follow the one before it: the chain was re-linked or reordered.
    #[error(
        "audit event {seq} does not follow event {previous}: the log was reordered or re-linked"
    )]
    Relinked {
        /// The event.
        seq: i64,
        /// The event before it.
        previous: i64,
    },
    /// The log ends before the head says it does.
    #[error("the audit log was cut off after event {last}: the head records {head} events")]
    Truncated {
        /// The last event present.
        last: i64,
        /// The number of events the head records.
        head: i64,
    },
    /// The head does not match the last event.
    #[error("the audit head does not match event {seq}")]
    HeadMismatch {
        /// The last event.
        seq: i64,
    },
}

/// A verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many events.
    pub events: i64,
    /// The hash of the last event (the genesis hash for an empty log).
    pub head_hash: String,
}

/// Checks `events` (in `seq` order) against each other and against the head.
pub fn verify(
    events: impl IntoIterator<Item = ChainedEvent>,
    head_seq: i64,
    head_hash: &str,
) -> Result<Verified, Tampering> {
    let (mut last_seq, mut last_hash) = (0i64, GENESIS.to_owned());
    for e in events {
        if e.seq != last_seq + 1 {
            return Err(if e.seq > last_seq + 1 {
                Tampering::Removed {
                    from: last_seq + 1,
                    to: e.seq - 1,
                }
            } else {
                Tampering::Relinked {
                    seq: e.seq,
                    previous: last_seq,
                }
            });
        }
        if e.expected_hash() != e.hash {
            return Err(Tampering::Changed { seq: e.seq });
        }
        if e.prev_hash != last_hash {
            return Err(Tampering::Relinked {
                seq: e.seq,
                previous: last_seq,
            });
        }
        last_seq = e.seq;
        last_hash = e.hash;
    }
    if last_seq < head_seq {
        return Err(Tampering::Truncated {
            last: last_seq,
            head: head_seq,
        });
    }
    if last_seq != head_seq || last_hash != head_hash {
        return Err(Tampering::HeadMismatch { seq: last_seq });
    }
    Ok(Verified {
        events: last_seq,
        head_hash: last_hash,
    })
}

const EVENT_COLUMNS: &str =
    "seq, at, actor, agency, role, action, subject, reason, prev_hash, hash";

pub(crate) fn events_about(
    sql: &mut dyn Sql,
    subject: &str,
) -> Result<Vec<ChainedEvent>, StoreError> {
    sql.query(
        &format!("SELECT {EVENT_COLUMNS} FROM audit_log WHERE subject = $1 ORDER BY seq DESC"),
        &[subject.into()],
    )?
    .iter()
    .map(chained_event)
    .collect()
}

pub(crate) fn break_glass_by(
    sql: &mut dyn Sql,
    agency: &str,
) -> Result<Vec<ChainedEvent>, StoreError> {
    sql.query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM audit_log WHERE action = 'break_glass' AND (agency = $1
                 OR subject IN (SELECT r.person_id FROM involvements i
                     JOIN person_records r ON r.id = i.record_id
                     WHERE i.agency_id = $1 AND i.state IN ('held', 'confirmed')))
             ORDER BY seq DESC"
        ),
        &[agency.into()],
    )?
    .iter()
    .map(chained_event)
    .collect()
}

pub(crate) fn read_chain(
    sql: &mut dyn Sql,
) -> Result<(Vec<ChainedEvent>, i64, String), StoreError> {
    let head = sql
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| StoreError::Corrupt("the audit head is missing".into()))?;
    let events = sql
        .query(
            &format!("SELECT {EVENT_COLUMNS} FROM audit_log ORDER BY seq"),
            &[],
        )?
        .iter()
        .map(chained_event)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((events, head.int(0)?, head.text(1)?.to_owned()))
}

fn chained_event(row: &Row) -> Result<ChainedEvent, StoreError> {
    let text = |i| row.text(i).map(str::to_owned);
    let opt = |i| row.opt_text(i).map(|t| t.map(str::to_owned));
    Ok(ChainedEvent {
        seq: row.int(0)?,
        at: row.int(1)?,
        actor: text(2)?,
        agency: opt(3)?,
        role: opt(4)?,
        action: text(5)?,
        subject: text(6)?,
        reason: opt(7)?,
        prev_hash: text(8)?,
        hash: text(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = ChainedEvent {
                    seq,
                    at: 1_000 + seq,
                    actor: "sw1".into(),
                    agency: Some("north-childrens-services".into()),
                    role: Some("practitioner".into()),
                    action: "read_chronology".into(),
                    subject: format!("person-{seq}"),
                    reason: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn check(
        events: Vec<ChainedEvent>,
        head_seq: i64,
        head_hash: &str,
    ) -> Result<Verified, Tampering> {
        verify(events, head_seq, head_hash)
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let events = chain(5);
        let head = events[4].hash.clone();
        assert_eq!(
            check(events, 5, &head).unwrap(),
            Verified {
                events: 5,
                head_hash: head
            }
        );
        assert_eq!(check(Vec::new(), 0, GENESIS).unwrap().events, 0);
    }

    #[test]
    fn an_edited_event_is_named() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        events[2].subject = "someone else".into();
        assert_eq!(check(events, 5, &head), Err(Tampering::Changed { seq: 3 }));
    }

    #[test]
    fn a_missing_null_and_an_empty_reason_hash_differently() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        a.reason = None;
        b.reason = Some(String::new());
        assert_ne!(a.expected_hash(), b.expected_hash());
    }

    #[test]
    fn a_removed_event_is_named() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        events.remove(1);
        assert_eq!(
            check(events, 5, &head),
            Err(Tampering::Removed { from: 2, to: 2 })
        );
    }

    #[test]
    fn swapped_events_are_caught_at_the_first_moved_one() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        let (a, b) = (events[1].seq, events[3].seq);
        events[1].seq = b;
        events[3].seq = a;
        events.sort_by_key(|e| e.seq);
        assert_eq!(check(events, 5, &head), Err(Tampering::Changed { seq: 2 }));
    }

    #[test]
    fn a_rehashed_event_that_does_not_follow_its_predecessor_is_named() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        events[2].subject = "rewritten".into();
        events[2].hash = events[2].expected_hash();
        assert_eq!(
            check(events, 5, &head),
            Err(Tampering::Relinked {
                seq: 4,
                previous: 3
            })
        );
    }

    #[test]
    fn a_truncated_log_is_caught_by_the_head() {
        let mut events = chain(5);
        let head = events[4].hash.clone();
        events.truncate(3);
        assert_eq!(
            check(events, 5, &head),
            Err(Tampering::Truncated { last: 3, head: 5 })
        );
    }

    #[test]
    fn a_head_that_does_not_match_is_named() {
        let events = chain(3);
        assert_eq!(
            check(events, 3, GENESIS),
            Err(Tampering::HeadMismatch { seq: 3 })
        );
    }
}
