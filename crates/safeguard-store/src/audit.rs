//! The audit log as a keyed hash chain. Each event's hash is an HMAC-SHA256, under a key held
//! outside the database, of its content and the hash of the event before it (a length-prefixed
//! canonical encoding), and `audit_head` holds the last. Verifying recomputes the chain and
//! names the first event that was changed, removed, moved or cut off; without the key nobody
//! can re-chain an edited log. A signed [`Checkpoint`], kept elsewhere, also catches a log
//! reset or rewritten as a whole. Events written before the chain was keyed (`keyed_from`)
//! keep their plain SHA-256 hashes. Triggers make the log append-only.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::migrate::hex;
use crate::sql::{Row, Sql, SqlExt, Value, placeholders};
use crate::{Actor, StoreError};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The secret the audit chain is signed with: 32 bytes, held outside the database (a file or
/// the environment), never logged.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

/// The environment variable that may hold the audit key, as 64 hexadecimal digits.
pub const AUDIT_KEY_ENV: &str = "SAFEGUARD_AUDIT_KEY";
/// The environment variable that may name the audit key's file.
pub const AUDIT_KEY_FILE_ENV: &str = "SAFEGUARD_AUDIT_KEY_FILE";

impl AuditKey {
    /// A new random key.
    pub fn generate() -> Self {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        AuditKey(key)
    }

    /// A key written as 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("an audit key is 64 hexadecimal digits (32 bytes)".into());
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(AuditKey(key))
    }

    /// The key in `path`, or a new one written there (readable by its owner only) when the
    /// file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text)
                .map_err(|e| StoreError::Open(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let write = || -> std::io::Result<()> {
                    use std::io::Write;
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)?;
                    }
                    let mut file = options.open(path)?;
                    writeln!(file, "{}", hex(&key.0))?;
                    file.sync_all()
                };
                write().map_err(|e| {
                    StoreError::Open(format!(
                        "cannot write the audit key {}: {e}",
                        path.display()
                    ))
                })?;
                Ok(key)
            }
            Err(e) => Err(StoreError::Open(format!(
                "cannot read the audit key {}: {e}",
                path.display()
            ))),
        }
    }

    /// The key for a database: `SAFEGUARD_AUDIT_KEY` (hex) if set; else the file `file`, or
    /// `SAFEGUARD_AUDIT_KEY_FILE`; else, for SQLite, `PATH.audit-key` beside the database
    /// (created on first use). PostgreSQL has no place beside it: it needs one of the others.
    pub fn for_database(url: &crate::DatabaseUrl, file: Option<&Path>) -> Result<Self, StoreError> {
        if let Ok(text) = std::env::var(AUDIT_KEY_ENV) {
            return Self::from_hex(&text)
                .map_err(|e| StoreError::Open(format!("{AUDIT_KEY_ENV}: {e}")));
        }
        let file = file
            .map(Path::to_owned)
            .or_else(|| std::env::var_os(AUDIT_KEY_FILE_ENV).map(PathBuf::from));
        match (file, url) {
            (Some(file), _) => Self::load_or_create(&file),
            (None, crate::DatabaseUrl::Sqlite(path)) => {
                let mut beside = path.as_os_str().to_owned();
                beside.push(".audit-key");
                Self::load_or_create(Path::new(&beside))
            }
            (None, crate::DatabaseUrl::Postgres(_)) => Err(StoreError::Open(format!(
                "PostgreSQL needs an audit key held outside the database: set {AUDIT_KEY_ENV} or pass --audit-key-file"
            ))),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

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
    fn encoding(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut field = |value: Option<&[u8]>| match value {
            None => out.push(0u8),
            Some(bytes) => {
                out.push(1u8);
                out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
                out.extend_from_slice(bytes);
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
        out
    }

    /// The hash this event should have, from its content and `prev_hash`: an HMAC under
    /// `key`, or (an event from before the chain was keyed) a plain SHA-256.
    pub fn expected_hash(&self, key: Option<&AuditKey>) -> String {
        match key {
            Some(key) => {
                let mut mac = key.mac();
                mac.update(&self.encoding());
                hex(&mac.finalize().into_bytes())
            }
            None => hex(&Sha256::digest(self.encoding())),
        }
    }
}

/// Marks where the keyed chain starts, once: the events before (from a release whose chain had
/// no key) keep their plain hashes.
pub(crate) fn start_keyed_chain(sql: &mut dyn Sql) -> Result<(), StoreError> {
    sql.execute(
        "UPDATE audit_head SET keyed_from = seq + 1 WHERE id = 1 AND keyed_from IS NULL",
        &[],
    )?;
    Ok(())
}

/// Which of the two chains: what was written (entries, decisions, accounts), or what was read
/// (every read of a record, every refusal, every search). Reads have a chain of their own so
/// that auditing a read never queues behind a long write (on SQLite, in a file of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// What was written.
    Writes,
    /// What was read.
    Reads,
}

impl Log {
    /// The chain's table and its head's table.
    fn tables(self) -> (&'static str, &'static str) {
        match self {
            Log::Writes => ("audit_log", "audit_head"),
            Log::Reads => ("read_log", "read_head"),
        }
    }
}

/// Appends events to the chain of writes in the caller's transaction.
pub(crate) fn append_events(
    sql: &mut dyn Sql,
    actor: &Actor,
    at: i64,
    events: &[AuditEvent],
) -> Result<(), StoreError> {
    append_events_to(sql, Log::Writes, &[Recorded { actor, at, events }])
}

/// Events one actor caused at one time.
pub(crate) struct Recorded<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) at: i64,
    pub(crate) events: &'a [AuditEvent],
}

