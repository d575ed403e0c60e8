//! `safeguard import`: an agency's CSV export, read through a mapping (`data/mappings/`), or a
//! local authority's past Children in Need census return, as entries. Every row (or child) is
//! read and checked before anything is stored. By default the import is all or nothing, every
//! fault listed; with `--partial` the good rows are stored and each rejected row is written,
//! with its reasons, to `--rejected`. Importing a file again changes nothing (each entry's
//! source id); a row changed since it was imported is reported, never dropped and never
//! silently stored over the first.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use safeguard_core::calendar::Calendar;
use safeguard_core::{AgencyId, AgencyKind, Entry, FieldError};
use safeguard_interop::agency_csv::{Mapping, RowError, read_rows};
use safeguard_interop::{cin_census, fhir};
use safeguard_store::{Actor, Outcome, Store, StoreError};

use crate::replay::RuleFiles;

/// Options of `safeguard import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The agency whose export it is (as `agency add` named it).
    #[arg(long)]
    pub(crate) agency: String,
    /// How the export's columns become entries (TOML; see `data/mappings/`).
    #[arg(
        long,
        requires = "input",
        required_unless_present_any(["cin", "fhir"]),
        conflicts_with_all(["cin", "fhir"])
    )]
    pub(crate) mapping: Option<PathBuf>,
    /// The export (CSV with a header).
    #[arg(long, requires = "mapping")]
    pub(crate) input: Option<PathBuf>,
    /// A past DfE Children in Need census return (XML) of `--agency`, children's social
    /// care: each child's episodes as the entries the next return is built from.
    #[arg(long, conflicts_with = "fhir")]
    pub(crate) cin: Option<PathBuf>,
    /// A FHIR R4 Bundle (JSON) from `--agency`'s system: Patient, RelatedPerson, Encounter,
    /// Condition, Observation and Flag, stored whole or not at all.
    #[arg(long, conflicts_with = "partial")]
    pub(crate) fhir: Option<PathBuf>,
    /// Store the good rows (or children) and write the rejected ones, with their reasons, to
    /// `--rejected`.
    #[arg(long, requires = "rejected")]
    pub(crate) partial: bool,
    /// Where rejected rows go with `--partial`: the export's columns and `rejected_because`
    /// (for a census return, each rejected child's XML path and faults, a line each).
    #[arg(long)]
    pub(crate) rejected: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) files: RuleFiles,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// What it counts: rows of an export, children of a return, a bundle.
    pub unit: &'static str,
    /// Rows (or children) read.
    pub rows: usize,
    /// Entries stored now.
    pub created: usize,
    /// Entries already imported with the same content: nothing written.
    pub unchanged: usize,
    /// Rows (or children) rejected (with `--partial`).
    pub rejected: usize,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
#[error("nothing was imported: {rejected} of {rows} {unit} cannot be imported:\n{faults}")]
pub struct Refused {
    unit: &'static str,
    rows: usize,
    rejected: usize,
    faults: String,
}

/// One part of a file that is imported or rejected whole: a row of an export, or a child of
/// a census return with all its entries.
struct Unit {
    /// Where it is in the file, for sorting what is rejected.
    place: u64,
    /// Its cells as read (a row's), for the file of rejected rows.
    cells: Vec<String>,
    /// Its entries, or every fault found in it.
    entries: Result<Vec<Entry>, Vec<String>>,
}

