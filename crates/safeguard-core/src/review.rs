//! A practice review's chronology: every entry from every agency in time order, grouped by
//! month, pseudonymised through [`Pseudonyms`], with the contacts per agency and month and the
//! concerns the rules raise on replay, each marked a missed opportunity where no escalation
//! followed; rendered as Markdown, HTML or JSON, and checked for leaks before it is written.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::pseudonym::{IdentifierKind, Pseudonyms};
use crate::rules::{Child, Flag, RuleBook};
use crate::text::escape_html;
use crate::{Entry, EntryDetails, EntryKind, MeetingStage, Precision, StageEvent};

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
pub fn replay(
    child: &Child,
    book: &RuleBook,
    as_of: NaiveDate,
) -> Result<Vec<Replayed>, crate::calendar::CalendarError> {
    let mut flags = book.evaluate(child, as_of)?;
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

/// How much a review keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Every entry with what happened.
    Full,
    /// The pattern, the counts, the findings and the missed opportunities; no narrative.
    Summary,
}

/// One entry of the record, as the review reads it.
pub struct Source<'a> {
    /// The entry.
    pub entry: &'a Entry,
    /// The party (index into the pseudonyms) of each participant, in order.
    pub parties: Vec<usize>,
    /// The party of the author.
    pub author: usize,
    /// The agency's name.
    pub agency: &'a str,
}

/// A concern the rules raise on replay.
pub struct Concern<'a> {
    /// The first day the record held everything it rests on.
    pub knowable: NaiveDate,
    /// What it means.
    pub sentence: &'a str,
    /// The first escalation after it, if any: its day and what it was.
    pub escalation: Option<(NaiveDate, &'a str)>,
    /// Days within which an escalation answers it (its rule's).
    pub window_days: u32,
}

/// A run of a statutory timescale, as the review reports it.
pub struct Timescale<'a> {
    /// What the timescale is.
    pub name: &'a str,
    /// The day it started.
    pub started: NaiveDate,
    /// The last day on which it was met.
    pub due: NaiveDate,
    /// The day the stage was done, if it was.
    pub done: Option<NaiveDate>,
}

/// A timescale and how late its stage was.
#[derive(Debug, Serialize, PartialEq)]
pub struct TimescaleLine {
    /// What the timescale is.
    pub stage: String,
    /// Started (narrowed to the month when dates are).
    pub started: String,
    /// Due.
    pub due: String,
    /// Done, if it was.
    pub done: Option<String>,
    /// "on time", "12 days late", "not done: 40 days overdue", "open".
    pub lateness: String,
    /// Days after the due day it was done, or is still not done (0 when on time or open).
    pub days_late: i64,
}

/// How late a stage was on `as_of`.
fn lateness(t: &Timescale<'_>, as_of: NaiveDate) -> (String, i64) {
    let plural = |n: i64| format!("{n} day{}", if n == 1 { "" } else { "s" });
    match t.done {
        Some(done) if done <= t.due => ("on time".into(), 0),
        Some(done) => {
            let late = (done - t.due).num_days();
            (format!("{} late", plural(late)), late)
        }
        None if as_of > t.due => {
            let late = (as_of - t.due).num_days();
            (format!("not done: {} overdue", plural(late)), late)
        }
        None => ("open".into(), 0),
    }
}

/// The version of the review's JSON schema (`schemas/review.schema.json`): raised when a field
/// changes meaning or goes.
pub const REVIEW_SCHEMA_VERSION: u32 = 1;

/// The review, ready to render.
#[derive(Debug, Serialize, PartialEq)]
pub struct Review {
    /// The version of `schemas/review.schema.json` the JSON follows.
    pub version: u32,
    /// The subject child's alias.
    pub subject: String,
    /// Months, oldest first.
    pub months: Vec<Month>,
    /// Entries per agency and month.
    pub contacts: Vec<Contacts>,
    /// The concerns raised on replay.
    pub findings: Vec<Finding>,
    /// Each statutory timescale and how late its stage was.
    pub timescales: Vec<TimescaleLine>,
}

