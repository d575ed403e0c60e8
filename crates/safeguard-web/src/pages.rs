//! HTML pages: person search and a child's record, on GOV.UK Frontend (see [`crate::ui`]).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{Markup, html};
use safeguard_core::{Entry, EntryKind, OccurredAt, PartialDate, Person, PersonId, Precision};
use safeguard_store::{ChronologyEntry, ChronologyPage};

use crate::auth::Caller;
use crate::overview::{self, Overview};
use crate::persons::{ChronologyParams, SearchParams, load_person, parse_person_id, search};
use crate::ui::{Column, TableRow, error_summary, layout, table};
use crate::{AppState, Error, Params};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(search_page))
        .route("/persons/{id}", get(person_page))
}

async fn search_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(params): Params<SearchParams>,
) -> Result<Response, Error> {
    // Those whose role does not search start on their own page.
    let roles = caller
        .session()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    if !roles.iter().any(|r| r.searches()) {
        return Ok(axum::response::Redirect::to(crate::landing::landing(&roles)).into_response());
    }
    let q = safeguard_core::text::visible(&params.q.clone().unwrap_or_default());
    let persons = search(&state, &caller, q.clone()).await?;
    // Recording about a child is never refused for want of involvement: offer it.
    let principal = caller.principal();
    let records = safeguard_core::access::may_write_entry(&principal, principal.agency());
    Ok(layout(
        "Find a person",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Find a person" }
            form method="get" action="/" role="search" {
                div class="govuk-form-group" {
                    label class="govuk-label govuk-label--s" for="q" { "Name, date of birth, NHS number or postcode" }
                    div class="govuk-hint" id="q-hint" { "For example, Joshua Reeve, 14/6/2006, 943 476 5919 or N17 6" }
                    input class="govuk-input govuk-!-width-two-thirds" id="q" name="q" type="search" aria-describedby="q-hint" value=(q) spellcheck="false";
                }
                button class="govuk-button" type="submit" data-module="govuk-button" { "Search" }
            }
            @if !q.trim().is_empty() {
                h2 class="govuk-heading-m" { (persons.len()) " " (if persons.len() == 1 { "person" } else { "people" }) " found" }
                @if persons.is_empty() {
                    p class="govuk-body" { "Check the spelling, or search by date of birth, NHS number or postcode." }
                } @else {
                    (table("People found", true, &[Column::text("Name"), Column::text("Date of birth"), Column::text("Postcode"), Column::numeric("Records")],
                        persons.iter().map(|hit| TableRow::new(match &hit.person {
                            Some(p) => vec![
                                html! { a class="govuk-link" href={ "/persons/" (hit.id) } { (hit.name) } },
                                html! { (first(p, |r| r.record.date_of_birth.map(|d| date_of_birth(Some(d))))) },
                                html! { (first(p, |r| r.record.current_postcode().map(|c| c.to_string()))) },
                                html! { (p.records.len()) },
                            ],
                            None => vec![
                                html! {
                                    a class="govuk-link" href={ "/persons/" (hit.id) } { (hit.name) }
                                    @if records {
                                        br;
                                        a class="govuk-link govuk-body-s" href={ "/persons/" (hit.id) "/record" } { "Record an entry" span class="govuk-visually-hidden" { " about " (hit.name) } }
                                    }
                                },
                                html! { (hit.born.as_deref().map(month_of_birth).unwrap_or_else(|| "Not recorded".to_owned())) },
                                html! { span class="govuk-hint" { "Shown when you may read the record" } },
                                html! { span class="govuk-hint" { "Not shown" } },
                            ],
                        }))))
                }
            }
        },
    )
    .into_response())
}

fn first(person: &Person, f: impl Fn(&safeguard_core::LinkedRecord) -> Option<String>) -> String {
    person
        .records
        .iter()
        .find_map(f)
        .unwrap_or_else(|| "Not recorded".to_owned())
}

pub(crate) fn severity(s: safeguard_core::rules::Severity) -> &'static str {
    match s {
        safeguard_core::rules::Severity::High => "high",
        safeguard_core::rules::Severity::Medium => "medium",
        safeguard_core::rules::Severity::Low => "low",
    }
}

/// The GOV.UK tag colour of a severity.
pub(crate) fn severity_tag(s: safeguard_core::rules::Severity) -> &'static str {
    match s {
        safeguard_core::rules::Severity::High => "govuk-tag--red",
        safeguard_core::rules::Severity::Medium => "govuk-tag--orange",
        safeguard_core::rules::Severity::Low => "govuk-tag--grey",
    }
}