/// The most events one `INSERT` carries: a power of two, as every smaller batch is, so that
/// few distinct statements are prepared.
const EVENTS_PER_INSERT: usize = 64;

/// Appends events to one chain in the caller's transaction, in order: one lock of the head,
/// a few multi-row inserts, one update of the head, however many callers' events are given.
pub(crate) fn append_events_to(
    sql: &mut dyn Sql,
    log: Log,
    recorded: &[Recorded<'_>],
) -> Result<(), StoreError> {
    let (table, head_table) = log.tables();
    if recorded.iter().all(|r| r.events.is_empty()) {
        return Ok(());
    }
    // Touching the head row first locks it (PostgreSQL) until commit: chains never fork.
    let key = sql
        .audit_key()
        .ok_or_else(|| StoreError::Corrupt("no audit key for this transaction".into()))?
        .clone();
    let head = sql
        .query_opt(
            &format!("UPDATE {head_table} SET seq = seq WHERE id = 1 RETURNING seq, hash"),
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("the audit head is missing".into()))?;
    let (mut seq, mut prev_hash) = (head.int(0)?, head.text(1)?.to_owned());
    let mut chained = Vec::with_capacity(recorded.iter().map(|r| r.events.len()).sum());
    for r in recorded {
        for e in r.events {
            seq += 1;
            let mut event = ChainedEvent {
                seq,
                at: r.at,
                actor: r.actor.id().to_owned(),
                agency: r.actor.agency().map(str::to_owned),
                role: r.actor.role().map(str::to_owned),
                action: e.action.clone(),
                subject: e.subject.clone(),
                reason: e.reason.clone(),
                prev_hash,
                hash: String::new(),
            };
            event.hash = event.expected_hash(Some(&key));
            prev_hash = event.hash.clone();
            chained.push(event);
        }
    }
    let mut rest = chained.as_slice();
    while !rest.is_empty() {
        // The largest power of two that fits: 64, then 32, 16, ... for the remainder.
        let n = EVENTS_PER_INSERT.min(1 << rest.len().ilog2());
        let (batch, after) = rest.split_at(n);
        rest = after;
        const COLUMNS: usize = 10;
        let rows: Vec<String> = (0..n)
            .map(|i| format!("({})", placeholders(i * COLUMNS, COLUMNS)))
            .collect();
        let mut values = Vec::with_capacity(n * COLUMNS);
        for event in batch {
            values.extend([
                event.seq.into(),
                event.at.into(),
                event.actor.as_str().into(),
                event.agency.as_deref().into(),
                event.role.as_deref().into(),
                event.action.as_str().into(),
                event.subject.as_str().into(),
                event.reason.as_deref().into(),
                event.prev_hash.as_str().into(),
                event.hash.as_str().into(),
            ]);
        }
        sql.execute(
            &format!(
                "INSERT INTO {table} (seq, at, actor, agency, role, action, subject, reason,
                     prev_hash, hash)
                 VALUES {}",
                rows.join(", ")
            ),
            &values,
        )?;
    }
    sql.execute(
        &format!("UPDATE {head_table} SET seq = $1, hash = $2 WHERE id = 1"),
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
    /// The log no longer extends a checkpoint taken earlier: rewritten, reset or cut short.
    #[error(
        "the audit log no longer extends the checkpoint at event {seq}: it was rewritten, reset or cut short since"
    )]
    CheckpointLost {
        /// The checkpoint's position.
        seq: i64,
    },
    /// Tampering found in the chain of reads.
    #[error("the log of reads: {0}")]
    InReads(Box<Tampering>),
    /// The log of reads no longer extends a checkpoint taken earlier.
    #[error(
        "the log of reads no longer extends the checkpoint at read event {seq}: it was rewritten, reset or cut short since"
    )]
    ReadCheckpointLost {
        /// The checkpoint's position in the log of reads.
        seq: i64,
    },
    /// A checkpoint was not signed with this key: forged, or from another deployment.
    #[error("the checkpoint's signature does not match this deployment's audit key")]
    CheckpointForged,
}

