//! Benchmarks, each next to a bare-SQL baseline measured in the same run.
use clap::{Args, Subcommand};

/// Which benchmark.
#[derive(Subcommand, Clone, Copy)]
pub enum Which {
    /// Entries appended per second through the store, against bare inserts of the same rows.
    Ingest,
    /// Reading a 1,000-entry chronology through the store, against the bare SQL query.
    Chronology,
}

/// Options for every benchmark.
#[derive(Args)]
pub struct Options {}

pub fn run(_which: Which, _options: &Options) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