/// A month of birth (`2006-06`) or a year as people write it: `June 2006`, `2006`.
fn month_of_birth(born: &str) -> String {
    chrono::NaiveDate::parse_from_str(&format!("{born}-01"), "%Y-%m-%d")
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_else(|_| born.to_owned())
}

/// A date of birth as people write it: `14 June 2006`, `June 2006`, `2006`.
pub(crate) fn date_of_birth(date: Option<PartialDate>) -> String {
    match date {
        None => "Not recorded".to_owned(),
        Some(PartialDate::Day(d)) => d.format("%-d %B %Y").to_string(),
        Some(p @ PartialDate::Month(..)) => p.earliest().format("%B %Y").to_string(),
        Some(PartialDate::Year(y)) => y.to_string(),
    }
}

fn when(at: &OccurredAt) -> String {
    let format = match at.precision() {
        Precision::Month => "%B %Y",
        Precision::Day => "%-d %b %Y",
        Precision::Minute | Precision::Second => "%-d %b %Y %H:%M",
    };
    at.start().format(format).to_string()
}

/// The filters' dates as the page's date inputs send them, day, month and year apart; they
/// stand for `from` and `to` (which links and the API give whole).
#[derive(serde::Deserialize, Default)]
struct FilterDates {
    #[serde(rename = "from-day", default)]
    from_day: String,
    #[serde(rename = "from-month", default)]
    from_month: String,
    #[serde(rename = "from-year", default)]
    from_year: String,
    #[serde(rename = "to-day", default)]
    to_day: String,
    #[serde(rename = "to-month", default)]
    to_month: String,
    #[serde(rename = "to-year", default)]
    to_year: String,
}

impl FilterDates {
    fn parts(&self, field: &str) -> [&str; 3] {
        match field {
            "from" => [&self.from_day, &self.from_month, &self.from_year],
            _ => [&self.to_day, &self.to_month, &self.to_year],
        }
    }

    /// Puts the dates typed into `params`, or names the one that is not a date.
    fn apply(&self, params: &mut ChronologyParams) -> Result<(), safeguard_core::FieldError> {
        for (field, what) in [("from", "From"), ("to", "To")] {
            if let Some(date) = crate::ui::date_from_parts(field, what, self.parts(field))? {
                let value = Some(date.format("%Y-%m-%d").to_string());
                match field {
                    "from" => params.from = value,
                    _ => params.to = value,
                }
            }
        }
        Ok(())
    }
}

/// The entry the reader has just recorded, to confirm on the page it led to.
#[derive(serde::Deserialize)]
struct JustRecorded {
    recorded: Option<String>,
    /// What the reader has just done about a concern.
    acted: Option<String>,
}

/// "Acknowledged" or "Assigned", naming the concern and, for an assignment, the worker.
fn acted_banner(overview: &Overview, acted: Option<&str>) -> Markup {
    let Some(done) = acted.and_then(|id| overview.flag_actions.iter().find(|a| a.id == id)) else {
        return html! {};
    };
    let sentence = overview
        .flags
        .iter()
        .find(|f| f.flag.key() == done.flag_key)
        .map(|f| f.flag.sentence.as_str())
        .unwrap_or("The concern");
    html! {
        div class="govuk-notification-banner govuk-notification-banner--success" role="alert" aria-labelledby="acted-title" data-module="govuk-notification-banner" id="acted" {
            div class="govuk-notification-banner__header" {
                h2 class="govuk-notification-banner__title" id="acted-title" { "Success" }
            }
            div class="govuk-notification-banner__content" {
                h3 class="govuk-notification-banner__heading" {
                    @match &done.assignee_name {
                        Some(to) => { "Concern assigned to " (to) },
                        None => "Concern acknowledged",
                    }
                }
                p class="govuk-body" { (sentence) }
            }
        }
    }
}

