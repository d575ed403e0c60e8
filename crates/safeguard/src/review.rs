//! `safeguard review`: a practice review's chronology of one child, every entry from every
//! agency pseudonymised, with the concerns the rules raise on replay and the missed
//! opportunities; checked for leaks before anything is written, and audited. The building is
//! `safeguard_web::review_export`, shared with the review panel's page.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use safeguard_core::PersonId;
use safeguard_core::pseudonym::Scheme;
use safeguard_core::review::Level;
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, Store};
use safeguard_web::review_export::{ReviewOptions, build_review};

use crate::replay::{self, RuleFiles};

/// What `review` writes.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A page of its own, with the contacts drawn.
    Html,
    /// Markdown.
    Md,
    /// JSON.
    Json,
}

/// How much `review` keeps.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum ReviewLevel {
    /// Every entry with what happened.
    Full,
    /// The pattern, counts, findings and missed opportunities; no narrative.
    Summary,
}

/// Options of `safeguard review`.
#[derive(Args)]
pub struct ReviewArgs {
    /// The child's person identifier.
    #[arg(long)]
    person: PersonId,
    /// Entries from this day.
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Entries up to this day, and the timescales as of it [default: the latest entry's day].
    #[arg(long)]
    to: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = ReviewLevel::Full)]
    level: ReviewLevel,
    #[arg(long, value_enum, default_value_t = Format::Html)]
    format: Format,
    /// Dates narrowed to the month.
    #[arg(long)]
    narrow_dates: bool,
    /// The alias scheme (TOML; see `data/pseudonyms.toml`).
    #[arg(long)]
    scheme: Option<PathBuf>,
    /// Where to write it; nothing is written if anything identifying is left.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    files: RuleFiles,
}

/// Builds, checks and writes the review. Returns the number of entries and findings.
pub fn run(store: &Store, args: &ReviewArgs) -> anyhow::Result<(usize, usize)> {
    let scheme = match &args.scheme {
        Some(path) => Scheme::from_toml(
            &std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Scheme::default(),
    };
    let actor = Actor::system("review");
    // Audited as a read of the record, and then as the export.
    replay::load_child(store, args.person, &actor)?;
    let book = args.files.load()?;
    let options = ReviewOptions {
        from: args.from,
        to: args.to,
        level: match args.level {
            ReviewLevel::Full => Level::Full,
            ReviewLevel::Summary => Level::Summary,
        },
        narrow_dates: args.narrow_dates,
        scheme,
    };
    let built = build_review(store, &book, args.person, &options)?;
    let text = match args.format {
        Format::Html => built.to_html(),
        Format::Md => built.to_markdown(),
        Format::Json => serde_json::to_string_pretty(&built)? + "\n",
    };
    write_whole(&args.out, &text)?;
    store.record_access(
        &actor,
        &[AuditEvent::new("export_review", args.person.to_string())],
    )?;
    let entries = built.months.iter().map(|m| m.count).sum();
    Ok((entries, built.findings.len()))
}

/// Writes an export whole or not at all: beside it first, then renamed into place, so that no
/// half-written file is ever left where the export was asked for.
pub fn write_whole(path: &std::path::Path, text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .with_context(|| format!("failed to write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("failed to write {}", path.display()))
}