/// One month of the chronology.
#[derive(Debug, Serialize, PartialEq)]
pub struct Month {
    /// `2007-03`.
    pub month: String,
    /// The entries, in time order (empty in a summary).
    pub entries: Vec<ReviewEntry>,
    /// How many entries the month holds.
    pub count: usize,
    /// What the record held this month that the rules flag (from the replay): each concern
    /// in the month it could first have been known, marked when no escalation followed.
    pub could_have_known: Vec<String>,
}

/// One entry, pseudonymised.
#[derive(Debug, Serialize, PartialEq)]
pub struct ReviewEntry {
    /// When: the day (and time), or the month when dates are narrowed.
    pub when: String,
    /// The agency.
    pub agency: String,
    /// What kind of entry.
    pub kind: String,
    /// What happened, rewritten through the aliases.
    pub what: String,
    /// Who was there, by alias and part.
    pub present: Vec<String>,
    /// Who recorded it.
    pub by: String,
}

/// Entries of one agency in one month.
#[derive(Debug, Serialize, PartialEq)]
pub struct Contacts {
    /// The agency.
    pub agency: String,
    /// `2007-03`.
    pub month: String,
    /// How many.
    pub entries: usize,
}

/// A concern the rules raise on replay, and whether an escalation followed it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Finding {
    /// The day it could first have been known (narrowed to the month when dates are).
    pub knowable: String,
    /// What it means, rewritten through the aliases.
    pub concern: String,
    /// The first escalation after it.
    pub escalation: Option<String>,
    /// No escalation followed within the rule's window.
    pub missed_opportunity: bool,
    /// The window, in days.
    pub window_days: u32,
}

