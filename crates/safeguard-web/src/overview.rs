//! The top of a child's page: who the child is and where the case stands, the household and
//! the adults not yet checked, the concerns grouped by kind with their evidence named, and the
//! timeline. Everything here is read from the child's own record in one snapshot of the store.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};
use safeguard_core::clocks::{ClockRun, ClockStatus};
use safeguard_core::household::{EvidenceStrength, Household};
use safeguard_core::rules::{Child, ChronologyItem, RuleBook};
use safeguard_core::{EntryDetails, EntryId, ParticipantRole, PersonId};
use safeguard_store::flags::StoredFlag;
use safeguard_store::involvement::{Allocation, ChildStatus};

use crate::timeline::{self, Mark, MarkKind};
use crate::ui::{Column, TableRow, table};

/// What the overview shows, read in one go.
pub(crate) struct Overview {
    pub child: Child,
    pub status: ChildStatus,
    pub allocations: Vec<Allocation>,
    pub flags: Vec<StoredFlag>,
    pub household: Household,
    /// The day the household is shown for: today, or the record's latest entry if earlier.
    pub household_on: NaiveDate,
    pub today: NaiveDate,
    /// The agencies' names by id.
    pub agencies: HashMap<String, String>,
    /// The NHS number the person's records hold, if any.
    pub nhs_number: Option<String>,
    /// Names of household members whom the child's own entries do not name.
    pub other_names: HashMap<PersonId, String>,
    /// What professionals did about the concerns, oldest first.
    pub flag_actions: Vec<safeguard_store::flag_actions::FlagActionRecord>,
    /// Whether the reader may act on the concerns.
    pub may_act: bool,
}

impl Overview {
    /// Whether the person is a child on any entry (an adult's page has no plan or clocks).
    pub fn is_child(&self) -> bool {
        self.child.chronology.iter().any(|item| {
            item.entry
                .persons
                .iter()
                .zip(&item.person_ids)
                .any(|(p, id)| p.role == ParticipantRole::SubjectChild && *id == self.child.person)
        })
    }

    fn latest_entry(&self) -> Option<NaiveDate> {
        self.child.chronology.last().map(ChronologyItem::day)
    }

    fn first_entry(&self) -> Option<NaiveDate> {
        self.child.chronology.first().map(ChronologyItem::day)
    }

    fn agency_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.agencies.get(id).map_or(id, String::as_str)
    }

    /// The names people are recorded under in the child's entries (the latest wins), and
    /// those of household members found elsewhere.
    pub fn names(&self) -> HashMap<PersonId, String> {
        let mut names = self.other_names.clone();
        for item in self.child.chronology.iter().chain(&self.child.household) {
            for (p, id) in item.entry.persons.iter().zip(&item.person_ids) {
                names.insert(*id, p.record.name.display());
            }
        }
        names
    }

    fn entries(&self) -> HashMap<EntryId, &ChronologyItem> {
        self.child
            .chronology
            .iter()
            .chain(&self.child.household)
            .map(|i| (i.id, i))
            .collect()
    }
}

/// An age as people say it: `1 year 4 months`, `9 months`, `20 years`.
pub(crate) fn age(born: NaiveDate, on: NaiveDate) -> Option<String> {
    if on < born {
        return None;
    }
    let mut months = (on.year() - born.year()) * 12 + on.month() as i32 - born.month() as i32;
    if on.day() < born.day() {
        months -= 1;
    }
    let (years, months) = (months / 12, months % 12);
    let unit = |n: i32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    Some(match (years, months) {
        (0, m) => unit(m, "month", "months"),
        (y, 0) => unit(y, "year", "years"),
        (y, m) if y < 5 => format!(
            "{} {}",
            unit(y, "year", "years"),
            unit(m, "month", "months")
        ),
        (y, _) => unit(y, "year", "years"),
    })
}

pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn strength_tag(s: EvidenceStrength) -> Markup {
    let (class, text) = match s {
        EvidenceStrength::Claimed => ("govuk-tag--grey", "Claimed"),
        EvidenceStrength::Observed => ("govuk-tag--blue", "Observed"),
        EvidenceStrength::Verified => ("govuk-tag--green", "Verified"),
    };
    html! { strong class={ "govuk-tag " (class) } { (text) } }
}

