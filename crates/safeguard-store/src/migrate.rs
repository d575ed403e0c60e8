//! Schema migrations, embedded in the binary and applied on open. Each dialect has its own
//! folder with the same numbers; an applied migration is never edited (its checksum is checked).

use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::sql::{Sql, SqlExt, Value};

/// One numbered migration.
pub(crate) struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

macro_rules! migrations {
    ($dialect:literal: $($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dialect, "/", $name, ".sql")),
        }),*]
    };
}

pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": 1 => "0001_create_record", 2 => "0002_create_access", 3 => "0003_create_flags", 4 => "0004_create_alerts", 5 => "0005_create_linkage", 6 => "0006_create_involvements", 7 => "0007_key_audit", 8 => "0008_expire_credentials", 9 => "0009_create_evaluation_failures", 10 => "0010_create_read_log", 11 => "0011_create_evaluation_horizons", 12 => "0012_cover_household_reads", 13 => "0013_create_parent_children", 14 => "0014_create_flag_actions", 15 => "0015_index_entry_kinds", 16 => "0016_create_person_search_keys");
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": 1 => "0001_create_record", 2 => "0002_create_access", 3 => "0003_create_flags", 4 => "0004_create_alerts", 5 => "0005_create_linkage", 6 => "0006_create_involvements", 7 => "0007_key_audit", 8 => "0008_expire_credentials", 9 => "0009_create_evaluation_failures", 10 => "0010_create_read_log", 11 => "0011_create_evaluation_horizons", 12 => "0012_cover_household_reads", 13 => "0013_create_parent_children", 14 => "0014_create_flag_actions", 15 => "0015_index_entry_kinds", 16 => "0016_create_person_search_keys");

/// The migrations of SQLite's file of reads (`PATH.reads`).
pub(crate) const SQLITE_READS: &[Migration] =
    migrations!("sqlite-reads": 1 => "0001_create_read_log");

/// Applies every migration not yet applied, in order, in the caller's transaction.
/// Returns how many were applied.
pub(crate) fn migrate(sql: &mut dyn Sql, migrations: &[Migration]) -> Result<usize, StoreError> {
    sql.execute_batch(
        "CREATE TABLE IF NOT EXISTS safeguard_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL
        )",
    )?;
    let mut applied = 0;
    for m in migrations {
        let checksum = hex(&Sha256::digest(m.sql.as_bytes()));
        let existing = sql.query_opt(
            "SELECT checksum FROM safeguard_migrations WHERE version = $1",
            &[m.version.into()],
        )?;
        match existing {
            Some(row) if row.text(0)? == checksum => {}
            Some(_) => {
                return Err(StoreError::Migration(format!(
                    "migration {} was changed after it was applied; add a new migration instead",
                    m.name
                )));
            }
            None => {
                sql.execute_batch(m.sql)
                    .map_err(|e| StoreError::Migration(format!("migration {}: {e}", m.name)))?;
                sql.execute(
                    "INSERT INTO safeguard_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    &[m.version.into(), m.name.into(), Value::Text(checksum)],
                )?;
                applied += 1;
            }
        }
    }
    Ok(applied)
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