/// Builds the review of `sources` (in time order).
pub fn build(
    pseudonyms: &Pseudonyms,
    sources: &[Source<'_>],
    concerns: &[Concern<'_>],
    timescales: &[Timescale<'_>],
    as_of: NaiveDate,
    level: Level,
    narrow_dates: bool,
) -> Review {
    let mut months: BTreeMap<String, Month> = BTreeMap::new();
    let mut contacts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for source in sources {
        let entry = source.entry;
        let month = entry.occurred_at.date().format("%Y-%m").to_string();
        let slot = months.entry(month.clone()).or_insert_with(|| Month {
            month: month.clone(),
            entries: Vec::new(),
            count: 0,
            could_have_known: Vec::new(),
        });
        slot.count += 1;
        *contacts
            .entry((source.agency.to_owned(), month.clone()))
            .or_default() += 1;
        if level == Level::Summary {
            continue;
        }
        let when = if narrow_dates {
            month.clone()
        } else if entry.occurred_at.precision() >= Precision::Minute {
            entry
                .occurred_at
                .start()
                .format("%Y-%m-%d %H:%M")
                .to_string()
        } else {
            entry.occurred_at.date().to_string()
        };
        let present = entry
            .persons
            .iter()
            .zip(&source.parties)
            .map(|(p, &party)| {
                format!(
                    "{} ({})",
                    pseudonyms.alias(party),
                    p.role.as_str().replace('_', " ")
                )
            })
            .collect();
        slot.entries.push(ReviewEntry {
            when,
            agency: source.agency.to_owned(),
            kind: entry.kind().label().to_owned(),
            what: pseudonyms.rewrite(&entry.summary),
            present,
            by: pseudonyms.alias(source.author).to_owned(),
        });
    }
    let day = |d: NaiveDate| {
        if narrow_dates {
            d.format("%Y-%m").to_string()
        } else {
            d.to_string()
        }
    };
    let findings: Vec<Finding> = concerns
        .iter()
        .map(|c| Finding {
            knowable: day(c.knowable),
            concern: pseudonyms.rewrite(c.sentence),
            escalation: c.escalation.map(|(d, what)| format!("{} ({what})", day(d))),
            missed_opportunity: c
                .escalation
                .is_none_or(|(d, _)| (d - c.knowable).num_days() > i64::from(c.window_days)),
            window_days: c.window_days,
        })
        .collect();
    for (c, f) in concerns.iter().zip(&findings) {
        let month = c.knowable.format("%Y-%m").to_string();
        let slot = months.entry(month.clone()).or_insert_with(|| Month {
            month,
            entries: Vec::new(),
            count: 0,
            could_have_known: Vec::new(),
        });
        slot.could_have_known.push(if f.missed_opportunity {
            format!("{} (missed opportunity)", f.concern)
        } else {
            f.concern.clone()
        });
    }
    Review {
        version: REVIEW_SCHEMA_VERSION,
        subject: pseudonyms.alias(0).to_owned(),
        months: months.into_values().collect(),
        contacts: contacts
            .into_iter()
            .map(|((agency, month), entries)| Contacts {
                agency,
                month,
                entries,
            })
            .collect(),
        findings,
        timescales: timescales
            .iter()
            .map(|t| {
                let (lateness, days_late) = lateness(t, as_of);
                TimescaleLine {
                    stage: t.name.to_owned(),
                    started: day(t.started),
                    due: day(t.due),
                    done: t.done.map(day),
                    lateness,
                    days_late,
                }
            })
            .collect(),
    }
}

/// Where a leak is, and of what kind: never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The month and the entry's place in it, or the finding's.
    pub place: String,
    /// What was found.
    pub kind: IdentifierKind,
}

/// Every identifier of the review's people still in it, by place: the export is refused if
/// there is any.
pub fn leaks(pseudonyms: &Pseudonyms, review: &Review) -> Vec<Leak> {
    let mut found = Vec::new();
    let mut check = |place: String, text: &str| {
        for kind in pseudonyms.leaks(text) {
            found.push(Leak {
                place: place.clone(),
                kind,
            });
        }
    };
    for month in &review.months {
        for (i, e) in month.entries.iter().enumerate() {
            let place = format!("{}, entry {} of {}", month.month, i + 1, month.count);
            check(place.clone(), &e.what);
            check(place.clone(), &e.by);
            check(place, &e.present.join("; "));
        }
    }
    for (i, f) in review.findings.iter().enumerate() {
        check(format!("finding {}", i + 1), &f.concern);
    }
    for c in &review.contacts {
        check(format!("contacts of {}", c.month), &c.agency);
    }
    found
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl Review {
    /// As Markdown: findings first, then the contacts, then the chronology by month.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# Practice review chronology: {}\n\nOFFICIAL-SENSITIVE. Pseudonymised: people are named by alias.\n\n",
            self.subject
        );
        out.push_str("## Findings\n\n");
        if self.findings.is_empty() {
            out.push_str("The rules raise no concern on this record.\n\n");
        }
        for f in &self.findings {
            out.push_str(&format!(
                "- {}{}: {} Escalation after: {} (due within {} days).\n",
                f.knowable,
                if f.missed_opportunity {
                    " (missed opportunity)"
                } else {
                    ""
                },
                f.concern,
                f.escalation.as_deref().unwrap_or("none"),
                f.window_days
            ));
        }
        out.push_str("\n## Statutory timescales\n\n| Stage | Started | Due | Done | How late |\n|---|---|---|---|---|\n");
        for t in &self.timescales {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&t.stage),
                t.started,
                t.due,
                t.done.as_deref().unwrap_or("not done"),
                t.lateness
            ));
        }
        out.push_str("\n## Contacts per agency and month\n\n");
        let (months, rows) = self.contacts_by_agency();
        out.push_str(&format!("| Agency | {} | All |\n", months.join(" | ")));
        out.push_str(&format!("|---|{}---|\n", "---|".repeat(months.len())));
        for (agency, counts) in &rows {
            let cells: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(agency),
                cells.join(" | "),
                counts.iter().sum::<usize>()
            ));
        }
        out.push_str("\n## Chronology\n");
        for m in &self.months {
            out.push_str(&format!("\n### {} ({} entries)\n", m.month, m.count));
            if !m.could_have_known.is_empty() {
                out.push_str("\nCould have been known this month:\n\n");
                for c in &m.could_have_known {
                    out.push_str(&format!("- {c}\n"));
                }
            }
            if m.entries.is_empty() {
                continue;
            }
            out.push_str(
                "\n| When | Agency | What | Summary | Present | By |\n|---|---|---|---|---|---|\n",
            );
            for e in &m.entries {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    e.when,
                    cell(&e.agency),
                    cell(&e.kind),
                    cell(&e.what),
                    cell(&e.present.join("; ")),
                    cell(&e.by)
                ));
            }
        }
        out
    }

    /// As a page of its own, with the contacts drawn as a bar per month.
    pub fn to_html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Practice review chronology: {0}</title>\
             <style>body{{font-family:Arial,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;width:100%}}\
             th,td{{border-bottom:1px solid #b1b4b6;padding:.4em;text-align:left;vertical-align:top}}.missed{{color:#d4351c;font-weight:bold}}\
             @page{{size:A4;margin:2cm 1.5cm;@top-center{{content:\"OFFICIAL-SENSITIVE\";font:bold 10pt Arial,sans-serif}}\
             @bottom-right{{content:\"Page \" counter(page) \" of \" counter(pages);font:9pt Arial,sans-serif}}}}\
             @media print{{body{{margin:0;max-width:none;font-size:10pt}}a{{color:inherit;text-decoration:none}}\
             h2,h3{{break-after:avoid}}tr,li{{break-inside:avoid}}thead{{display:table-header-group}}\
             body>h2{{break-before:page}}}}</style></head><body>\
             <p><strong>OFFICIAL-SENSITIVE.</strong> Pseudonymised: people are named by alias.</p>\
             <h1>Practice review chronology: {0}</h1>",
            escape_html(&self.subject)
        );
        // A contents list: the sections, and each month of the chronology.
        out.push_str("<nav aria-labelledby=\"contents\"><h2 id=\"contents\">Contents</h2><ol>\
             <li><a href=\"#findings\">Findings</a></li><li><a href=\"#timescales\">Statutory timescales</a></li>\
             <li><a href=\"#contacts\">Contacts per month</a></li><li><a href=\"#chronology\">Chronology</a><ol>");
        for m in &self.months {
            out.push_str(&format!(
                "<li><a href=\"#m{0}\">{0}</a> ({1} entries)</li>",
                m.month, m.count
            ));
        }
        out.push_str("</ol></li></ol></nav>");
        out.push_str("<h2 id=\"findings\">Findings</h2>");
        if self.findings.is_empty() {
            out.push_str("<p>The rules raise no concern on this record.</p>");
        } else {
            out.push_str("<ul>");
            for f in &self.findings {
                out.push_str(&format!(
                    "<li>{}{}: {} Escalation after: {} (due within {} days).</li>",
                    escape_html(&f.knowable),
                    if f.missed_opportunity {
                        " <span class=\"missed\">missed opportunity</span>"
                    } else {
                        ""
                    },
                    escape_html(&f.concern),
                    escape_html(f.escalation.as_deref().unwrap_or("none")),
                    f.window_days
                ));
            }
            out.push_str("</ul>");
        }
        out.push_str("<h2 id=\"timescales\">Statutory timescales</h2><table><thead><tr><th scope=\"col\">Stage</th><th scope=\"col\">Started</th><th scope=\"col\">Due</th><th scope=\"col\">Done</th><th scope=\"col\">How late</th></tr></thead><tbody>");
        for t in &self.timescales {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
                escape_html(&t.stage),
                t.started,
                t.due,
                t.done.as_deref().unwrap_or("not done"),
                if t.days_late > 0 {
                    " class=\"missed\""
                } else {
                    ""
                },
                t.lateness
            ));
        }
        out.push_str("</tbody></table><h2 id=\"contacts\">Contacts per month</h2>");
        out.push_str(&self.contacts_chart());
        let (months, rows) = self.contacts_by_agency();
        out.push_str("<table><caption>Entries per agency and month</caption><thead><tr><th scope=\"col\">Agency</th>");
        for m in &months {
            out.push_str(&format!("<th scope=\"col\">{m}</th>"));
        }
        out.push_str("<th scope=\"col\">All</th></tr></thead><tbody>");
        for (agency, counts) in &rows {
            out.push_str(&format!(
                "<tr><th scope=\"row\">{}</th>",
                escape_html(agency)
            ));
            for n in counts {
                out.push_str(&format!("<td>{n}</td>"));
            }
            out.push_str(&format!("<td>{}</td></tr>", counts.iter().sum::<usize>()));
        }
        out.push_str("</tbody></table><h2 id=\"chronology\">Chronology</h2>");
        for m in &self.months {
            out.push_str(&format!(
                "<h3 id=\"m{0}\">{0} ({1} entries)</h3>",
                m.month, m.count
            ));
            if !m.could_have_known.is_empty() {
                out.push_str("<p>Could have been known this month:</p><ul>");
                for c in &m.could_have_known {
                    out.push_str(&format!("<li>{}</li>", escape_html(c)));
                }
                out.push_str("</ul>");
            }
            if m.entries.is_empty() {
                continue;
            }
            out.push_str("<table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Agency</th><th scope=\"col\">What</th><th scope=\"col\">Summary</th><th scope=\"col\">Present</th><th scope=\"col\">By</th></tr></thead><tbody>");
            for e in &m.entries {
                out.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape_html(&e.when),
                    escape_html(&e.agency),
                    escape_html(&e.kind),
                    escape_html(&e.what),
                    escape_html(&e.present.join("; ")),
                    escape_html(&e.by)
                ));
            }
            out.push_str("</tbody></table>");
        }
        out.push_str("</body></html>\n");
        out
    }

    /// The months, and per agency its entries in each.
    fn contacts_by_agency(&self) -> (Vec<String>, Vec<(String, Vec<usize>)>) {
        let months: Vec<String> = self.months.iter().map(|m| m.month.clone()).collect();
        let mut rows: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for c in &self.contacts {
            let row = rows
                .entry(c.agency.as_str())
                .or_insert_with(|| vec![0; months.len()]);
            if let Some(i) = months.iter().position(|m| *m == c.month) {
                row[i] += c.entries;
            }
        }
        (
            months,
            rows.into_iter().map(|(a, r)| (a.to_owned(), r)).collect(),
        )
    }

    /// Entries per month as an SVG bar chart, with a text alternative.
    fn contacts_chart(&self) -> String {
        let (bar, gap, height) = (18, 6, 120);
        let max = self
            .months
            .iter()
            .map(|m| m.count)
            .max()
            .unwrap_or(1)
            .max(1);
        let width = self.months.len() * (bar + gap) + gap;
        let mut svg = format!(
            "<svg role=\"img\" aria-label=\"Entries per month, {} months\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
            self.months.len(),
            height + 40,
            height + 40
        );
        for (i, m) in self.months.iter().enumerate() {
            let h = m.count * height / max;
            let x = gap + i * (bar + gap);
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"#1d70b8\"><title>{}: {} entries</title></rect>\
                 <text x=\"{}\" y=\"{}\" font-size=\"9\" transform=\"rotate(60 {} {})\">{}</text>",
                height - h,
                m.month,
                m.count,
                x,
                height + 10,
                x,
                height + 10,
                m.month
            ));
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::{Identifiers, Part, Party, Scheme};
    use crate::{PersonName, Sex};

    fn entry(json: serde_json::Value) -> Entry {
        serde_json::from_value(json).unwrap()
    }

    fn visit(day: &str, summary: &str) -> Entry {
        entry(serde_json::json!({
            "agency": "north-childrens-services",
            "source": {"system": "sys", "id": format!("v-{day}")},
            "author": {"name": "Priya Shah", "role": "Social Worker"},
            "occurred_at": day,
            "recorded_at": "2007-12-31T12:00:00Z",
            "persons": [
                {"role": "subject_child", "record": {"local_id": "C1",
                    "name": {"given": ["Joshua"], "family": "Reeve"}, "date_of_birth": "2006-03-01"}},
                {"role": "parent", "record": {"local_id": "M1",
                    "name": {"given": ["Kerry"], "family": "Reeve"}}}
            ],
            "summary": summary,
            "details": {"kind": "case_note"}
        }))
    }

    fn parties() -> Vec<Party> {
        let name = |g: &str, f: &str| PersonName {
            given: vec![g.into()],
            family: Some(f.into()),
        };
        vec![
            Party {
                part: Some(Part::Subject),
                names: vec![name("Joshua", "Reeve")],
                identifiers: Identifiers {
                    dates_of_birth: vec![NaiveDate::from_ymd_opt(2006, 3, 1).unwrap()],
                    ..Identifiers::default()
                },
                ..Party::default()
            },
            Party {
                part: Some(Part::Adult(Some(Sex::Female))),
                names: vec![name("Kerry", "Reeve")],
                ..Party::default()
            },
            Party {
                part: Some(Part::Professional("Social Worker".into())),
                names: vec![name("Priya", "Shah")],
                ..Party::default()
            },
        ]
    }

    #[test]
    fn entries_are_grouped_by_month_pseudonymised_and_counted() {
        let parties = parties();
        let p = Pseudonyms::new(&Scheme::default(), &parties);
        let entries = [
            visit("2007-03-02", "Kerry said Joshua fell."),
            visit(
                "2007-03-20",
                "Joshua seen; Priya Shah spoke to Kerry Reeve.",
            ),
            visit("2007-05-01", "No answer."),
        ];
        let sources: Vec<Source<'_>> = entries
            .iter()
            .map(|e| Source {
                entry: e,
                parties: vec![0, 1],
                author: 2,
                agency: "Northbury Children's Services",
            })
            .collect();
        let concern = [Concern {
            knowable: NaiveDate::from_ymd_opt(2007, 3, 20).unwrap(),
            sentence: "Joshua has two injuries in a month.",
            escalation: None,
            window_days: 28,
        }];
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let timescales = [
            Timescale {
                name: "Strategy discussion",
                started: d(2007, 3, 2),
                due: d(2007, 3, 7),
                done: Some(d(2007, 3, 20)),
            },
            Timescale {
                name: "Assessment",
                started: d(2007, 3, 2),
                due: d(2007, 4, 27),
                done: None,
            },
            Timescale {
                name: "Visit",
                started: d(2007, 3, 2),
                due: d(2007, 3, 9),
                done: Some(d(2007, 3, 9)),
            },
        ];
        let review = build(
            &p,
            &sources,
            &concern,
            &timescales,
            d(2007, 5, 7),
            Level::Full,
            false,
        );
        let late: Vec<&str> = review
            .timescales
            .iter()
            .map(|t| t.lateness.as_str())
            .collect();
        assert_eq!(
            late,
            ["13 days late", "not done: 10 days overdue", "on time"]
        );
        assert_eq!(review.subject, "Child A");
        assert_eq!(review.months.len(), 2);
        assert_eq!(review.months[0].count, 2);
        assert_eq!(review.months[0].entries[0].what, "Ms A said Child A fell.");
        assert_eq!(
            review.months[0].entries[1].what,
            "Child A seen; Social Worker 1 spoke to Ms A."
        );
        assert_eq!(
            review.months[0].entries[0].present,
            ["Child A (subject child)", "Ms A (parent)"]
        );
        assert_eq!(review.months[0].entries[0].by, "Social Worker 1");
        assert_eq!(review.contacts.len(), 2);
        assert!(review.findings[0].missed_opportunity);
        assert_eq!(
            review.months[0].could_have_known,
            ["Child A has two injuries in a month. (missed opportunity)"]
        );
        assert!(review.months[1].could_have_known.is_empty());
        assert_eq!(
            review.findings[0].concern,
            "Child A has two injuries in a month."
        );
        assert!(leaks(&p, &review).is_empty());
        for rendered in [review.to_markdown(), review.to_html()] {
            for name in ["Joshua", "Kerry", "Reeve", "Priya", "Shah"] {
                assert!(!rendered.contains(name), "{name} in {rendered}");
            }
        }
        assert!(review.to_html().contains("<svg role=\"img\""));
        // Each concern is answered within its rule's window: a strategy discussion ten days
        // after a sentinel injury is late (two days), after a pattern of contacts in time.
        let answered = |window_days| Concern {
            knowable: d(2007, 3, 20),
            sentence: "A concern.",
            escalation: Some((d(2007, 3, 30), "strategy discussion")),
            window_days,
        };
        let windows = build(
            &p,
            &sources,
            &[answered(2), answered(28)],
            &[],
            d(2007, 5, 7),
            Level::Summary,
            false,
        );
        let missed: Vec<(bool, u32)> = windows
            .findings
            .iter()
            .map(|f| (f.missed_opportunity, f.window_days))
            .collect();
        assert_eq!(missed, [(true, 2), (false, 28)]);
        // It prints as a review is filed: A4, the marking on every page, numbered pages, and a
        // contents list leading to each section and month.
        let html = review.to_html();
        assert!(html.contains("size:A4") && html.contains("counter(page)"));
        assert!(html.contains("@top-center{content:\"OFFICIAL-SENSITIVE\""));
        for anchor in ["findings", "timescales", "contacts", "chronology"] {
            assert!(html.contains(&format!("href=\"#{anchor}\"")), "{anchor}");
            assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        }
        for m in &review.months {
            assert!(html.contains(&format!("href=\"#m{}\"", m.month)));
            assert!(html.contains(&format!("id=\"m{}\"", m.month)));
        }
        let markdown = review.to_markdown();
        assert!(
            markdown.contains("| Northbury Children's Services | 2 | 1 | 3 |"),
            "{markdown}"
        );

        // Narrowed dates and a summary keep the pattern, not the narrative.
        let summary = build(
            &p,
            &sources,
            &concern,
            &[],
            d(2007, 5, 7),
            Level::Summary,
            true,
        );
        assert!(summary.months.iter().all(|m| m.entries.is_empty()));
        assert_eq!(summary.months[0].count, 2);
        assert_eq!(summary.findings[0].knowable, "2007-03");
    }

    #[test]
    fn a_planted_identifier_is_a_leak_named_by_place_and_kind() {
        let parties = parties();
        let p = Pseudonyms::new(&Scheme::default(), &parties);
        // A name the record does not hold as a name cannot be replaced, but a date of birth
        // typed in a note is an identifier wherever it is.
        let e = visit("2007-03-02", "Child born 01-03-2006 per mother.");
        let mut review = build(
            &p,
            &[Source {
                entry: &e,
                parties: vec![0, 1],
                author: 2,
                agency: "Northbury Children's Services",
            }],
            &[],
            &[],
            NaiveDate::from_ymd_opt(2007, 5, 7).unwrap(),
            Level::Full,
            false,
        );
        assert!(leaks(&p, &review).is_empty(), "removed by the rewrite");
        review.months[0].entries[0].what = "Seen with Kerry, born 01-03-2006.".into();
        let found = leaks(&p, &review);
        assert_eq!(
            found,
            [
                Leak {
                    place: "2007-03, entry 1 of 1".into(),
                    kind: IdentifierKind::Name
                },
                Leak {
                    place: "2007-03, entry 1 of 1".into(),
                    kind: IdentifierKind::DateOfBirth
                },
            ]
        );
    }
}