/// "Recorded", with where the entry is in the chronology and every concern it is evidence
/// for: the recorder sees at once what their entry changed. Nothing for an entry not in this
/// child's chronology.
fn recorded_banner(overview: &Overview, child: PersonId, recorded: Option<&str>) -> Markup {
    let Some(item) = recorded.and_then(|r| {
        overview
            .child
            .chronology
            .iter()
            .find(|i| i.id.to_string() == r)
    }) else {
        return html! {};
    };
    let day = item.day();
    let concerns: Vec<&safeguard_store::flags::StoredFlag> = overview
        .flags
        .iter()
        .filter(|f| f.flag.entries.contains(&item.id))
        .collect();
    html! {
        div class="govuk-notification-banner govuk-notification-banner--success" role="alert" aria-labelledby="recorded-title" data-module="govuk-notification-banner" id="recorded" {
            div class="govuk-notification-banner__header" {
                h2 class="govuk-notification-banner__title" id="recorded-title" { "Success" }
            }
            div class="govuk-notification-banner__content" {
                h3 class="govuk-notification-banner__heading" { (item.entry.kind().label()) " recorded" }
                p class="govuk-body" {
                    a class="govuk-notification-banner__link" href={ "/persons/" (child) "?from=" (day) "&to=" (day) "#entry-" (item.id) } { "See it in the chronology" }
                }
                @if concerns.is_empty() {
                    p class="govuk-body" { "It raised no new concern." }
                } @else {
                    p class="govuk-body" { "It is evidence for " (concerns.len()) " " (if concerns.len() == 1 { "concern" } else { "concerns" }) ":" }
                    ul class="govuk-list govuk-list--bullet" {
                        @for f in &concerns {
                            li { strong class={ "govuk-tag " (severity_tag(f.flag.severity)) } { (severity(f.flag.severity)) } " " (f.flag.sentence) }
                        }
                    }
                }
            }
        }
    }
}

async fn person_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Params(mut params): Params<ChronologyParams>,
    Query(just): Query<JustRecorded>,
    Query(typed): Query<FilterDates>,
) -> Result<Response, Error> {
    let id = parse_person_id(&id)?;
    let principal = caller.principal();
    let corrector = (caller.session().is_some()
        && safeguard_core::access::may_write_entry(&principal, principal.agency()))
    .then(|| principal.agency().clone());
    // A bad filter is shown on the page, by its field, with the whole record beneath it.
    let (query, filter_error) = match typed
        .apply(&mut params)
        .map_err(|e| Error::BadRequest(vec![e]))
        .and_then(|()| params.to_query())
    {
        Ok(query) => (query, None),
        Err(Error::BadRequest(fields)) => (
            safeguard_store::ChronologyQuery::default(),
            fields.into_iter().next(),
        ),
        Err(e) => return Err(e),
    };
    let (from, to) = (query.from, query.to);
    let person = load_person(&state, id).await?;
    let reader = caller.session().map(|s| s.user.id.clone());
    let may_act = caller.session().is_some()
        && safeguard_core::access::may_acknowledge_flag(&caller.principal());
    let today = chrono::Local::now().date_naive();
    let nhs_number = person
        .records
        .iter()
        .find_map(|r| r.record.nhs_number.as_ref().map(|n| n.to_string()));
    let (page, agencies, overview) = state
        .blocking(move |store| {
            if let Some(user) = reader {
                store.mark_alerts_read(&user, id)?;
            }
            // Gone since it was loaded: joined to another person meanwhile.
            let Some(child) = store.child(id)? else {
                return Ok(None);
            };
            let household_on = child
                .chronology
                .last()
                .map_or(today, |i| i.day().min(today));
            let agencies = store.agencies()?;
            let household = store.household(id, household_on, 90)?;
            let named: std::collections::HashSet<PersonId> = child
                .chronology
                .iter()
                .chain(&child.household)
                .flat_map(|i| i.person_ids.iter().copied())
                .collect();
            let mut other_names = HashMap::new();
            for other in household
                .members
                .iter()
                .map(|m| m.person)
                .chain(household.around.iter().map(|a| a.person))
                .filter(|p| !named.contains(p))
            {
                if let Some(p) = store.person(other)? {
                    other_names.insert(other, p.display_name());
                }
            }
            let overview = Overview {
                status: store.child_status(id)?,
                allocations: store.allocations(id)?,
                flags: store.flags(id)?,
                flag_actions: store.flag_actions(id)?,
                may_act,
                household,
                household_on,
                other_names,
                nhs_number,
                today,
                agencies: agencies
                    .iter()
                    .map(|a| (a.id.as_str().to_owned(), a.name.clone()))
                    .collect(),
                child,
            };
            Ok(Some((store.chronology(id, &query)?, agencies, overview)))
        })
        .await?
        .ok_or_else(|| Error::NotFound(format!("no person {id}")))?;
    let runs = state
        .rules
        .clock_runs(&overview.child, today)
        .map_err(|e| e.to_string());
    let unchecked = safeguard_core::rules::adults_not_checked(&overview.child);
    let agency_names = &overview.agencies;
    let name = person.display_name();
    let is_child = overview.is_child();
    let principal = caller.principal();
    let records = caller.session().is_some()
        && safeguard_core::access::may_write_entry(&principal, principal.agency());
    // A safeguarding lead of children's social care runs the child's practice review.
    let runs_review = is_child
        && caller.session().is_some_and(|s| {
            s.user
                .roles
                .contains(&safeguard_core::access::Role::SafeguardingLead)
                && agencies.iter().any(|a| {
                    a.id == s.user.agency && a.kind == safeguard_core::AgencyKind::SocialCare
                })
        });
    let title = if filter_error.is_some() {
        format!("Error: {name}")
    } else {
        name.clone()
    };
    let status = if filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = layout(
        &title,
        caller.session(),
        html! {
            @if let Some(e) = &filter_error {
                (error_summary(&[(e.field.clone(), format!("{} {}", filter_label(&e.field), e.reason))]))
            }
            (recorded_banner(&overview, id, just.recorded.as_deref()))
            (acted_banner(&overview, just.acted.as_deref()))
            span class="govuk-caption-l" { (if is_child { "Child" } else { "Person" }) }
            h1 class="govuk-heading-l app-wrap" { (name) }
            @if records {
                a class="govuk-button app-no-print" href={ "/persons/" (id) "/record" } role="button" draggable="false" data-module="govuk-button" { "Record an entry" }
            }
            p class="govuk-body app-no-print" {
                a class="govuk-link" href="#chronology" { "Chronology" } " · "
                a class="govuk-link" href="#timeline" { "Timeline" } " · "
                a class="govuk-link" href={ "/persons/" (id) "/access-log" } { "Who looked at this record" }
                @if runs_review {
                    " · " a class="govuk-link" href={ "/persons/" (id) "/practice-review" } { "Practice review" }
                }
            }
            (overview::summary(&overview))
            @if is_child {
                h2 class="govuk-heading-m" id="timescales" { "Timescales" }
                (overview::open_clocks(&runs, &state.rules))
            }
            h2 class="govuk-heading-m" id="concerns" { "Concerns" }
            (overview::concerns(&overview))
            h2 class="govuk-heading-m" id="household" { "Household" }
            (overview::household(&overview, &unchecked))
            h2 class="govuk-heading-m" id="timeline" { "Timeline" }
            (overview::timeline_section(&overview, id, from, to))
            h2 class="govuk-heading-m" { "Records held by each agency" }
            (table("Records held by each agency", true,
                &[Column::text("Agency"), Column::text("Name as recorded"), Column::text("Date of birth"), Column::text("NHS number"), Column::text("Address")],
                person.records.iter().map(|r| TableRow::new(vec![
                    html! { (agency_names.get(r.agency.as_str()).map_or(r.agency.as_str(), String::as_str)) },
                    html! { (r.record.name.display()) },
                    html! { (date_of_birth(r.record.date_of_birth)) },
                    html! { span class="app-nowrap" { (r.record.nhs_number.as_ref().map_or("Not recorded".to_owned(), |n| n.to_string())) } },
                    html! { (r.record.addresses.first().map_or("Not recorded".to_owned(), |a| a.display())) },
                ]))))
            h2 class="govuk-heading-m" id="chronology" { "Chronology" }
            (filters(&params, &typed, &agencies, filter_error.as_ref()))
            (chronology_table(&page, agency_names, id, corrector.as_ref())?)
            @if let Some(next) = page.next {
                nav class="govuk-pagination" aria-label="Chronology pages" {
                    div class="govuk-pagination__next" {
                        a class="govuk-link govuk-pagination__link" href={ "/persons/" (id) "?" (next_query(&params, &next.to_string())) "#chronology" } rel="next" {
                            span class="govuk-pagination__link-title" { "Next" span class="govuk-visually-hidden" { " page of the chronology" } }
                        }
                    }
                }
            }
        },
    );
    Ok((status, page).into_response())
}

