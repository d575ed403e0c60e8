//! The PostgreSQL engine: a bounded pool of connections (r2d2), each with its prepared
//! statements.

use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::StoreError;
use crate::sql::{Row, Sql, Value};

/// Connections open at most, per engine: about two for each core, as PostgreSQL's own advice
/// has it, and at least 4. More would only take turns on the same cores (on 2 cores, 16
/// connections served fewer reads than 4, each switch between backends costing more than it
/// gains), and stay well within PostgreSQL's default 100. More callers wait.
fn max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 2).unwrap_or(u32::MAX).clamp(4, 32)
}
/// How long a caller waits for a connection before its request fails.
const CONNECTION_WAIT: Duration = Duration::from_secs(30);

pub(crate) struct PostgresEngine {
    /// Taken only when dropped.
    pool: Option<r2d2::Pool<Connections>>,
    /// Writes of this process queue here, holding no connection: the database's lock (see
    /// `Store::write`) orders them among processes, and waiting writers would otherwise take
    /// every connection from the reads.
    writer: std::sync::Mutex<()>,
}

struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// A transaction's end failed: the connection's state is unknown, so it is not reused.
    broken: bool,
}

struct Connections {
    url: String,
}

impl r2d2::ManageConnection for Connections {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: Client::connect(&self.url, NoTls)?,
            statements: HashMap::new(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.is_valid(Duration::from_secs(5))
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

impl PostgresEngine {
    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let pool = r2d2::Pool::builder()
            .max_size(max_connections())
            // One connection at start: fail then, not on the first request, when the server
            // cannot be reached.
            .min_idle(Some(1))
            .connection_timeout(CONNECTION_WAIT)
            // A closed connection is caught by `has_broken`; a round trip per checkout is not
            // worth it.
            .test_on_check_out(false)
            .build(Connections {
                url: url.to_owned(),
            })
            .map_err(|e| StoreError::Open(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self {
            pool: Some(pool),
            writer: std::sync::Mutex::new(()),
        })
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<Connections>, StoreError> {
        self.pool
            .as_ref()
            .expect("taken only when dropped")
            .get()
            .map_err(|e| StoreError::Database(format!("no PostgreSQL connection: {e}")))
    }

    fn run<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.connection()?;
        conn.client.batch_execute(begin).map_err(db)?;
        let result = f(&mut *conn);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = conn.client.batch_execute(end) {
            conn.broken = true;
            return Err(db(e));
        }
        result
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _one_writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.run("BEGIN", f)
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // One snapshot for the whole read, so its queries agree with each other.
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", f)
    }

    /// Statements each on their own snapshot, with no transaction around them: two round
    /// trips fewer than [`Self::read`]. See `Store::read_alone`.
    pub(crate) fn read_alone<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut *self.connection()?)
    }

    pub(crate) fn query_alone(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.read_alone(|conn| conn.query(sql, values))
    }
}

impl Drop for PostgresEngine {
    fn drop(&mut self) {
        // The synchronous client closes a connection on a runtime of its own, which cannot
        // start on an async runtime's thread (where a server's last store is dropped): close
        // them on a thread of their own.
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    })
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Sql for PgConn {
    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        self.client.execute(&stmt, &params(values)).map_err(db)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &params(values)).map_err(db)?;
        rows.iter().map(read_row).collect()
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.client.batch_execute(sql).map_err(db)
    }
}

fn read_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i).map(Value::from)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map(|v| v.map(i64::from).into())
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map(|v| v.map(i64::from).into())
        } else {
            row.try_get::<_, Option<String>>(i).map(Value::from)
        };
        values.push(
            value.map_err(|e| {
                StoreError::Corrupt(format!("column {} ({ty}): {e}", column.name()))
            })?,
        );
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Text(s) if <&str as ToSql>::accepts(ty) => s.as_str().to_sql(ty, out),
            other => Err(format!("cannot send {other:?} as a {ty} parameter").into()),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <bool as ToSql>::accepts(ty)
            || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}
