//! `safeguard census`: the returns a local authority makes from its own entries. `cin`: the
//! DfE Children in Need census return for a collection year (see
//! `safeguard_interop::cin_census`). Reading each child for a return is audited.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use safeguard_core::calendar::Calendar;
use safeguard_core::{AgencyId, AgencyKind, ParticipantRole, PersonRecord};
use safeguard_interop::cin_census::{self, ChildHistory, CollectionYear};
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, Store};

/// The returns.
#[derive(Subcommand)]
pub enum CensusCommand {
    /// The DfE Children in Need census return (XML) of a collection year, built from the
    /// entries of the local authority's children's social care alone.
    Cin {
        #[command(flatten)]
        db: crate::DatabaseArgs,
        #[command(flatten)]
        args: CinArgs,
    },
}

/// Options of `safeguard census cin`.
#[derive(Args)]
pub struct CinArgs {
    /// The collection year, 1 April to 31 March (`2023-24`).
    #[arg(long, value_parser = CollectionYear::parse)]
    year: CollectionYear,
    /// The local authority's three-digit LEA code (`201`).
    #[arg(long)]
    lea: String,
    /// The authority's children's social care, as `agency add` named it [default: the only
    /// children's social care agency].
    #[arg(long)]
    agency: Option<String>,
    /// Where to write the return.
    #[arg(long)]
    out: PathBuf,
}

/// Builds and writes the return; the number of children in it.
pub fn cin(store: &Store, args: &CinArgs) -> anyhow::Result<usize> {
    if !(args.lea.len() == 3 && args.lea.bytes().all(|b| b.is_ascii_digit())) {
        anyhow::bail!("--lea: an LEA code is three digits (201)");
    }
    let agency = social_care(store, args.agency.as_deref())?;
    let children = store.all_subject_children()?;
    let bar = ProgressBar::new(children.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} children").expect("a template"),
    );
    bar.set_message("Reading");
    // Each child as the authority recorded them: its own record of the child (the latest)
    // and its own entries about the child.
    let mut held = Vec::new();
    for person in children {
        bar.inc(1);
        let Some(child) = store.child(person)? else {
            continue;
        };
        let ours: Vec<_> = child
            .chronology
            .iter()
            .filter(|item| item.entry.agency == agency)
            .filter_map(|item| {
                let subject = item
                    .entry
                    .persons
                    .iter()
                    .zip(&item.person_ids)
                    .find(|(p, id)| **id == person && p.role == ParticipantRole::SubjectChild)?;
                Some((item.clone(), subject.0.record.clone()))
            })
            .collect();
        if let Some((_, record)) = ours.last() {
            let record: PersonRecord = record.clone();
            held.push((
                person,
                record,
                ours.into_iter().map(|(i, _)| i).collect::<Vec<_>>(),
            ));
        }
    }
    bar.finish_and_clear();
    let histories: Vec<ChildHistory> = held
        .iter()
        .map(|(_, record, items)| ChildHistory {
            record,
            events: items
                .iter()
                .map(|i| (i.entry.occurred_at.date(), &i.entry.details))
                .collect(),
        })
        .collect();
    let built = cin_census::build(
        args.year,
        &args.lea,
        &histories,
        &Calendar::england_and_wales(),
    );
    if built.children.is_empty() {
        anyhow::bail!(
            "no child of {agency} had an episode of need open in {}: there is no return to make",
            args.year
        );
    }
    crate::review::write_whole(&args.out, &cin_census::write(&built))?;
    // Audited: each child whose record went into the return.
    let returned: std::collections::HashSet<&str> = built
        .children
        .iter()
        .map(|c| c.la_child_id.as_str())
        .collect();
    let events: Vec<AuditEvent> = held
        .iter()
        .filter(|(_, record, _)| returned.contains(record.local_id.as_str()))
        .map(|(person, _, _)| AuditEvent::new("census_return", person.to_string()))
        .collect();
    store.record_access(&Actor::system("census cin"), &events)?;
    Ok(built.children.len())
}

/// The agency named, which must be children's social care, or the only such agency.
fn social_care(store: &Store, named: Option<&str>) -> anyhow::Result<AgencyId> {
    let agencies = store.agencies().context("failed to read the agencies")?;
    match named {
        Some(name) => {
            let id = AgencyId::parse(name).map_err(|e| anyhow::anyhow!("--agency: {e}"))?;
            match agencies.iter().find(|a| a.id == id) {
                Some(a) if a.kind == AgencyKind::SocialCare => Ok(id),
                Some(_) => anyhow::bail!("--agency: {id} is not children's social care"),
                None => anyhow::bail!("--agency: no agency {id}"),
            }
        }
        None => {
            let mut care = agencies.iter().filter(|a| a.kind == AgencyKind::SocialCare);
            match (care.next(), care.next()) {
                (Some(a), None) => Ok(a.id.clone()),
                (None, _) => anyhow::bail!("no children's social care agency is registered"),
                (Some(_), Some(_)) => {
                    anyhow::bail!("--agency: more than one children's social care agency; name one")
                }
            }
        }
    }
}
