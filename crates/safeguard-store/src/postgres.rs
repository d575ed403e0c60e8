//! The PostgreSQL engine: a small pool of connections, each with its prepared statements.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Mutex;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::StoreError;
use crate::sql::{Row, Sql, Value};

/// Connections kept open between requests.
const MAX_IDLE: usize = 8;

pub(crate) struct PostgresEngine {
    url: String,
    idle: Mutex<Vec<PgConn>>,
}

struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PostgresEngine {
    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let engine = Self {
            url: url.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        // Fail at start-up, not on the first request, when the server cannot be reached.
        let conn = engine.connect()?;
        engine
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        Ok(engine)
    }

    fn connect(&self) -> Result<PgConn, StoreError> {
        let client = Client::connect(&self.url, NoTls)
            .map_err(|e| StoreError::Open(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgConn {
            client,
            statements: HashMap::new(),
        })
    }

    fn run<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match idle {
            Some(c) if !c.client.is_closed() => c,
            _ => self.connect()?,
        };
        conn.client.batch_execute(begin).map_err(db)?;
        let result = f(&mut conn);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        conn.client.batch_execute(end).map_err(db)?;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run("BEGIN", f)
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // One snapshot for the whole read, so its queries agree with each other.
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", f)
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
