//! `safeguard replay`: when could we have known? Replays a child's entries in time order
//! through the rules and prints each flag at the date it would first have been raised, next to
//! the first escalation that actually followed.

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use safeguard_core::calendar::Calendar;
use safeguard_core::clocks::{ClockDefinition, DEFAULT_CLOCKS, parse_clocks};
use safeguard_core::rules::{
    Child, ChronologyItem, DEFAULT_RULES, Flag, Rule, evaluate, parse_rules,
};
use safeguard_core::{EntryDetails, EntryKind, MeetingStage, PartialDate, PersonId, StageEvent};
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, ChronologyQuery, MAX_PAGE, Store};

/// Where rules, clocks and bank holidays come from: the shipped files unless replaced.
#[derive(Args, Clone)]
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

/// The loaded rules, clocks and calendar.
pub struct Loaded {
    pub rules: Vec<Rule>,
    pub clocks: Vec<ClockDefinition>,
    pub calendar: Calendar,
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
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let rules = parse_rules(&read(&self.rules, DEFAULT_RULES)?)?;
        let clocks = parse_clocks(&read(&self.clocks, DEFAULT_CLOCKS)?)?;
        let calendar = match &self.bank_holidays {
            None => Calendar::england_and_wales(),
            Some(p) if p.extension().is_some_and(|e| e == "json") => {
                Calendar::from_govuk_json(&read(&self.bank_holidays, "")?)?
            }
            Some(_) => Calendar::from_csv(&read(&self.bank_holidays, "")?)?,
        };
        Ok(Loaded {
            rules,
            clocks,
            calendar,
        })
    }
}

/// A child as the rules see them: their most precise date of birth and every entry.
pub fn load_child(store: &Store, person: PersonId, actor: &Actor) -> anyhow::Result<Child> {
    let found = store
        .person(person)?
        .with_context(|| format!("no person {person}"))?;
    let precision = |d: &PartialDate| match d {
        PartialDate::Day(_) => 2,
        PartialDate::Month(..) => 1,
        PartialDate::Year(_) => 0,
    };
    let date_of_birth = found
        .records
        .iter()
        .filter_map(|r| r.record.date_of_birth)
        .max_by_key(precision);
    let mut chronology = Vec::new();
    let mut query = ChronologyQuery {
        limit: MAX_PAGE,
        ..ChronologyQuery::default()
    };
    loop {
        let page = store.chronology(person, &query)?;
        for e in &page.entries {
            chronology.push(ChronologyItem {
                id: e.id,
                entry: e.entry.decode()?,
                person_ids: e.person_ids.clone(),
            });
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    store.record_access(
        actor,
        &[AuditEvent::new("read_chronology", person.to_string())],
    )?;
    Ok(Child {
        person,
        date_of_birth,
        chronology,
    })
}

/// Whether an entry is an escalation: a strategy discussion, an enquiry, a conference, a legal
/// meeting held, an application to court or a placement.
fn is_escalation(details: &EntryDetails) -> bool {
    match details {
        EntryDetails::LegalPlanningMeeting(m) => m.stage == MeetingStage::Held,
        EntryDetails::Section47Enquiry(e) => e.stage == StageEvent::Started,
        other => matches!(
            other.kind(),
            EntryKind::StrategyDiscussion
                | EntryKind::Conference
                | EntryKind::CourtApplication
                | EntryKind::Placement
        ),
    }
}

/// A flag and the first escalation (its day and kind) that followed it, if any.
pub type Replayed = (Flag, Option<(NaiveDate, EntryKind)>);

/// Flags with the first escalation on or after each flag's date.
pub fn replay(child: &Child, loaded: &Loaded, as_of: NaiveDate) -> anyhow::Result<Vec<Replayed>> {
    let mut flags = evaluate(
        &loaded.rules,
        &loaded.clocks,
        child,
        as_of,
        &loaded.calendar,
    )?;
    flags.sort_by(|a, b| (a.first_knowable, &a.rule).cmp(&(b.first_knowable, &b.rule)));
    Ok(flags
        .into_iter()
        .map(|f| {
            let escalation = child
                .chronology
                .iter()
                .find(|i| {
                    i.entry.occurred_at.date() >= f.first_knowable
                        && !f.entries.contains(&i.id)
                        && is_escalation(&i.entry.details)
                })
                .map(|i| (i.entry.occurred_at.date(), i.entry.kind()));
            (f, escalation)
        })
        .collect())
}

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