/// The filter a query parameter belongs to, as the form labels it.
fn filter_label(field: &str) -> &'static str {
    match field {
        "agency" => "Agency:",
        "kind" => "Kind:",
        "from" => "From:",
        "to" => "To:",
        _ => "Filter:",
    }
}

fn filters(
    params: &ChronologyParams,
    typed: &FilterDates,
    agencies: &[safeguard_core::Agency],
    error: Option<&safeguard_core::FieldError>,
) -> Markup {
    let selected = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let group = |field: &str| {
        if error.is_some_and(|e| e.field == field) {
            "govuk-form-group govuk-form-group--error"
        } else {
            "govuk-form-group"
        }
    };
    let message = |field: &str| {
        html! {
            @if let Some(e) = error.filter(|e| e.field == field) {
                (crate::ui::error_message(field, &e.reason))
            }
        }
    };
    html! {
        form method="get" class="app-filters app-no-print" action="#chronology" {
            div class=(group("agency")) {
                label class="govuk-label" for="agency" { "Agency" }
                (message("agency"))
                select class="govuk-select" id="agency" name="agency" {
                    option value="" { "All agencies" }
                    @for a in agencies {
                        option value=(a.id) selected[selected(&params.agency, a.id.as_str())] { (a.name) }
                    }
                }
            }
            div class=(group("kind")) {
                label class="govuk-label" for="kind" { "Kind" }
                (message("kind"))
                select class="govuk-select" id="kind" name="kind" {
                    option value="" { "All kinds" }
                    @for k in EntryKind::ALL {
                        option value=(k.as_str()) selected[selected(&params.kind, k.as_str())] { (k.label()) }
                    }
                }
            }
            @for (field, what) in [("from", "From"), ("to", "To")] {
                @let shown = date_shown(typed.parts(field), if field == "from" { &params.from } else { &params.to });
                (crate::ui::date_input(
                    field,
                    [&format!("{field}-day"), &format!("{field}-month"), &format!("{field}-year")],
                    [&shown[0], &shown[1], &shown[2]],
                    html! { legend class="govuk-fieldset__legend" { (what) } },
                    "For example, 27 3 2007",
                    error.filter(|e| e.field == field).map(|e| e.reason.as_str()),
                ))
            }
            div class="govuk-form-group" {
                button class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" type="submit" data-module="govuk-button" { "Filter" }
            }
        }
    }
}