/// Reads, checks and stores the export or return.
pub fn run(store: &Store, args: &ImportArgs) -> anyhow::Result<Imported> {
    let agency = AgencyId::parse(&args.agency).map_err(|e| anyhow::anyhow!("--agency: {e}"))?;
    let Some(kind) = store
        .agencies()?
        .into_iter()
        .find(|a| a.id == agency)
        .map(|a| a.kind)
    else {
        anyhow::bail!("--agency: no agency {agency}; add it with `safeguard agency add`");
    };
    let book = args.files.load()?;
    let now = chrono::Utc::now();
    let (unit, name, header, units) = match (&args.cin, &args.mapping, &args.input) {
        (None, None, None) if args.fhir.is_some() => {
            let path = args.fhir.as_ref().expect("checked");
            (
                "bundle",
                path,
                Vec::new(),
                vec![read_fhir(path, &agency, now)?],
            )
        }
        (Some(cin), _, _) => {
            if kind != AgencyKind::SocialCare {
                anyhow::bail!(
                    "--agency: a census return is children's social care's; {agency} is not"
                );
            }
            ("children", cin, Vec::new(), read_census(cin, &agency, now)?)
        }
        (None, Some(mapping), Some(input)) => {
            let (header, units) = read_export(mapping, input, &agency, now)?;
            ("rows", input, header, units)
        }
        _ => anyhow::bail!("give --mapping and --input, --cin, or --fhir"),
    };
    let name = name.display().to_string();
    let (imported, mut rejected) =
        store_units(store, &book, &agency, unit, &name, units, args.partial)?;
    rejected.sort_by_key(|(place, _, _)| *place);
    if let Some(path) = &args.rejected
        && args.partial
    {
        if args.cin.is_some() {
            let text: String = rejected
                .iter()
                .map(|(_, _, why)| format!("{why}\n"))
                .collect();
            crate::review::write_whole(path, &text)?;
        } else {
            write_rejected(path, &header, &rejected)?;
        }
    }
    Ok(imported)
}

/// Reads an export's rows through its mapping: the header and each row.
fn read_export(
    mapping: &std::path::Path,
    input: &std::path::Path,
    agency: &AgencyId,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(Vec<String>, Vec<Unit>)> {
    let text = std::fs::read_to_string(mapping)
        .with_context(|| format!("failed to read {}", mapping.display()))?;
    let mapping =
        Mapping::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", mapping.display()))?;
    let file =
        std::fs::read(input).with_context(|| format!("failed to read {}", input.display()))?;
    let lines = file
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    let bar = ProgressBar::new(lines as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} rows").expect("a template"),
    );
    bar.set_message("Reading");
    let (header, rows) = read_rows(&mapping, agency, file.as_slice(), now, || bar.inc(1))
        .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    bar.finish_and_clear();
    let units = rows
        .into_iter()
        .map(|row| Unit {
            place: row.line,
            cells: row.cells,
            entries: row.entry.map(|e| vec![e]).map_err(|e| vec![e.to_string()]),
        })
        .collect();
    Ok((header, units))
}

/// Reads a FHIR Bundle: its entries, or every fault by resource and element.
fn read_fhir(
    path: &std::path::Path,
    agency: &AgencyId,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Unit> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    Ok(Unit {
        place: 1,
        cells: Vec::new(),
        entries: fhir::read_bundle(&text, agency, now)
            .map_err(|faults| faults.iter().map(ToString::to_string).collect()),
    })
}

/// Reads a census return's children, each as its entries or its faults.
fn read_census(
    path: &std::path::Path,
    agency: &AgencyId,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<Unit>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let read = cin_census::read(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let calendar = Calendar::england_and_wales();
    let bar = ProgressBar::new(read.children.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} children").expect("a template"),
    );
    bar.set_message("Reading");
    let units = read
        .children
        .into_iter()
        .enumerate()
        .map(|(i, child)| {
            bar.inc(1);
            let at = format!("/Message/Children/Child[{}]", i + 1);
            let entries = match child {
                Ok(child) => {
                    let entries = cin_census::to_entries(&child, agency, &calendar, now);
                    // Checked as every entry is: a date of birth after today, say.
                    match entries
                        .iter()
                        .find_map(|e| e.validate().and_then(|()| e.check_plausible(now)).err())
                    {
                        Some(e) => Err(vec![format!("{at}: {e}")]),
                        None => Ok(entries),
                    }
                }
                Err(fault) => Err(fault.faults.iter().map(ToString::to_string).collect()),
            };
            Unit {
                place: i as u64 + 1,
                cells: Vec::new(),
                entries,
            }
        })
        .collect();
    bar.finish_and_clear();
    Ok(units)
}