fn category(c: safeguard_core::AbuseCategory) -> &'static str {
    use safeguard_core::AbuseCategory::*;
    match c {
        Neglect => "neglect",
        PhysicalAbuse => "physical abuse",
        SexualAbuse => "sexual abuse",
        EmotionalAbuse => "emotional abuse",
        Multiple => "multiple categories",
    }
}

/// Who the child is and where the case stands, as a summary list.
pub(crate) fn summary(o: &Overview) -> Markup {
    let born = o.child.date_of_birth;
    let age_now = born.and_then(|b| age(b.earliest(), o.today));
    let latest = o.latest_entry();
    let age_then = born
        .zip(latest)
        .filter(|(_, l)| *l < o.today - chrono::Duration::days(365))
        .and_then(|(b, l)| age(b.earliest(), l).map(|a| (a, l)));
    // The latest plan entry says whether a plan is in force, and in which category.
    let plan = o
        .child
        .chronology
        .iter()
        .rev()
        .find_map(|i| match &i.entry.details {
            EntryDetails::PlanStart(p) => Some(Some((p.category, i.day()))),
            EntryDetails::PlanEnd(_) => Some(None),
            _ => None,
        });
    let row = |key: &str, value: Markup| {
        html! {
            div class="govuk-summary-list__row" {
                dt class="govuk-summary-list__key" { (key) }
                dd class="govuk-summary-list__value" { (value) }
            }
        }
    };
    html! {
        dl class="govuk-summary-list" {
            (row("NHS number", html! {
                @match o.nhs_number.as_deref() {
                    Some(n) => span class="app-nowrap" { (n) },
                    None => "Not recorded",
                }
            }))
            (row("Age", html! {
                @match (&age_now, born) {
                    (Some(a), Some(b)) => {
                        (a) div class="govuk-hint govuk-!-margin-bottom-0" {
                            "Born " (crate::pages::date_of_birth(Some(b)))
                            @if let Some((then, on)) = &age_then { "; " (then) " at the latest entry, " (day_text(*on)) }
                        }
                    }
                    _ => "Date of birth not recorded",
                }
            }))
            @if o.is_child() {
                (row("Child protection plan", html! {
                    @match plan {
                        Some(Some((c, since))) => { strong class="govuk-tag govuk-tag--red" { "On a plan" } " " (category(c)) ", since " (day_text(since)) }
                        Some(None) => "Plan ended",
                        None => "Not on a plan",
                    }
                }))
            }
            (row("Lead professional", html! {
                @match &o.status.lead_professional {
                    Some(lead) => { (lead.name) ", " (lead.agency_name) }
                    None => "None allocated",
                }
            }))
            (row("Allocated workers", html! {
                @if o.allocations.is_empty() { "None" } @else {
                    ul class="govuk-list" {
                        @for a in &o.allocations {
                            li { (a.name) ", " (a.agency_name) @if a.lead { " (lead)" } }
                        }
                    }
                }
            }))
            (row("Agencies recording", html! {
                @if o.status.agencies.is_empty() { "None in the involvement period" } @else {
                    ul class="govuk-list" {
                        @for a in &o.status.agencies {
                            li { (o.agency_name(a.agency.as_str())) }
                        }
                    }
                }
            }))
            (row("Entries", html! {
                (o.child.chronology.len())
                @if let (Some(first), Some(last)) = (o.first_entry(), latest) {
                    " from " (day_text(first)) " to " (day_text(last))
                }
            }))
        }
    }
}

