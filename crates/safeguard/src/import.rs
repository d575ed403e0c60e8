//! `safeguard import`: an agency's CSV export, read through a mapping (`data/mappings/`), as
//! entries. Every row is read and checked before anything is stored. By default the import is
//! all or nothing, every fault listed; with `--partial` the good rows are stored and each
//! rejected row is written, with its reasons, to `--rejected`. Importing a file again changes
//! nothing (each row's source id); a row changed since it was imported is reported, never
//! dropped and never silently stored over the first.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use safeguard_core::{AgencyId, Entry, FieldError};
use safeguard_interop::agency_csv::{Mapping, RowError, read_rows};
use safeguard_store::{Actor, Outcome, Store, StoreError};

use crate::replay::RuleFiles;

/// Options of `safeguard import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The agency whose export it is (as `agency add` named it).
    #[arg(long)]
    pub(crate) agency: String,
    /// How the export's columns become entries (TOML; see `data/mappings/`).
    #[arg(long)]
    pub(crate) mapping: PathBuf,
    /// The export (CSV with a header).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Store the good rows and write the rejected ones, with their reasons, to `--rejected`.
    #[arg(long, requires = "rejected")]
    pub(crate) partial: bool,
    /// Where rejected rows go with `--partial`: the export's columns and `rejected_because`.
    #[arg(long)]
    pub(crate) rejected: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) files: RuleFiles,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Rows read.
    pub rows: usize,
    /// Entries stored now.
    pub created: usize,
    /// Rows already imported with the same content: nothing written.
    pub unchanged: usize,
    /// Rows rejected (with `--partial`).
    pub rejected: usize,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
#[error("nothing was imported: {rejected} of {rows} rows cannot be imported:\n{faults}")]
pub struct Refused {
    rows: usize,
    rejected: usize,
    faults: String,
}

/// Reads, checks and stores the export.
pub fn run(store: &Store, args: &ImportArgs) -> anyhow::Result<Imported> {
    let agency = AgencyId::parse(&args.agency).map_err(|e| anyhow::anyhow!("--agency: {e}"))?;
    if !store.agencies()?.iter().any(|a| a.id == agency) {
        anyhow::bail!("--agency: no agency {agency}; add it with `safeguard agency add`");
    }
    let text = std::fs::read_to_string(&args.mapping)
        .with_context(|| format!("failed to read {}", args.mapping.display()))?;
    let mapping =
        Mapping::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.mapping.display()))?;
    let book = args.files.load()?;
    let file = std::fs::read(&args.input)
        .with_context(|| format!("failed to read {}", args.input.display()))?;
    let lines = file
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    let bar = ProgressBar::new(lines as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} rows").expect("a template"),
    );
    bar.set_message("Reading");
    let now = chrono::Utc::now();
    let (header, rows) = read_rows(&mapping, &agency, file.as_slice(), now, || bar.inc(1))
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    bar.finish_and_clear();
    let name = args.input.display().to_string();
    let mut rejected: Vec<(u64, Vec<String>, String)> = Vec::new();
    let mut good: Vec<(u64, Vec<String>, Entry)> = Vec::new();
    let mut faults: Vec<RowError> = Vec::new();
    for row in rows.iter().cloned() {
        match row.entry {
            Ok(entry) => good.push((row.line, row.cells, entry)),
            Err(e) => {
                rejected.push((row.line, row.cells, e.to_string()));
                faults.push(e);
            }
        }
    }
    if !faults.is_empty() && !args.partial {
        return Err(Refused {
            rows: rows.len(),
            rejected: faults.len(),
            faults: faults
                .iter()
                .map(|e| format!("  {name}: {e}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
        .into());
    }
    // Rows imported before with other content: each listed, and nothing stored, unless
    // --partial sets them aside.
    let sent: Vec<Entry> = good.iter().map(|(_, _, e)| e.clone()).collect();
    let changed = store.changed_resends(&sent)?;
    if !changed.is_empty() && !args.partial {
        return Err(Refused {
            rows: rows.len(),
            rejected: faults.len() + changed.len(),
            faults: changed
                .iter()
                .map(|(i, error)| format!("  {name}: {}", refused_row(good[*i].0, error)))
                .collect::<Vec<_>>()
                .join("\n"),
        }
        .into());
    }
    for (i, error) in changed.iter().rev() {
        let (line, cells, _) = good.remove(*i);
        rejected.push((line, cells, refused_row(line, error).to_string()));
    }
    // Stored in one transaction. A row the store still refuses (a correction naming an entry
    // it does not hold, say) fails the whole import, or with --partial is set aside.
    let actor = Actor::system(&format!("import {agency}"));
    let today = chrono::Local::now().date_naive();
    let spinner = ProgressBar::new_spinner().with_message(format!(
        "Storing {} entries and evaluating their children",
        good.len()
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut imported = Imported {
        rows: rows.len(),
        ..Imported::default()
    };
    while !good.is_empty() {
        let entries: Vec<Entry> = good.iter().map(|(_, _, e)| e.clone()).collect();
        match store.append_and_refresh(&actor, &entries, &book, today) {
            Ok(appended) => {
                imported.created = appended
                    .iter()
                    .filter(|a| a.outcome == Outcome::Created)
                    .count();
                imported.unchanged = appended.len() - imported.created;
                break;
            }
            Err(
                StoreError::Conflict {
                    index: Some(i),
                    error,
                }
                | StoreError::Invalid {
                    index: Some(i),
                    error,
                },
            ) if i < good.len() => {
                let (line, cells, _) = good.remove(i);
                let e = refused_row(line, &error);
                if !args.partial {
                    spinner.finish_and_clear();
                    return Err(Refused {
                        rows: rows.len(),
                        rejected: 1,
                        faults: format!("  {name}: {e}"),
                    }
                    .into());
                }
                rejected.push((line, cells, e.to_string()));
            }
            Err(e) => return Err(e).context("failed to store the entries"),
        }
    }
    spinner.finish_and_clear();
    imported.rejected = rejected.len();
    rejected.sort_by_key(|(line, _, _)| *line);
    if let Some(path) = &args.rejected
        && args.partial
    {
        write_rejected(path, &header, &rejected)?;
    }
    Ok(imported)
}

/// A row the store refused, as the reader names a row.
fn refused_row(line: u64, error: &FieldError) -> RowError {
    let reason = if error.reason.starts_with("differs") {
        "changed since it was imported: differs from the entry already recorded under this row's id"
            .to_owned()
    } else {
        error.reason.clone()
    };
    RowError {
        line,
        column: None,
        field: error.field.clone(),
        reason,
    }
}

/// Writes the rejected rows, each with why, whole or not at all.
fn write_rejected(
    path: &std::path::Path,
    header: &[String],
    rejected: &[(u64, Vec<String>, String)],
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut columns = header.to_vec();
    columns.push("rejected_because".into());
    out.write_record(&columns)?;
    for (_, cells, why) in rejected {
        let mut row = cells.clone();
        row.resize(header.len(), String::new());
        row.push(why.clone());
        out.write_record(&row)?;
    }
    let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::review::write_whole(path, &String::from_utf8(bytes)?)
}