/// Stores the good units in one transaction: by default all or nothing with every fault
/// listed; with `partial`, the good ones, returning the rejected with why.
#[allow(clippy::type_complexity)]
fn store_units(
    store: &Store,
    book: &safeguard_core::rules::RuleBook,
    agency: &AgencyId,
    unit: &'static str,
    name: &str,
    units: Vec<Unit>,
    partial: bool,
) -> anyhow::Result<(Imported, Vec<(u64, Vec<String>, String)>)> {
    let total = units.len();
    let refused = |faults: Vec<String>| Refused {
        unit,
        rows: total,
        rejected: faults.len(),
        faults: faults
            .iter()
            .map(|f| format!("  {name}: {f}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let mut rejected: Vec<(u64, Vec<String>, String)> = Vec::new();
    let mut good: Vec<(u64, Vec<String>, Vec<Entry>)> = Vec::new();
    for u in units {
        match u.entries {
            Ok(entries) => good.push((u.place, u.cells, entries)),
            Err(faults) => rejected.push((u.place, u.cells, faults.join("; "))),
        }
    }
    if !rejected.is_empty() && !partial {
        return Err(refused(rejected.into_iter().map(|(_, _, why)| why).collect()).into());
    }
    // Entries imported before with other content: each listed, and nothing stored, unless
    // --partial sets their units aside.
    let owner = |good: &[(u64, Vec<String>, Vec<Entry>)], mut index: usize| {
        good.iter()
            .position(|(_, _, es)| {
                let here = index < es.len();
                index = index.saturating_sub(es.len());
                here
            })
            .expect("an entry's unit")
    };
    let sent: Vec<Entry> = good.iter().flat_map(|(_, _, es)| es.clone()).collect();
    let mut changed: Vec<(usize, String)> = Vec::new();
    for (i, error) in store.changed_resends(&sent)? {
        let u = owner(&good, i);
        if !changed.iter().any(|(c, _)| *c == u) {
            changed.push((u, refused_unit(unit, good[u].0, &error)));
        }
    }
    if !changed.is_empty() && !partial {
        return Err(refused(changed.into_iter().map(|(_, why)| why).collect()).into());
    }
    changed.sort_by_key(|(u, _)| std::cmp::Reverse(*u));
    for (u, why) in changed {
        let (place, cells, _) = good.remove(u);
        rejected.push((place, cells, why));
    }
    // Stored in one transaction. A unit the store still refuses (a correction naming an entry
    // it does not hold, say) fails the whole import, or with --partial is set aside.
    let actor = Actor::system(&format!("import {agency}"));
    let today = chrono::Local::now().date_naive();
    let count: usize = good.iter().map(|(_, _, es)| es.len()).sum();
    let spinner = ProgressBar::new_spinner().with_message(format!(
        "Storing {count} entries and evaluating their children"
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut imported = Imported {
        unit,
        rows: total,
        ..Imported::default()
    };
    while !good.is_empty() {
        let entries: Vec<Entry> = good.iter().flat_map(|(_, _, es)| es.clone()).collect();
        match store.append_and_refresh(&actor, &entries, book, today) {
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
            ) if i < entries.len() => {
                let u = owner(&good, i);
                let (place, cells, _) = good.remove(u);
                let why = refused_unit(unit, place, &error);
                if !partial {
                    spinner.finish_and_clear();
                    return Err(refused(vec![why]).into());
                }
                rejected.push((place, cells, why));
            }
            Err(e) => return Err(e).context("failed to store the entries"),
        }
    }
    spinner.finish_and_clear();
    imported.rejected = rejected.len();
    Ok((imported, rejected))
}

/// A unit the store refused, as its reader names it: a row by its line, a child by its path,
/// a bundle as a whole.
fn refused_unit(unit: &str, place: u64, error: &FieldError) -> String {
    let reason = if error.reason.starts_with("differs") {
        "changed since it was imported: differs from what is already recorded under its identifier"
    } else {
        &error.reason
    };
    match unit {
        "children" => format!(
            "/Message/Children/Child[{place}] ({}): {reason}",
            error.field
        ),
        "bundle" => format!("Bundle ({}): {reason}", error.field),
        _ => refused_row(place, error).to_string(),
    }
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
    crate::review::write_whole(path, bytes)
}