/// The statutory clocks still running, soonest due first.
pub(crate) fn open_clocks(runs: &Result<Vec<ClockRun>, String>, book: &RuleBook) -> Markup {
    let runs = match runs {
        Ok(runs) => runs,
        Err(why) => {
            return html! {
                div class="govuk-warning-text" {
                    span class="govuk-warning-text__icon" aria-hidden="true" { "!" }
                    strong class="govuk-warning-text__text" {
                        span class="govuk-visually-hidden" { "Warning" }
                        "The clocks could not be worked out: " (why) ". An administrator can see this under Evaluation failures."
                    }
                }
            };
        }
    };
    let mut open: Vec<&ClockRun> = runs.iter().filter(|r| r.stopped.is_none()).collect();
    open.sort_by_key(|r| r.due);
    html! {
        @if open.is_empty() {
            p class="govuk-body" { "No statutory timescale is running." }
        } @else {
            (table("Timescales still running, soonest due first", true,
                &[Column::text("Timescale"), Column::text("Started"), Column::text("Due"), Column::text("Status")],
                open.iter().map(|r| TableRow::new(vec![
                    html! { (book.clock_name(&r.clock)) },
                    html! { a class="govuk-link" href={ "#entry-" (r.started_by) } { (day_text(r.started)) } },
                    html! { span class="app-nowrap" { (day_text(r.due)) } },
                    html! {
                        @match r.status {
                            ClockStatus::Overdue => strong class="govuk-tag govuk-tag--red" { "Overdue" },
                            ClockStatus::DueSoon => strong class="govuk-tag govuk-tag--orange" { "Due soon" },
                            _ => strong class="govuk-tag govuk-tag--grey" { "Running" },
                        }
                    },
                ]))))
        }
    }
}

