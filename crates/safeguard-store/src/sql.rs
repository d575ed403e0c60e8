//! The little SQL surface both engines share: positional parameters (`$1`, `$2`, ...), three
//! value types, rows read into memory. The store's logic is written once against [`Sql`].

use crate::StoreError;

/// A parameter or column value. Every column in the schema is text or a 64-bit integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub(crate) Vec<Value>);

impl Row {
    /// How many columns.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values, for copying a row elsewhere.
    pub fn into_values(self) -> Vec<Value> {
        self.0
    }

    /// Text in column `i`, or an error if it is NULL or not text.
    pub fn text(&self, i: usize) -> Result<&str, StoreError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected text, found {other:?}"
            ))),
        }
    }

    /// Text in column `i`, `None` for NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<&str>, StoreError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Integer in column `i`, or an error if it is NULL or not an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            other => Err(StoreError::Corrupt(format!(
                "column {i}: expected an integer, found {other:?}"
            ))),
        }
    }
}

/// A connection inside a transaction (or a read snapshot).
pub trait Sql {
    /// Runs a statement, returning the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs a query, returning every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs several statements with no parameters (migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// The key the audit chain is signed with, held outside the database.
    fn audit_key(&self) -> Option<&crate::audit::AuditKey> {
        None
    }
}

/// A transaction that knows the audit key: what the store hands its logic.
pub(crate) struct Keyed<'a> {
    pub(crate) sql: &'a mut dyn Sql,
    pub(crate) key: &'a crate::audit::AuditKey,
}

impl Sql for Keyed<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.sql.execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.sql.query(sql, params)
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.sql.execute_batch(sql)
    }
    fn audit_key(&self) -> Option<&crate::audit::AuditKey> {
        Some(self.key)
    }
}

/// Helpers every [`Sql`] gets.
pub trait SqlExt: Sql {
    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

impl<S: Sql + ?Sized> SqlExt for S {}

/// `$1, $2, ...` for `n` parameters starting after `offset`: for building `IN (...)` lists.
pub fn placeholders(offset: usize, n: usize) -> String {
    use std::fmt::Write as _;
    let mut list = String::with_capacity(n * 6);
    for i in offset + 1..=offset + n {
        let separator = if i == offset + 1 { "" } else { ", " };
        let _ = write!(list, "{separator}${i}");
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_continue_after_the_offset() {
        assert_eq!(placeholders(2, 3), "$3, $4, $5");
        assert_eq!(placeholders(0, 1), "$1");
    }

    #[test]
    fn reading_the_wrong_type_is_an_error_not_a_panic() {
        let row = Row(vec![Value::Int(1), Value::Null, Value::Text("a".into())]);
        assert_eq!(row.int(0).unwrap(), 1);
        assert!(row.text(0).is_err());
        assert_eq!(row.opt_text(1).unwrap(), None);
        assert_eq!(row.opt_text(2).unwrap(), Some("a"));
        assert!(row.int(5).is_err());
    }
}
