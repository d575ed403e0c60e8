//! The SQLite engine: one writer connection, a bounded pool of readers (r2d2), WAL, full
//! sync.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::StoreError;
use crate::sql::{Row, Sql, Value};

/// Reader connections open at most: more than the cores, so that a read waiting on the disk
/// does not hold the others, and few enough that each keeps its parsed schema and statements
/// (opening one per read parsed the schema each time). More readers wait.
const MAX_READERS: u32 = 16;

pub(crate) struct SqliteEngine {
    writer: Mutex<Connection>,
    readers: r2d2::Pool<Readers>,
}

struct Readers {
    path: PathBuf,
}

impl r2d2::ManageConnection for Readers {
    type Connection = Connection;
    type Error = StoreError;

    fn connect(&self) -> Result<Connection, StoreError> {
        connect(&self.path)
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), StoreError> {
        conn.execute_batch("SELECT 1").map_err(db)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        // A read whose end failed left its transaction open.
        !conn.is_autocommit()
    }
}

impl SqliteEngine {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Open(format!("cannot create directory {}: {e}", dir.display()))
            })?;
        }
        let writer = connect(path)?;
        let readers = r2d2::Pool::builder()
            .max_size(MAX_READERS)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .build(Readers {
                path: path.to_owned(),
            })
            .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", path.display())))?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
        })
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A panic mid-transaction poisons the lock; the transaction is rolled back below.
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(db)?;
        }
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let result = f(&mut SqliteSql(&mut conn));
        match result {
            Ok(v) => {
                conn.execute_batch("COMMIT").map_err(db)?;
                Ok(v)
            }
            Err(e) => {
                conn.execute_batch("ROLLBACK").map_err(db)?;
                Err(e)
            }
        }
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.reader()?;
        // One snapshot for the whole read, so its queries agree with each other.
        conn.execute_batch("BEGIN").map_err(db)?;
        let result = f(&mut SqliteSql(&mut conn));
        conn.execute_batch("COMMIT").map_err(db)?;
        result
    }

    /// One statement on its own snapshot, with no transaction around it.
    pub(crate) fn query_alone(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut conn = self.reader()?;
        SqliteSql(&mut conn).query(sql, values)
    }

    fn reader(&self) -> Result<r2d2::PooledConnection<Readers>, StoreError> {
        self.readers
            .get()
            .map_err(|e| StoreError::Database(format!("no SQLite reader: {e}")))
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", path.display())))?;
    // synchronous=FULL: an acknowledged write survives power loss, not only a crash.
    // A 32 MiB page cache and in-memory temporary storage keep a chronology's sort (wide rows:
    // entry bodies) off the disk; memory-mapped reads save a copy per page.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -32768;
         PRAGMA temp_store = MEMORY;
         PRAGMA mmap_size = 268435456;",
    )
    .map_err(db)?;
    conn.set_prepared_statement_cache_capacity(64);
    // One plan per statement whatever its parameters: with ANALYZE's samples, SQLite otherwise
    // prepares a cached statement again for each new value bound (a seventh of a loaded
    // server's time).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(db)?;
    Ok(conn)
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

struct SqliteSql<'c>(&'c mut Connection);

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// SQLite reads `$1` as a named parameter numbered by first appearance; `?1` is positional.
fn positional(sql: &str) -> Cow<'_, str> {
    if sql.contains('$') {
        Cow::Owned(sql.replace('$', "?"))
    } else {
        Cow::Borrowed(sql)
    }
}

impl Sql for SqliteSql<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(&positional(sql)).map_err(db)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(&positional(sql)).map_err(db)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(db)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match r.get_ref(i).map_err(db)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))?
                            .to_owned(),
                    ),
                    other => {
                        return Err(StoreError::Corrupt(format!(
                            "column {i}: unsupported SQLite value {other:?}"
                        )));
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.0.execute_batch(sql).map_err(db)
    }
}
