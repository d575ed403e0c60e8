//! `safeguard census`: the returns a local authority makes from its own entries. `cin`: the
//! DfE Children in Need census return for a collection year (see
//! `safeguard_interop::cin_census`); `annex-a`: Ofsted's Annex A lists for a period (see
//! `safeguard_interop::annex_a`). Reading each child for a return is audited.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use safeguard_core::calendar::Calendar;
use safeguard_core::rules::ChronologyItem;
use safeguard_core::{AgencyId, AgencyKind, ParticipantRole, PersonId, PersonRecord};
use safeguard_interop::annex_a;
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
    /// Ofsted's Annex A, lists 1 to 8 (contacts to children looked after), for a period, as a
    /// spreadsheet, built from the entries of children's social care alone.
    AnnexA {
        #[command(flatten)]
        db: crate::DatabaseArgs,
        #[command(flatten)]
        args: AnnexArgs,
    },
}

/// Options of `safeguard census annex-a`.
#[derive(Args)]
pub struct AnnexArgs {
    /// The first day of the period.
    #[arg(long)]
    from: NaiveDate,
    /// The last day of the period.
    #[arg(long)]
    to: NaiveDate,
    /// The authority's children's social care [default: the only one].
    #[arg(long)]
    agency: Option<String>,
    /// Where to write the workbook (`.xlsx`).
    #[arg(long)]
    out: PathBuf,
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

/// What children's social care holds of one child: the person, its own record of them (the
/// latest) and its own entries about them.
struct Held {
    person: PersonId,
    record: PersonRecord,
    items: Vec<ChronologyItem>,
}

/// Every child children's social care (`agency`) recorded an entry about.
fn held_by(store: &Store, agency: &AgencyId) -> anyhow::Result<Vec<Held>> {
    let children = store.all_subject_children()?;
    let bar = ProgressBar::new(children.len() as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} children").expect("a template"),
    );
    bar.set_message("Reading");
    let mut held = Vec::new();
    for person in children {
        bar.inc(1);
        let Some(child) = store.child(person)? else {
            continue;
        };
        let mut record = None;
        let items: Vec<ChronologyItem> = child
            .chronology
            .into_iter()
            .filter(|item| item.entry.agency == *agency)
            .filter(|item| {
                let subject = item
                    .entry
                    .persons
                    .iter()
                    .zip(&item.person_ids)
                    .find(|(p, id)| **id == person && p.role == ParticipantRole::SubjectChild);
                if let Some((p, _)) = subject {
                    record = Some(p.record.clone());
                }
                subject.is_some()
            })
            .collect();
        if let Some(record) = record {
            held.push(Held {
                person,
                record,
                items,
            });
        }
    }
    bar.finish_and_clear();
    Ok(held)
}

fn histories(held: &[Held]) -> Vec<ChildHistory<'_>> {
    held.iter()
        .map(|h| ChildHistory {
            record: &h.record,
            events: h
                .items
                .iter()
                .map(|i| (i.entry.occurred_at.date(), &i.entry.details))
                .collect(),
        })
        .collect()
}

/// Audits the reading of each child whose identifier went into a return.
fn audit(
    store: &Store,
    command: &str,
    held: &[Held],
    returned: &HashSet<&str>,
) -> anyhow::Result<()> {
    let events: Vec<AuditEvent> = held
        .iter()
        .filter(|h| returned.contains(h.record.local_id.as_str()))
        .map(|h| AuditEvent::new("census_return", h.person.to_string()))
        .collect();
    store.record_access(&Actor::system(command), &events)?;
    Ok(())
}

/// Builds and writes the return; the number of children in it.
pub fn cin(store: &Store, args: &CinArgs) -> anyhow::Result<usize> {
    if !(args.lea.len() == 3 && args.lea.bytes().all(|b| b.is_ascii_digit())) {
        anyhow::bail!("--lea: an LEA code is three digits (201)");
    }
    let agency = social_care(store, args.agency.as_deref())?;
    let held = held_by(store, &agency)?;
    let built = cin_census::build(
        args.year,
        &args.lea,
        &histories(&held),
        &Calendar::england_and_wales(),
    );
    if built.children.is_empty() {
        anyhow::bail!(
            "no child of {agency} had an episode of need open in {}: there is no return to make",
            args.year
        );
    }
    crate::review::write_whole(&args.out, cin_census::write(&built))?;
    let returned = built
        .children
        .iter()
        .map(|c| c.la_child_id.as_str())
        .collect();
    audit(store, "census cin", &held, &returned)?;
    Ok(built.children.len())
}

/// Builds and writes Annex A; the rows of each list.
pub fn annex_a(store: &Store, args: &AnnexArgs) -> anyhow::Result<Vec<usize>> {
    if args.to < args.from {
        anyhow::bail!("--to: is before --from");
    }
    let agency = social_care(store, args.agency.as_deref())?;
    let held = held_by(store, &agency)?;
    let built = annex_a::build(
        args.from,
        args.to,
        &histories(&held),
        &Calendar::england_and_wales(),
    );
    let bytes = annex_a::write(&built).context("failed to make the workbook")?;
    crate::review::write_whole(&args.out, bytes)?;
    let returned = built
        .lists
        .iter()
        .flat_map(|l| &l.rows)
        .filter_map(|row| match row.first() {
            Some(annex_a::Cell::Text(id)) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    audit(store, "census annex-a", &held, &returned)?;
    Ok(built.lists.iter().map(|l| l.rows.len()).collect())
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
