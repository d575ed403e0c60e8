//! Safeguard's storage: one interface, [`Store`], over two engines, SQLite (the embedded default)
//! and PostgreSQL. The logic (append, chronology, household, search) is written once against a
//! small SQL surface; each engine only connects, runs statements and manages transactions.
//!
//! Entries are appended, never updated. Appending is one transaction per call, idempotent on
//! (agency, source system, source id), and writes an audit row for every entry it stores.

pub mod accounts;
pub mod alerts;
mod append;
pub mod audit;
pub mod flag_actions;
pub mod flags;
pub mod involvement;
pub mod linkage;
mod migrate;
mod postgres;
mod read;
mod search;
pub mod sql;
mod sqlite;
pub mod temp_postgres;
pub mod webhooks;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use safeguard_core::{
    Agency, AgencyId, AgencyKind, Entry, EntryId, FieldError, Household, Person, PersonId,
};

pub use append::{Appended, KnownParticipant, Outcome};
pub use read::{ChronologyEntry, ChronologyPage, ChronologyQuery, Cursor, EntryJson, MAX_PAGE};

use crate::audit::{AuditEvent, Tampering};
use crate::postgres::PostgresEngine;
use crate::sql::{Row, Sql, SqlExt, Value};
use crate::sqlite::SqliteEngine;

/// What can go wrong in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The input is wrong; nothing was written. `index` is the entry's place in its batch.
    #[error("{}{error}", index.map(|i| format!("entry {i}: ")).unwrap_or_default())]
    Invalid {
        /// Position of the offending entry in the batch, if the input was a batch.
        index: Option<usize>,
        /// The field and the reason.
        error: FieldError,
    },
    /// The input contradicts what is stored (the same source id with other content); nothing
    /// was written.
    #[error("{}{error}", index.map(|i| format!("entry {i}: ")).unwrap_or_default())]
    Conflict {
        /// Position of the offending entry in the batch.
        index: Option<usize>,
        /// The field that differs, and why that is refused.
        error: FieldError,
    },
    /// The database could not be opened or reached.
    #[error("cannot open the database: {0}")]
    Open(String),
    /// A migration failed or an applied one was changed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database refused a statement.
    #[error("database error: {0}")]
    Database(String),
    /// Stored data could not be read back as written.
    #[error("stored data is not as written: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn invalid(index: Option<usize>, field: &str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            index,
            error: FieldError::new(field, reason),
        }
    }
}

/// How long an agency's standing with a child lasts after its latest entry, unless set.
pub const DEFAULT_INVOLVEMENT_DAYS: i64 = 180;

/// Where the data lives: `sqlite:PATH` or `postgres://user@host/db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (created if absent).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DatabaseUrl {
    /// The embedded database in the working directory.
    pub fn default_embedded() -> Self {
        DatabaseUrl::Sqlite(PathBuf::from("safeguard-data/safeguard.db"))
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("sqlite: needs a file path, e.g. sqlite:safeguard.db".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_owned()))
        } else {
            Err(format!(
                "unknown database URL {s:?}: use sqlite:PATH or postgres://user@host/database"
            ))
        }
    }
}

/// Shown without a PostgreSQL password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if url[scheme + 3..at].contains(':') => {
                    let user_end = scheme + 3 + url[scheme + 3..at].find(':').unwrap_or(0);
                    write!(f, "{}:***{}", &url[..user_end], &url[at..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Who is acting: recorded in the audit log with every write and every read of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    id: String,
    agency: Option<String>,
    role: Option<String>,
}

impl Actor {
    /// A process acting for itself (`demo-seed`, `import`).
    pub fn system(name: &str) -> Self {
        Actor {
            id: format!("system:{name}"),
            agency: None,
            role: None,
        }
    }

    /// A person signed in as `user` of `agency`, acting in `role`.
    pub fn user(user: &str, agency: &AgencyId, role: &str) -> Self {
        Actor {
            id: user.to_owned(),
            agency: Some(agency.as_str().to_owned()),
            role: Some(role.to_owned()),
        }
    }

    /// The actor's identifier as recorded.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The actor's agency, for a person.
    pub fn agency(&self) -> Option<&str> {
        self.agency.as_deref()
    }

    /// The role the actor acts in, for a person.
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }
}

enum Engine {
    Sqlite(SqliteEngine),
    Postgres(PostgresEngine),
}