/// What a date input shows: what was typed, or else the day the filter holds.
fn date_shown(typed: [&str; 3], whole: &Option<String>) -> [String; 3] {
    if typed.iter().any(|p| !p.trim().is_empty()) {
        return typed.map(str::to_owned);
    }
    match whole
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    {
        Some(d) => {
            use chrono::Datelike;
            [
                d.day().to_string(),
                d.month().to_string(),
                d.year().to_string(),
            ]
        }
        None => Default::default(),
    }
}

fn next_query(params: &ChronologyParams, after: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![("after", after)];
    for (name, value) in [
        ("agency", &params.agency),
        ("kind", &params.kind),
        ("from", &params.from),
        ("to", &params.to),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            pairs.push((name, v));
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `corrector`: the caller's agency, when the caller records; its entries recorded on these
/// pages offer a correction.
fn chronology_table(
    page: &ChronologyPage,
    agency_names: &HashMap<String, String>,
    subject: PersonId,
    corrector: Option<&safeguard_core::AgencyId>,
) -> Result<Markup, Error> {
    let rows = page
        .entries
        .iter()
        .map(|e| {
            let entry = e.entry.decode()?;
            let correctable = e.superseded_by.is_none()
                && corrector == Some(&entry.agency)
                && entry.source.system == crate::recording::FORM_SYSTEM;
            Ok(chronology_row(
                e,
                &entry,
                agency_names,
                subject,
                correctable,
            ))
        })
        .collect::<Result<Vec<TableRow>, safeguard_store::StoreError>>()?;
    Ok(html! {
        @if page.entries.is_empty() {
            p class="govuk-body" { "No entries match." }
        } @else {
            (table("Every entry from every agency, oldest first", true,
                &[Column::text("When"), Column::text("Agency"), Column::text("What"), Column::text("Summary"), Column::text("People")],
                rows))
        }
    })
}

fn chronology_row(
    e: &ChronologyEntry,
    entry: &Entry,
    agency_names: &HashMap<String, String>,
    subject: PersonId,
    correctable: bool,
) -> TableRow {
    let agency = entry.agency.as_str();
    TableRow {
        id: Some(format!("entry-{}", e.id)),
        class: None,
        cells: vec![
            html! { span class="app-nowrap" { time datetime=(entry.occurred_at) { (when(&entry.occurred_at)) } } },
            html! { (agency_names.get(agency).map_or(agency, String::as_str)) },
            html! { (entry.kind().label()) },
            html! {
                (entry.summary)
                br;
                span class="govuk-hint" { (entry.author.role) ", " (entry.author.name) }
                @if correctable {
                    br;
                    a class="govuk-link govuk-body-s app-no-print" href={ "/persons/" (subject) "/record?kind=" (entry.kind().as_str()) "&corrects=" (e.id) } {
                        "Correct" span class="govuk-visually-hidden" { " this " (entry.kind().label().to_lowercase()) }
                    }
                }
            },
            html! {
                ul class="govuk-list" {
                    @for (p, person) in entry.persons.iter().zip(&e.person_ids) {
                        li {
                            @if *person == subject {
                                (p.record.name.display())
                            } @else {
                                a class="govuk-link" href={ "/persons/" (person) } { (p.record.name.display()) }
                            }
                            " (" (p.role.as_str().replace('_', " ")) ")"
                        }
                    }
                }
            },
        ],
    }
}
