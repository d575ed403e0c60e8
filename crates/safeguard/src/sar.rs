//! `safeguard sar`: everything held on one person, for their subject access request under the
//! Data Protection Act 2018: their records as each agency holds them, every entry naming them,
//! the decisions people made on who they are, the concerns on their record and who read it.
//! Other people in the entries are third parties: they are named by alias and their
//! identifiers removed, through the same pseudonyms as a practice review, and the export is
//! refused if any of theirs is left. Professionals acting as such are named (the Act's
//! exemption for third parties does not cover health, social work and education staff in
//! their work). Audited.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use safeguard_core::pseudonym::{Part, Pseudonyms, Scheme};
use safeguard_core::text::escape_html;
use safeguard_core::{ParticipantRole, PersonId};
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, ChronologyQuery, MAX_PAGE, Store};
use serde::Serialize;

use safeguard_web::review_export::party_of;

/// What `sar` writes.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum SarFormat {
    /// JSON.
    Json,
    /// A page of its own.
    Html,
}

/// Options of `safeguard sar`.
#[derive(Args)]
pub struct SarArgs {
    /// The person asking.
    #[arg(long)]
    person: PersonId,
    #[arg(long, value_enum, default_value_t = SarFormat::Html)]
    format: SarFormat,
    /// Where to write it; nothing is written if a third party's identifier is left.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Serialize)]
struct Export {
    /// Their records, as each agency holds them.
    records: Vec<serde_json::Value>,
    /// Every entry naming them, oldest first.
    entries: Vec<SarEntry>,
    /// Decisions people made on whether records are theirs.
    identity_decisions: Vec<Decision>,
    /// Concerns the rules raised on their record.
    concerns: Vec<SarConcern>,
    /// Who read or changed their record.
    access_log: Vec<Access>,
}

#[derive(Serialize)]
struct SarEntry {
    when: String,
    agency: String,
    kind: String,
    summary: String,
    people: Vec<String>,
    recorded_by: String,
}

#[derive(Serialize)]
struct Decision {
    agencies: String,
    decision: String,
    reason: String,
    decided_at: String,
}

#[derive(Serialize)]
struct SarConcern {
    knowable: String,
    concern: String,
}

#[derive(Serialize)]
struct Access {
    at: String,
    agency: String,
    role: String,
    action: String,
}

/// Writes the export; returns the number of entries.
pub fn run(store: &Store, args: &SarArgs) -> anyhow::Result<usize> {
    let person = store
        .person(args.person)?
        .with_context(|| format!("no person {}", args.person))?;
    let mut items = Vec::new();
    let mut query = ChronologyQuery {
        limit: MAX_PAGE,
        ..ChronologyQuery::default()
    };
    loop {
        let page = store.chronology(args.person, &query)?;
        items.extend(page.entries);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let mut entries = Vec::with_capacity(items.len());
    for item in &items {
        entries.push((item.entry.decode()?, item.person_ids.clone()));
    }
    // The person asking is shown as they are; everyone else named in an entry is a third party.
    let mut order: Vec<(PersonId, ParticipantRole)> = Vec::new();
    for (entry, ids) in &entries {
        for (p, id) in entry.persons.iter().zip(ids) {
            if *id != args.person && !order.iter().any(|(o, _)| o == id) {
                order.push((*id, p.role));
            }
        }
    }
    let ids: Vec<PersonId> = order.iter().map(|(id, _)| *id).collect();
    let others = store.persons(&ids)?;
    let mut subject = party_of(&person, Part::Subject);
    subject.disclosed = true;
    let mut parties = vec![subject];
    for (id, role) in &order {
        if let Some(other) = others.iter().find(|p| p.id == *id) {
            let sex = other.records.iter().find_map(|r| r.record.sex);
            let part = match role {
                ParticipantRole::SubjectChild | ParticipantRole::OtherChild => Part::Child,
                _ => Part::Adult(sex),
            };
            parties.push(party_of(other, part));
        }
    }
    let pseudonyms = Pseudonyms::new(&Scheme::default(), &parties);
    let alias_of = |id: &PersonId| -> String {
        if *id == args.person {
            person.display_name()
        } else {
            order
                .iter()
                .position(|(o, _)| o == id)
                .map_or("[someone]".to_owned(), |i| {
                    pseudonyms.alias(i + 1).to_owned()
                })
        }
    };
    let agencies: std::collections::HashMap<String, String> = store
        .agencies()?
        .into_iter()
        .map(|a| (a.id.as_str().to_owned(), a.name))
        .collect();
    let agency_name = |id: &str| agencies.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let export = Export {
        records: person
            .records
            .iter()
            .map(|r| {
                serde_json::json!({
                    "agency": agency_name(r.agency.as_str()),
                    "record": r.record,
                })
            })
            .collect(),
        entries: entries
            .iter()
            .map(|(entry, ids)| SarEntry {
                when: entry.occurred_at.to_string(),
                agency: agency_name(entry.agency.as_str()),
                kind: entry.kind().label().to_owned(),
                summary: pseudonyms.rewrite(&entry.summary),
                people: entry
                    .persons
                    .iter()
                    .zip(ids)
                    .map(|(p, id)| {
                        format!("{} ({})", alias_of(id), p.role.as_str().replace('_', " "))
                    })
                    .collect(),
                recorded_by: format!("{}, {}", entry.author.name, entry.author.role),
            })
            .collect(),
        identity_decisions: store
            .identity_decisions_of(args.person)?
            .into_iter()
            .map(|d| Decision {
                agencies: format!(
                    "{} and {}",
                    agency_name(&d.agencies.0),
                    agency_name(&d.agencies.1)
                ),
                decision: if d.same_person {
                    "the same person"
                } else {
                    "different people"
                }
                .to_owned(),
                reason: pseudonyms.rewrite(&d.reason),
                decided_at: d.decided_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        concerns: store
            .flags(args.person)?
            .into_iter()
            .map(|f| SarConcern {
                knowable: f.flag.first_knowable.to_string(),
                concern: pseudonyms.rewrite(&f.flag.sentence),
            })
            .collect(),
        access_log: store
            .access_log(&args.person.to_string())?
            .into_iter()
            .map(|e| Access {
                at: chrono::DateTime::from_timestamp_micros(e.at)
                    .unwrap_or_default()
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                agency: e
                    .agency
                    .as_deref()
                    .map(agency_name)
                    .unwrap_or_else(|| "Safeguard".into()),
                role: e.role.unwrap_or_default(),
                action: e.action,
            })
            .collect(),
    };
    // Third parties' identifiers, wherever they could be.
    let mut places = Vec::new();
    for (i, e) in export.entries.iter().enumerate() {
        for kind in pseudonyms.leaks(&format!("{}\n{}", e.summary, e.people.join("; "))) {
            places.push(format!("  entry {} ({}): {}", i + 1, &e.when, kind.label()));
        }
    }
    for (i, c) in export.concerns.iter().enumerate() {
        for kind in pseudonyms.leaks(&c.concern) {
            places.push(format!("  concern {}: {}", i + 1, kind.label()));
        }
    }
    for (i, d) in export.identity_decisions.iter().enumerate() {
        for kind in pseudonyms.leaks(&d.reason) {
            places.push(format!("  identity decision {}: {}", i + 1, kind.label()));
        }
    }
    if !places.is_empty() {
        anyhow::bail!(
            "the export still identifies a third party, so nothing was written:\n{}",
            places.join("\n")
        );
    }
    let text = match args.format {
        SarFormat::Json => serde_json::to_string_pretty(&export)? + "\n",
        SarFormat::Html => html(&person.display_name(), &export),
    };
    crate::review::write_whole(&args.out, &text)?;
    store.record_access(
        &Actor::system("subject-access"),
        &[AuditEvent::new(
            "subject_access_export",
            args.person.to_string(),
        )],
    )?;
    Ok(export.entries.len())
}

fn table(caption: &str, head: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = format!("<h2>{}</h2><table><thead><tr>", escape_html(caption));
    for h in head {
        out.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape_html(&cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn html(name: &str, export: &Export) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Information held about {0}</title>\
         <style>body{{font-family:Arial,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;width:100%;margin-bottom:2em}}\
         th,td{{border-bottom:1px solid #b1b4b6;padding:.4em;text-align:left;vertical-align:top}}</style></head><body>\
         <h1>Information held about {0}</h1><p>Other people are named by a letter (Ms A, Mr B, Child C) and what identifies them is removed, as the Data Protection Act 2018 asks.</p>",
        escape_html(name)
    );
    out.push_str(&table(
        "Your records, as each agency holds them",
        &["Agency", "Record"],
        export.records.iter().map(|r| {
            vec![
                r["agency"].as_str().unwrap_or_default().to_owned(),
                serde_json::to_string(&r["record"]).unwrap_or_default(),
            ]
        }),
    ));
    out.push_str(&table(
        "Every entry naming you",
        &["When", "Agency", "What", "Summary", "People", "Recorded by"],
        export.entries.iter().map(|e| {
            vec![
                e.when.clone(),
                e.agency.clone(),
                e.kind.clone(),
                e.summary.clone(),
                e.people.join("; "),
                e.recorded_by.clone(),
            ]
        }),
    ));
    out.push_str(&table(
        "Decisions on whether records are yours",
        &["Records of", "Decided", "Why", "When"],
        export.identity_decisions.iter().map(|d| {
            vec![
                d.agencies.clone(),
                d.decision.clone(),
                d.reason.clone(),
                d.decided_at.clone(),
            ]
        }),
    ));
    out.push_str(&table(
        "Concerns on your record",
        &["Since", "Concern"],
        export
            .concerns
            .iter()
            .map(|c| vec![c.knowable.clone(), c.concern.clone()]),
    ));
    out.push_str(&table(
        "Who read or changed your record",
        &["When", "Agency", "Role", "What"],
        export.access_log.iter().map(|a| {
            vec![
                a.at.clone(),
                a.agency.clone(),
                a.role.clone(),
                a.action.replace('_', " "),
            ]
        }),
    ));
    out.push_str("</body></html>\n");
    out
}