impl Engine {
    fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Engine::Sqlite(e) => e.write(f),
            Engine::Postgres(e) => e.write(f),
        }
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Engine::Sqlite(e) => e.read(f),
            Engine::Postgres(e) => e.read(f),
        }
    }

    fn read_alone<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            // A read transaction costs SQLite nothing worth saving.
            Engine::Sqlite(e) => e.read(f),
            Engine::Postgres(e) => e.read_alone(f),
        }
    }

    fn query_alone(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Engine::Sqlite(e) => e.query_alone(sql, values),
            Engine::Postgres(e) => e.query_alone(sql, values),
        }
    }
}

struct Inner {
    engine: Engine,
    /// Agencies known to exist; a miss is checked against the database.
    agencies: RwLock<HashSet<AgencyId>>,
    /// Decoded entries by id, with their details as rule matchers read them. Entries never
    /// change once stored, so a decoded entry stays true in every process; bounded by clearing.
    decoded: std::sync::Mutex<std::collections::HashMap<EntryId, flags::DecodedEntry>>,
    /// The linkage model in use (see [`linkage`]).
    model: std::sync::Mutex<Option<linkage::CachedModel>>,
    /// Records prepared for matching (see [`linkage`]).
    prepared: Arc<linkage::PreparedCache>,
    /// Entries' bodies as the chronology serves them (see [`read::BodyCache`]).
    bodies: read::BodyCache,
    /// How long an agency's standing with a child lasts after its latest entry, in days.
    involvement_days: std::sync::atomic::AtomicI64,
    /// The key the audit chain is signed with (held outside the database).
    audit_key: audit::AuditKey,
    /// The chain of reads, written by a thread of its own (see [`ReadLog`]).
    reads: ReadLog,
}

/// The chain of reads: on SQLite a database file of its own (`PATH.reads`), on PostgreSQL
/// tables of their own with a head of their own, written by one thread that commits every
/// read waiting at once (a group commit), so that auditing a read never queues behind a long
/// write, and many reads share one commit. Each read's events are durable before its caller
/// hears back, and so before the data leaves.
struct ReadLog {
    engine: Arc<Engine>,
    queue: std::sync::mpsc::Sender<ReadRequest>,
}

struct ReadRequest {
    actor: Actor,
    at: i64,
    events: Vec<AuditEvent>,
    done: std::sync::mpsc::SyncSender<Result<(), StoreError>>,
}

/// The most reads committed together.
const MAX_READS_PER_COMMIT: usize = 512;

impl ReadLog {
    fn start(engine: Engine, key: audit::AuditKey) -> Self {
        let engine = Arc::new(engine);
        let (queue, requests) = std::sync::mpsc::channel::<ReadRequest>();
        let writer = engine.clone();
        std::thread::Builder::new()
            .name("read-log".into())
            .spawn(move || {
                while let Ok(first) = requests.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_READS_PER_COMMIT {
                        match requests.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let written = writer.write(|sql| {
                        let sql = &mut sql::Keyed { sql, key: &key };
                        let recorded: Vec<audit::Recorded<'_>> = batch
                            .iter()
                            .map(|r| audit::Recorded {
                                actor: &r.actor,
                                at: r.at,
                                events: &r.events,
                            })
                            .collect();
                        audit::append_events_to(sql, audit::Log::Reads, &recorded)?;
                        Ok(())
                    });
                    for r in batch {
                        let _ = r.done.send(written.clone());
                    }
                }
            })
            .expect("the read log's thread starts");
        Self { engine, queue }
    }
}

