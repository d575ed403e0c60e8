//! `safeguard replay`: when could we have known? Replays a child's entries in time order
//! through the rules and prints each flag at the date it would first have been raised, next to
//! the first escalation that actually followed.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use safeguard_core::PersonId;
use safeguard_core::calendar::Calendar;
use safeguard_core::clocks::{DEFAULT_CLOCKS, parse_clocks};
use safeguard_core::rules::{Child, DEFAULT_RULES, RuleBook, parse_rules};
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, Store};

/// Where rules, clocks and bank holidays come from: the shipped files unless replaced.
#[derive(Args, Clone, Default)]
pub struct RuleFiles {
    /// A rules file replacing the shipped one (TOML).
    #[arg(long, env = "SAFEGUARD_RULES")]
    rules: Option<PathBuf>,
    /// A clocks file replacing the shipped one (TOML).
    #[arg(long, env = "SAFEGUARD_CLOCKS")]
    clocks: Option<PathBuf>,
    /// A bank holidays file replacing the shipped one: `date,title` CSV or GOV.UK's JSON.
    #[arg(long, env = "SAFEGUARD_BANK_HOLIDAYS")]
    bank_holidays: Option<PathBuf>,
}

fn read(path: &Option<PathBuf>, default: &str) -> anyhow::Result<String> {
    match path {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("failed to read {}", p.display()))
        }
        None => Ok(default.to_owned()),
    }
}

impl RuleFiles {
    pub fn load(&self) -> anyhow::Result<RuleBook> {
        let rules = parse_rules(&read(&self.rules, DEFAULT_RULES)?)?;
        let clocks = parse_clocks(&read(&self.clocks, DEFAULT_CLOCKS)?)?;
        let calendar = match &self.bank_holidays {
            None => Calendar::england_and_wales(),
            Some(p) if p.extension().is_some_and(|e| e == "json") => {
                Calendar::from_govuk_json(&read(&self.bank_holidays, "")?)?
            }
            Some(_) => Calendar::from_csv(&read(&self.bank_holidays, "")?)?,
        };
        Ok(RuleBook {
            rules,
            clocks,
            calendar,
        })
    }
}

/// A child as the rules see them, read for the replay (and audited as a read).
pub fn load_child(store: &Store, person: PersonId, actor: &Actor) -> anyhow::Result<Child> {
    let child = store
        .child(person)?
        .with_context(|| format!("no person {person}"))?;
    store.record_access(
        actor,
        &[AuditEvent::new("read_chronology", person.to_string())],
    )?;
    Ok(child)
}

pub use safeguard_core::review::{Replayed, replay};

/// Prints the replay.
pub fn print(rows: &[Replayed]) {
    println!(
        "{:<11} {:<8} {:<34} first escalation after",
        "knowable", "severity", "rule"
    );
    for (flag, escalation) in rows {
        let after = match escalation {
            Some((day, kind)) => format!(
                "{day} {} ({} days later)",
                kind.label(),
                (*day - flag.first_knowable).num_days()
            ),
            None => "none".to_owned(),
        };
        let severity = format!("{:?}", flag.severity).to_lowercase();
        println!(
            "{:<11} {:<8} {:<34} {after}",
            flag.first_knowable.to_string(),
            severity,
            flag.rule
        );
        println!("{:<11} {}", "", flag.sentence);
    }
}

/// Re-evaluates every child's flags, showing progress.
pub fn rerun(
    store: &Store,
    book: &RuleBook,
    as_of: NaiveDate,
    actor: &Actor,
) -> anyhow::Result<safeguard_store::flags::Reevaluated> {
    with_progress(|progress| store.reevaluate_all(actor, book, as_of, progress))
}

/// Re-evaluates the children whose flags time alone may have changed by `as_of`, showing
/// progress.
pub fn tick(
    store: &Store,
    book: &RuleBook,
    as_of: NaiveDate,
    actor: &Actor,
) -> anyhow::Result<safeguard_store::flags::Reevaluated> {
    with_progress(|progress| store.tick(actor, book, as_of, progress))
}

fn with_progress(
    pass: impl FnOnce(
        &mut dyn FnMut(usize, usize),
    ) -> Result<safeguard_store::flags::Reevaluated, safeguard_store::StoreError>,
) -> anyhow::Result<safeguard_store::flags::Reevaluated> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>24} [{bar:40}] {pos}/{len} children ({per_sec}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message("evaluating rules");
    let totals = pass(&mut |done, of| {
        bar.set_length(of as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    Ok(totals)
}