/// Who lives with the child and who was seen with them, each with how it is known; the
/// adults whose identity nobody has checked.
pub(crate) fn household(o: &Overview, unchecked: &[(PersonId, EntryId)]) -> Markup {
    let names = o.names();
    let name = |id: &PersonId| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "Unnamed".to_owned())
    };
    let person_link =
        |id: &PersonId| html! { a class="govuk-link" href={ "/persons/" (id) } { (name(id)) } };
    let unchecked_ids: Vec<PersonId> = unchecked.iter().map(|(p, _)| *p).collect();
    let not_checked = |id: &PersonId| {
        html! {
            @if unchecked_ids.contains(id) {
                br; strong class="govuk-tag govuk-tag--yellow govuk-!-margin-top-1" { "Identity not checked" }
            }
        }
    };
    let h = &o.household;
    let entries = o.entries();
    html! {
        p class="govuk-body" {
            "On " (day_text(o.household_on))
            @if o.household_on < o.today { ", the day of the latest entry" }
            ". " strong { "Claimed" } ": someone said so; " strong { "observed" } ": a professional saw it; "
            strong { "verified" } ": checked against an authoritative source."
        }
        @if h.addresses.is_empty() {
            p class="govuk-body" { "No address is recorded for the child on this day." }
        } @else {
            @for a in &h.addresses {
                p class="govuk-body" { "Lives at " strong { (a.address.display()) } " " (strength_tag(a.strength)) }
            }
        }
        @if !h.members.is_empty() {
            (table("Living with the child", false,
                &[Column::text("Name"), Column::text("To the child"), Column::text("Lives there")],
                h.members.iter().map(|m| TableRow::new(vec![
                    html! { (person_link(&m.person)) (not_checked(&m.person)) },
                    html! {
                        @if m.relationships_to_subject.is_empty() { "Not stated" } @else {
                            (m.relationships_to_subject.iter().map(|r| r.as_str().replace('_', " ")).collect::<Vec<_>>().join(", "))
                        }
                    },
                    strength_tag(m.strength),
                ]))))
        }
        @let visitors: Vec<_> = h.around.iter().filter(|a| !a.lives_here).collect();
        @if !visitors.is_empty() {
            (table("Seen with the child in the 90 days before, not living there", false,
                &[Column::text("Name"), Column::text("Seen as"), Column::text("Seen"), Column::text("How known")],
                visitors.iter().map(|a| TableRow::new(vec![
                    html! { (person_link(&a.person)) (not_checked(&a.person)) },
                    html! { (a.roles.iter().map(|r| r.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")) },
                    html! { span class="app-nowrap" { (day_text(a.first_seen)) } @if a.last_seen != a.first_seen { " to " span class="app-nowrap" { (day_text(a.last_seen)) } } },
                    strength_tag(a.strength),
                ]))))
        }
        @if !unchecked.is_empty() {
            div class="govuk-inset-text" {
                h3 class="govuk-heading-s" { "Adults whose identity nobody has checked" }
                ul class="govuk-list" {
                    @for (person, first) in unchecked {
                        li {
                            (person_link(person)) ", first named "
                            @match entries.get(first) {
                                Some(item) => a class="govuk-link" href={ "#entry-" (first) } { (day_text(item.day())) " by " (o.agency_name(item.entry.agency.as_str())) },
                                None => "in an entry",
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The concerns, one group per rule, each with its evidence named by date, kind and agency.
pub(crate) fn concerns(o: &Overview) -> Markup {
    let entries = o.entries();
    let mut groups: BTreeMap<
        (std::cmp::Reverse<safeguard_core::rules::Severity>, &str),
        Vec<&StoredFlag>,
    > = BTreeMap::new();
    for f in &o.flags {
        groups
            .entry((std::cmp::Reverse(f.flag.severity), f.flag.rule.as_str()))
            .or_default()
            .push(f);
    }
    html! {
        @if groups.is_empty() {
            p class="govuk-body" { "No rule has raised a concern on this record." }
        }
        @for ((severity, _), flags) in &groups {
            @let first = flags[0];
            div class={ "app-flag app-flag--" (crate::pages::severity(severity.0)) } {
                h3 class="govuk-heading-s govuk-!-margin-bottom-2" {
                    strong class={ "govuk-tag " (crate::pages::severity_tag(severity.0)) } { (crate::pages::severity(severity.0)) }
                    " " (first.flag.sentence)
                    @if flags.len() > 1 { " (" (flags.len()) " times)" }
                }
                @for f in flags {
                    @let key = f.flag.key();
                    @let done: Vec<&safeguard_store::flag_actions::FlagActionRecord> = o.flag_actions.iter().filter(|a| a.flag_key == key).collect();
                    p class="govuk-body-s govuk-!-margin-bottom-1" id=(crate::concerns::anchor(&key)) {
                        @if flags.len() > 1 && f.flag.sentence != first.flag.sentence { (f.flag.sentence) " " }
                        "Could be known from " (day_text(f.flag.first_knowable)) ". Evidence: "
                    }
                    ul class="govuk-list govuk-list--bullet govuk-body-s" {
                        @for e in &f.flag.entries {
                            li {
                                @match entries.get(e) {
                                    Some(item) => a class="govuk-link" href={ "#entry-" (e) } {
                                        (item.entry.kind().label()) ", " (day_text(item.day())) ", " (o.agency_name(item.entry.agency.as_str()))
                                    },
                                    None => "an entry not in this record",
                                }
                            }
                        }
                    }
                    (crate::concerns::history(&done))
                    @if done.last().is_some_and(|a| a.at < f.updated_at) {
                        p class="govuk-body-s govuk-!-margin-bottom-1" { strong { "New evidence since it was last acted on." } }
                    }
                    @if o.may_act {
                        p class="govuk-body-s app-no-print" {
                            a class="govuk-link" href=(crate::concerns::href(o.child.person, &key)) {
                                (if done.is_empty() { "Acknowledge or assign" } else { "Act on it again" })
                                span class="govuk-visually-hidden" { ": " (f.flag.sentence) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The marks of the timeline: every entry, with injuries and the child not seen apart, and
/// each concern on the day it could first be known.
pub(crate) fn marks(o: &Overview) -> Vec<Mark> {
    let mut marks: Vec<Mark> = o
        .child
        .chronology
        .iter()
        .map(|item| {
            let kind = match &item.entry.details {
                EntryDetails::InjuryObserved(_) => MarkKind::Injury,
                EntryDetails::HomeVisit(v) if !v.child_seen => MarkKind::NotSeen,
                EntryDetails::WasNotBrought(_) | EntryDetails::FailedContactAttempt(_) => {
                    MarkKind::NotSeen
                }
                _ => MarkKind::Entry,
            };
            let agency = o.agency_name(item.entry.agency.as_str()).to_owned();
            Mark {
                date: item.day(),
                label: format!(
                    "{}: {}, {}",
                    day_text(item.day()),
                    item.entry.kind().label(),
                    agency
                ),
                lane: agency,
                kind,
            }
        })
        .collect();
    for f in &o.flags {
        marks.push(Mark {
            date: f.flag.first_knowable,
            lane: timeline::CONCERNS_LANE.to_owned(),
            kind: MarkKind::Concern,
            label: format!("{}: {}", day_text(f.flag.first_knowable), f.flag.sentence),
        });
    }
    marks
}

/// The timeline over `from..=to` (the whole record by default), with links to zoom and a key.
pub(crate) fn timeline_section(
    o: &Overview,
    id: PersonId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Markup {
    let (Some(first), Some(last)) = (o.first_entry(), o.latest_entry()) else {
        return html! { p class="govuk-body" { "Nothing is recorded yet." } };
    };
    // The whole record by default: every entry, and every concern (a clock can fall due
    // after the last entry).
    let marks = marks(o);
    let from = from.unwrap_or_else(|| marks.iter().map(|m| m.date).min().unwrap_or(first));
    let to = to
        .unwrap_or_else(|| marks.iter().map(|m| m.date).max().unwrap_or(last))
        .max(from + chrono::Duration::days(1));
    let zoom = |label: &str, months: Option<u32>| {
        let href = match months {
            None => format!("/persons/{id}#timeline"),
            Some(m) => format!(
                "/persons/{id}?from={}&to={}#timeline",
                last.checked_sub_months(chrono::Months::new(m))
                    .unwrap_or(first),
                last
            ),
        };
        html! { li { a class="govuk-link" href=(href) { (label) } } }
    };
    let key = |class: &str, shape: Markup, text: &str| {
        html! {
            li class="app-timeline-key__item" {
                svg class={ "app-timeline-key__swatch app-timeline__mark--" (class) } viewBox="-9 -9 18 18" aria-hidden="true" focusable="false" { (shape) }
                (text)
            }
        }
    };
    html! {
        nav class="app-no-print" aria-label="Period shown" {
            ul class="govuk-list app-timeline-zoom" {
                li { "Show:" }
                (zoom("the whole record", None))
                (zoom("the last 12 months of the record", Some(12)))
                (zoom("the last 3 months of the record", Some(3)))
            }
        }
        div class="app-timeline-frame" {
            (timeline::draw(&marks, from, to, &format!("Timeline of the record from {} to {}", day_text(from), day_text(to))))
        }
        ul class="app-timeline-key" aria-label="Key to the timeline" {
            (key("entry", html! { circle r="5" {} }, "an entry"))
            (key("injury", html! { path d="M0 -8 L8 0 L0 8 L-8 0 Z" {} }, "an injury observed"))
            (key("not-seen", html! { circle r="6" {} }, "the child not seen (a visit, an appointment not attended, no answer)"))
            (key("concern", html! { path d="M0 -8 L8 7 L-8 7 Z" {} }, "a concern raised, on the day it could be known"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ages_read_as_people_say_them() {
        let born = day("2006-03-01");
        assert_eq!(age(born, day("2006-03-01")).as_deref(), Some("0 months"));
        assert_eq!(age(born, day("2006-12-15")).as_deref(), Some("9 months"));
        assert_eq!(
            age(born, day("2007-07-31")).as_deref(),
            Some("1 year 4 months")
        );
        assert_eq!(age(born, day("2008-03-01")).as_deref(), Some("2 years"));
        assert_eq!(
            age(born, day("2008-02-29")).as_deref(),
            Some("1 year 11 months"),
            "a day short"
        );
        assert_eq!(age(born, day("2026-12-02")).as_deref(), Some("20 years"));
        assert_eq!(age(born, day("2005-01-01")), None, "not yet born");
    }

    #[test]
    fn a_partial_date_of_birth_counts_from_its_earliest_day() {
        let born = safeguard_core::PartialDate::Month(2006, 6).earliest();
        assert_eq!(age(born, day("2007-06-01")).as_deref(), Some("1 year"));
    }
}