/// The multi-agency record. Cheap to clone; all clones share the engine.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations, with the audit
    /// key found as [`audit::AuditKey::for_database`] finds it.
    pub fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let key = audit::AuditKey::for_database(url, None)?;
        Self::open_with_key(url, key)
    }

    /// Opens the database with the audit chain signed under `key`.
    pub fn open_with_key(url: &DatabaseUrl, key: audit::AuditKey) -> Result<Self, StoreError> {
        let (engine, migrations) = match url {
            DatabaseUrl::Sqlite(path) => {
                (Engine::Sqlite(SqliteEngine::open(path)?), migrate::SQLITE)
            }
            DatabaseUrl::Postgres(url) => (
                Engine::Postgres(PostgresEngine::open(url)?),
                migrate::POSTGRES,
            ),
        };
        // The main migrations first: on PostgreSQL they create the chain of reads' tables.
        engine.write(|sql| {
            let sql = &mut sql::Keyed { sql, key: &key };
            migrate::migrate(sql, migrations)?;
            search::backfill_keys(sql)?;
            audit::start_keyed_chain(sql)
        })?;
        let reads = match url {
            DatabaseUrl::Sqlite(path) => {
                let mut file = path.as_os_str().to_owned();
                file.push(".reads");
                let reads = SqliteEngine::open(std::path::Path::new(&file))?;
                reads.write(|sql| migrate::migrate(sql, migrate::SQLITE_READS))?;
                Engine::Sqlite(reads)
            }
            DatabaseUrl::Postgres(url) => Engine::Postgres(PostgresEngine::open(url)?),
        };
        let store = Store {
            inner: Arc::new(Inner {
                engine,
                agencies: RwLock::new(HashSet::new()),
                decoded: Default::default(),
                model: Default::default(),
                prepared: Default::default(),
                bodies: Default::default(),
                involvement_days: std::sync::atomic::AtomicI64::new(DEFAULT_INVOLVEMENT_DAYS),
                reads: ReadLog::start(reads, key.clone()),
                audit_key: key,
            }),
        };
        Ok(store)
    }

    /// `sqlite` or `postgres`.
    pub fn engine_name(&self) -> &'static str {
        match self.inner.engine {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgres",
        }
    }

    /// Runs `f` in one write transaction: committed if it returns `Ok`, rolled back otherwise.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = &self.inner.audit_key;
        let one_writer = matches!(self.inner.engine, Engine::Postgres(_));
        self.inner.engine.write(|sql: &mut dyn Sql| {
            // One writer at a time, as SQLite's BEGIN IMMEDIATE gives: writes look up then
            // insert (an agency's record of a person, an entry's source id), and two at once
            // would both miss and one fail on the unique key. The head of the chain of writes
            // is locked first by every write, so the lock order is always the same.
            if one_writer {
                sql.execute("UPDATE audit_head SET seq = seq WHERE id = 1", &[])?;
            }
            f(&mut sql::Keyed { sql, key })
        })
    }

    /// Runs `f` on one consistent snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = &self.inner.audit_key;
        self.inner
            .engine
            .read(|sql: &mut dyn Sql| f(&mut sql::Keyed { sql, key }))
    }

    /// Reads with no transaction around them, each statement on its own snapshot: two round
    /// trips fewer than [`Self::read`] on PostgreSQL. Only for reads whose first statement
    /// decides what they read and whose later ones read either rows that never change once
    /// written (entry bodies and participants by id) or a label that may be a moment newer
    /// (the person a record belongs to), so that no later statement can change what the
    /// first decided.
    fn read_alone<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let key = &self.inner.audit_key;
        self.inner
            .engine
            .read_alone(|sql: &mut dyn Sql| f(&mut sql::Keyed { sql, key }))
    }

    /// One statement on its own snapshot, with no transaction around it: for lookups that
    /// read one thing (a token, a session) on every request.
    fn query_alone(&self, sql: &str, values: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self
            .inner
            .engine
            .query_alone(sql, values)?
            .into_iter()
            .next())
    }

    /// Brings the planner's statistics up to date after a bulk load (an import, a benchmark's
    /// million records): on PostgreSQL `VACUUM (ANALYZE)`, which also marks the pages all
    /// visible so that index-only scans skip the table; on SQLite `ANALYZE`. Outside any
    /// transaction, as VACUUM must be.
    pub fn analyze(&self) -> Result<(), StoreError> {
        match &self.inner.engine {
            Engine::Sqlite(_) => self.write(|sql| sql.execute_batch("ANALYZE")),
            Engine::Postgres(e) => e.read_alone(|sql| sql.execute_batch("VACUUM (ANALYZE)")),
        }
    }

    /// Raw SQL in one write transaction, bypassing the store's logic: for benchmark baselines
    /// and tools only. Statements use `$1`-style parameters on both engines.
    pub fn bare_write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(f)
    }

    /// Raw SQL on one snapshot, bypassing the store's logic: for benchmark baselines only.
    pub fn bare_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.read(f)
    }

    /// Registers an agency, or updates its name and kind.
    pub fn put_agency(&self, agency: &Agency) -> Result<(), StoreError> {
        self.write(|sql| {
            sql.execute(
                "INSERT INTO agencies (id, name, kind) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
                &[
                    agency.id.as_str().into(),
                    agency.name.as_str().into(),
                    agency.kind.as_str().into(),
                ],
            )
        })?;
        self.known_agencies().insert(agency.id.clone());
        Ok(())
    }

    fn known_agencies(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<AgencyId>> {
        self.inner
            .agencies
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Every registered agency, by identifier.
    pub fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        self.read(|sql| {
            sql.query("SELECT id, name, kind FROM agencies ORDER BY id", &[])?
                .iter()
                .map(|r| {
                    Ok(Agency {
                        id: AgencyId::parse(r.text(0)?)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        name: r.text(1)?.to_owned(),
                        kind: AgencyKind::parse(r.text(2)?).ok_or_else(|| {
                            StoreError::Corrupt(format!("unknown agency kind {:?}", r.text(2)))
                        })?,
                    })
                })
                .collect()
        })
    }

    /// Appends entries in one transaction: all are stored, or (on any invalid entry) none.
    /// Re-sending an entry already stored changes nothing and is reported, not refused.
    pub fn append(&self, actor: &Actor, entries: &[Entry]) -> Result<Vec<Appended>, StoreError> {
        self.check_appendable(entries)?;
        self.write(|sql| {
            let matcher = self.matcher_in(sql)?;
            let appended = append::append(
                sql,
                actor,
                entries,
                &matcher,
                self.involvement_period_micros(),
            )?;
            self.join_births_in(sql, actor, entries, &appended)?;
            Ok(appended)
        })
    }

    /// Validates entries and checks their agencies are registered, before any write.
    fn check_appendable(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let now = chrono::Utc::now();
        for (i, e) in entries.iter().enumerate() {
            e.validate()
                .and_then(|()| e.check_plausible(now))
                .map_err(|error| StoreError::Invalid {
                    index: Some(i),
                    error,
                })?;
        }
        self.check_agencies(entries)
    }

    fn check_agencies(&self, entries: &[Entry]) -> Result<(), StoreError> {
        let missing: Vec<(usize, &AgencyId)> = {
            let known = self
                .inner
                .agencies
                .read()
                .unwrap_or_else(|e| e.into_inner());
            entries
                .iter()
                .enumerate()
                .filter(|(_, e)| !known.contains(&e.agency))
                .map(|(i, e)| (i, &e.agency))
                .collect()
        };
        for (i, agency) in missing {
            let exists = self.read(|sql| {
                sql.query_opt(
                    "SELECT 1 FROM agencies WHERE id = $1",
                    &[agency.as_str().into()],
                )
            })?;
            if exists.is_none() {
                return Err(StoreError::invalid(
                    Some(i),
                    "agency",
                    format!("{agency:?} is not a registered agency"),
                ));
            }
            self.known_agencies().insert(agency.clone());
        }
        Ok(())
    }

    /// When the entry an agency's system sent under `source_id` was recorded, if one was:
    /// a form sent again keeps its first recording time, so a resend is the same entry.
    pub fn recorded_at_of(
        &self,
        agency: &AgencyId,
        system: &str,
        source_id: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
        self.read(|sql| {
            sql.query_opt(
                "SELECT recorded_at FROM entries
                 WHERE agency_id = $1 AND source_system = $2 AND source_id = $3",
                &[agency.as_str().into(), system.into(), source_id.into()],
            )?
            .map(|row| {
                let micros = row.int(0)?;
                chrono::DateTime::from_timestamp_micros(micros)
                    .ok_or_else(|| StoreError::Corrupt(format!("recorded_at {micros}")))
            })
            .transpose()
        })
    }

    /// A person with all their linked records, or `None` if there is no such person.
    pub fn person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        self.read(|sql| read::person(sql, id))
    }

    /// Persons with their records, in the order of `ids` (unknown ones left out), from one
    /// snapshot: a page naming many children reads them together, not one read each.
    pub fn persons(&self, ids: &[PersonId]) -> Result<Vec<Person>, StoreError> {
        self.read(|sql| {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(500) {
                found.extend(read::persons(sql, chunk)?);
            }
            Ok(found)
        })
    }

    /// A page of a person's chronology: every entry naming any of their records, in time order.
    pub fn chronology(
        &self,
        id: PersonId,
        query: &ChronologyQuery,
    ) -> Result<ChronologyPage, StoreError> {
        self.read(|sql| read::chronology(sql, &self.inner.bodies, id, query))
    }

    /// [`Store::chronology`], or `None` when there is no such person, from one snapshot: a
    /// request answers 404 without reading the person first.
    pub fn chronology_of_known(
        &self,
        id: PersonId,
        query: &ChronologyQuery,
    ) -> Result<Option<ChronologyPage>, StoreError> {
        // The page is chosen by one statement; what the entries on it say and whether the
        // person exists never change once written.
        self.read_alone(|sql| {
            let page = read::chronology(sql, &self.inner.bodies, id, query)?;
            // An empty page is the one case that needs to know whether the person exists.
            if page.entries.is_empty()
                && sql
                    .query_opt(
                        "SELECT 1 FROM persons WHERE id = $1",
                        &[id.to_string().into()],
                    )?
                    .is_none()
            {
                return Ok(None);
            }
            Ok(Some(page))
        })
    }

    /// Who lived with a person on a date, derived from the residences and relationships stated,
    /// and who was seen with them in the `around_days` days up to it.
    pub fn household(
        &self,
        id: PersonId,
        date: NaiveDate,
        around_days: i64,
    ) -> Result<Household, StoreError> {
        self.read(|sql| read::household(sql, id, date, around_days))
    }

    /// Persons whose records match every term of `query`: name parts, a date of birth, an NHS
    /// number or a postcode. At most `limit` persons.
    pub fn search_persons(&self, query: &str, limit: usize) -> Result<Vec<Person>, StoreError> {
        self.read(|sql| search::search_persons(sql, query, limit))
    }

    /// Records reads, refusals and searches in the chain of reads, returning once they are
    /// committed: a read's audit never waits for a write.
    pub fn record_access(&self, actor: &Actor, events: &[AuditEvent]) -> Result<(), StoreError> {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        let request = ReadRequest {
            actor: actor.clone(),
            at: chrono::Utc::now().timestamp_micros(),
            events: events.to_vec(),
            done,
        };
        self.inner
            .reads
            .queue
            .send(request)
            .map_err(|_| StoreError::Database("the read log has stopped".into()))?;
        wait.recv()
            .map_err(|_| StoreError::Database("the read log has stopped".into()))?
    }

    /// Runs `f` on one consistent snapshot of the chain of reads.
    fn read_reads<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.reads.engine.read(f)
    }

    /// The events of the chain of reads about a subject, newest first.
    pub(crate) fn read_reads_of(
        &self,
        subject: &str,
    ) -> Result<Vec<audit::ChainedEvent>, StoreError> {
        self.read_reads(|sql| audit::events_about(sql, audit::Log::Reads, subject))
    }

    /// Raw SQL in one write transaction on the chain of reads' database (on SQLite a file of
    /// its own): for tests of tampering only.
    pub fn bare_write_reads<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.inner.reads.engine.write(f)
    }

    /// Recomputes both audit chains under the key: their verified heads, or where one was
    /// tampered with.
    pub fn verify_audit(&self) -> Result<Result<audit::AuditVerified, Tampering>, StoreError> {
        let writes = self.read(|sql| audit::read_chain(sql, audit::Log::Writes))?;
        let reads = self.read_reads(|sql| audit::read_chain(sql, audit::Log::Reads))?;
        let key = &self.inner.audit_key;
        Ok(audit::verify(writes, key).and_then(|writes| {
            audit::verify(reads, key)
                .map(|reads| audit::AuditVerified { writes, reads })
                .map_err(|t| Tampering::InReads(Box::new(t)))
        }))
    }

    /// A checkpoint of both chains as they are now, signed under the key: kept elsewhere, it
    /// later proves the logs still extend it ([`Store::verify_audit_since`]).
    pub fn audit_checkpoint(&self) -> Result<audit::Checkpoint, StoreError> {
        match self.verify_audit()? {
            Ok(v) => Ok(audit::Checkpoint::sign(
                v.writes.events,
                &v.writes.head_hash,
                v.reads.events,
                &v.reads.head_hash,
                &self.inner.audit_key,
            )),
            Err(tampering) => Err(StoreError::Corrupt(tampering.to_string())),
        }
    }

    /// Verifies both chains and that they still extend `checkpoint`: the events at the
    /// checkpoint's positions are the ones it names, so a log rewritten, reset or cut short
    /// since is detected even when re-chained.
    pub fn verify_audit_since(
        &self,
        checkpoint: &audit::Checkpoint,
    ) -> Result<Result<audit::AuditVerified, Tampering>, StoreError> {
        Ok(self.verify_audit()?.and_then(|v| {
            checkpoint
                .check(&v.writes, &v.reads, &self.inner.audit_key)
                .map(|()| v)
        }))
    }

    /// How many entries are stored.
    pub fn entry_count(&self) -> Result<i64, StoreError> {
        self.read(|sql| {
            sql.query_opt("SELECT COUNT(*) FROM entries", &[])?
                .map_or(Ok(0), |r| r.int(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_engine() {
        assert_eq!(
            "sqlite:data/x.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            "sqlite:///tmp/x.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            "postgres://u@h/db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
        assert!("sqlite:".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn a_postgres_password_is_never_shown() {
        let url: DatabaseUrl = "postgres://sam:secret@db.example/safeguard"
            .parse()
            .unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown, "postgres://sam:***@db.example/safeguard");
    }
}