/// The audit log as read for verification.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Every event, in `seq` order.
    pub events: Vec<ChainedEvent>,
    /// The head's position.
    pub head_seq: i64,
    /// The head's hash.
    pub head_hash: String,
    /// The first keyed event's position (events before it have plain hashes).
    pub keyed_from: i64,
}

/// A signed statement that the chain had `seq` events ending in `hash`: exported, kept
/// elsewhere, and later checked (`audit verify --since`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// How many events the chain of writes had.
    pub seq: i64,
    /// The hash of the last of them.
    pub hash: String,
    /// How many events the chain of reads had.
    pub read_seq: i64,
    /// The hash of the last of them.
    pub read_hash: String,
    mac: String,
}

const CHECKPOINT_PREFIX: &str = "safeguard-audit-checkpoint:v2";

impl Checkpoint {
    fn mac_of(seq: i64, hash: &str, read_seq: i64, read_hash: &str, key: &AuditKey) -> String {
        let mut mac = key.mac();
        mac.update(format!("{CHECKPOINT_PREFIX}:{seq}:{hash}:{read_seq}:{read_hash}").as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// The checkpoint of the chain of writes (`seq` events ending in `hash`) and of reads,
    /// signed under `key`.
    pub fn sign(seq: i64, hash: &str, read_seq: i64, read_hash: &str, key: &AuditKey) -> Self {
        Self {
            seq,
            hash: hash.to_owned(),
            read_seq,
            read_hash: read_hash.to_owned(),
            mac: Self::mac_of(seq, hash, read_seq, read_hash, key),
        }
    }

    /// Reads a checkpoint as [`Checkpoint`]'s `Display` writes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .trim()
            .strip_prefix(CHECKPOINT_PREFIX)
            .and_then(|r| r.strip_prefix(':'))
            .ok_or_else(|| format!("a checkpoint starts with {CHECKPOINT_PREFIX}:"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [seq, hash, read_seq, read_hash, mac] = parts[..] else {
            return Err("a checkpoint is PREFIX:SEQ:HASH:READ_SEQ:READ_HASH:SIGNATURE".into());
        };
        Ok(Self {
            seq: seq
                .parse()
                .map_err(|_| "the checkpoint's SEQ is not a number")?,
            hash: hash.to_owned(),
            read_seq: read_seq
                .parse()
                .map_err(|_| "the checkpoint's READ_SEQ is not a number")?,
            read_hash: read_hash.to_owned(),
            mac: mac.to_owned(),
        })
    }

    /// Checks the signature, and that `writes` and `reads` (the chains verified under the
    /// same key) still hold the checkpoint's events.
    pub fn check(
        &self,
        writes: &Verified,
        reads: &Verified,
        key: &AuditKey,
    ) -> Result<(), Tampering> {
        let expected = Self::mac_of(self.seq, &self.hash, self.read_seq, &self.read_hash, key);
        if !constant_time_eq(&expected, &self.mac) {
            return Err(Tampering::CheckpointForged);
        }
        let holds = |chain: &Verified, seq: i64, hash: &str| {
            chain
                .hashes
                .get(usize::try_from(seq).unwrap_or(usize::MAX))
                .is_some_and(|h| h == hash)
        };
        if !holds(writes, self.seq, &self.hash) {
            return Err(Tampering::CheckpointLost { seq: self.seq });
        }
        if !holds(reads, self.read_seq, &self.read_hash) {
            return Err(Tampering::ReadCheckpointLost { seq: self.read_seq });
        }
        Ok(())
    }
}

/// Compares secrets without leaking, through timing, how much of them matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{CHECKPOINT_PREFIX}:{}:{}:{}:{}:{}",
            self.seq, self.hash, self.read_seq, self.read_hash, self.mac
        )
    }
}

/// Both chains, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerified {
    /// The chain of writes.
    pub writes: Verified,
    /// The chain of reads.
    pub reads: Verified,
}

/// A verified chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many events.
    pub events: i64,
    /// The hash of the last event (the genesis hash for an empty log).
    pub head_hash: String,
    /// The hash after each event, from the genesis hash (index 0) on: for checkpoints.
    pub hashes: Vec<String>,
}

/// Checks a chain's events against each other, the key and the head.
pub fn verify(chain: Chain, key: &AuditKey) -> Result<Verified, Tampering> {
    let Chain {
        events,
        head_seq,
        head_hash,
        keyed_from,
    } = chain;
    let (mut last_seq, mut last_hash) = (0i64, GENESIS.to_owned());
    let mut hashes = vec![GENESIS.to_owned()];
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
        let under = (e.seq >= keyed_from).then_some(key);
        if e.expected_hash(under) != e.hash {
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
        hashes.push(last_hash.clone());
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
        hashes,
    })
}

const EVENT_COLUMNS: &str =
    "seq, at, actor, agency, role, action, subject, reason, prev_hash, hash";

pub(crate) fn events_about(
    sql: &mut dyn Sql,
    log: Log,
    subject: &str,
) -> Result<Vec<ChainedEvent>, StoreError> {
    let (table, _) = log.tables();
    sql.query(
        &format!("SELECT {EVENT_COLUMNS} FROM {table} WHERE subject = $1 ORDER BY seq DESC"),
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

pub(crate) fn read_chain(sql: &mut dyn Sql, log: Log) -> Result<Chain, StoreError> {
    let (table, head_table) = log.tables();
    let head = sql
        .query_opt(
            &format!("SELECT seq, hash, keyed_from FROM {head_table} WHERE id = 1"),
            &[],
        )?
        .ok_or_else(|| StoreError::Corrupt("the audit head is missing".into()))?;
    let events = sql
        .query(
            &format!("SELECT {EVENT_COLUMNS} FROM {table} ORDER BY seq"),
            &[],
        )?
        .iter()
        .map(chained_event)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Chain {
        events,
        head_seq: head.int(0)?,
        head_hash: head.text(1)?.to_owned(),
        keyed_from: head.opt_int(2)?.unwrap_or(1),
    })
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
                e.hash = e.expected_hash(Some(&key()));
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn key() -> AuditKey {
        AuditKey([7; 32])
    }

    fn check(
        events: Vec<ChainedEvent>,
        head_seq: i64,
        head_hash: &str,
    ) -> Result<Verified, Tampering> {
        let chain = Chain {
            events,
            head_seq,
            head_hash: head_hash.to_owned(),
            keyed_from: 1,
        };
        verify(chain, &key())
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let events = chain(5);
        let head = events[4].hash.clone();
        let verified = check(events, 5, &head).unwrap();
        assert_eq!((verified.events, verified.head_hash), (5, head));
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
        assert_ne!(a.expected_hash(Some(&key())), b.expected_hash(Some(&key())));
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
        events[2].hash = events[2].expected_hash(Some(&key()));
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
    fn a_chain_rehashed_without_the_key_is_caught_at_its_first_event() {
        let mut events = chain(3);
        let mut prev = GENESIS.to_owned();
        for e in &mut events {
            e.prev_hash = prev.clone();
            e.hash = e.expected_hash(Some(&AuditKey([9; 32])));
            prev = e.hash.clone();
        }
        assert_eq!(check(events, 3, &prev), Err(Tampering::Changed { seq: 1 }));
    }

    #[test]
    fn events_before_the_chain_was_keyed_keep_their_plain_hashes() {
        let mut events = chain(1);
        events[0].hash = events[0].expected_hash(None);
        let chain = Chain {
            head_hash: events[0].hash.clone(),
            events,
            head_seq: 1,
            keyed_from: 2,
        };
        assert_eq!(verify(chain, &key()).unwrap().events, 1);
    }

    #[test]
    fn a_checkpoint_holds_while_the_log_grows_and_fails_once_it_is_rewritten_or_forged() {
        let events = chain(5);
        let verified = check(events.clone(), 5, &events[4].hash).unwrap();
        let at_three = Checkpoint::sign(3, &events[2].hash, 2, &events[1].hash, &key());
        let text = at_three.to_string();
        let parsed = Checkpoint::parse(&text).unwrap();
        assert_eq!(parsed, at_three);
        assert_eq!(
            parsed.check(&verified, &verified, &key()),
            Ok(()),
            "the logs grew past it"
        );
        let reset = check(Vec::new(), 0, GENESIS).unwrap();
        assert_eq!(
            parsed.check(&reset, &verified, &key()),
            Err(Tampering::CheckpointLost { seq: 3 })
        );
        assert_eq!(
            parsed.check(&verified, &reset, &key()),
            Err(Tampering::ReadCheckpointLost { seq: 2 })
        );
        let forged = Checkpoint::sign(3, &events[2].hash, 2, &events[1].hash, &AuditKey([1; 32]));
        assert_eq!(
            forged.check(&verified, &verified, &key()),
            Err(Tampering::CheckpointForged)
        );
        assert!(Checkpoint::parse("nonsense").is_err());
    }

    #[test]
    fn a_key_is_64_hex_digits_and_a_key_file_is_created_once() {
        assert!(AuditKey::from_hex("abc").is_err());
        assert!(AuditKey::from_hex(&"g".repeat(64)).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.key");
        let first = AuditKey::load_or_create(&path).unwrap();
        let again = AuditKey::load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        assert!(
            !format!("{first:?}").contains(&hex(&first.0)),
            "never shown"
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
