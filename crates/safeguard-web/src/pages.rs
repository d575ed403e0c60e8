//! HTML pages: person search and a child's chronology. Plain, fast, accessible, in the manner
//! of the GOV.UK Design System; the full interface has its own issue.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{DOCTYPE, Markup, html};
use safeguard_core::{Entry, EntryKind, OccurredAt, PartialDate, Person, PersonId, Precision};
use safeguard_store::accounts::Session;
use safeguard_store::{ChronologyEntry, ChronologyPage};

use crate::auth::{CSRF_FIELD, Caller};
use crate::persons::{ChronologyParams, SearchParams, load_person, parse_person_id, search};
use crate::{AppState, Error, Params};

const STYLESHEET: &str = include_str!("assets/app.css");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(search_page))
        .route("/persons/{id}", get(person_page))
        .route("/assets/app.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

/// A page: the header (with the signed-in user and a sign-out button), then `body`.
pub(crate) fn layout(title: &str, session: Option<&Session>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " – Safeguard" }
                    link rel="stylesheet" href="/assets/app.css";
                }
                body {
                    a class="skip-link" href="#main" { "Skip to main content" }
                    header class="header" {
                        div class="width-container" {
                            a class="header-name" href="/" { "Safeguard" }
                            @if let Some(s) = session {
                                form class="header-user" method="post" action="/sign-out" {
                                    a class="header-link" href="/alerts" { "Alerts" }
                                    @if s.user.roles.iter().any(|r| r.resolves_identity()) {
                                        a class="header-link" href="/link-reviews" { "Possible matches" }
                                    }
                                    @if s.user.roles.iter().any(|r| matches!(r, safeguard_core::access::Role::Administrator | safeguard_core::access::Role::SafeguardingLead)) {
                                        a class="header-link" href="/evaluation-failures" { "Evaluation failures" }
                                    }
                                    span { (s.user.display_name) }
                                    input type="hidden" name=(CSRF_FIELD) value=(s.csrf_token);
                                    button class="link-button" type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    div class="width-container" {
                        main id="main" { (body) }
                    }
                }
            }
        }
        .into_string(),
    )
}

async fn search_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(params): Params<SearchParams>,
) -> Result<Html<String>, Error> {
    let q = safeguard_core::text::visible(&params.q.clone().unwrap_or_default());
    let persons = search(&state, &caller, q.clone()).await?;
    Ok(layout(
        "Find a person",
        caller.session(),
        html! {
            h1 { "Find a person" }
            form method="get" action="/" role="search" {
                label class="label" for="q" { "Name, date of birth, NHS number or postcode" }
                input class="input" id="q" name="q" type="search" value=(q);
                button class="button" type="submit" { "Search" }
            }
            @if !q.trim().is_empty() {
                h2 { (persons.len()) " " (if persons.len() == 1 { "person" } else { "persons" }) " found" }
                @if persons.is_empty() {
                    p { "Check the spelling, or search by date of birth, NHS number or postcode." }
                } @else {
                    table class="table" {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Date of birth" } th scope="col" { "Postcode" } th scope="col" { "Records" } } }
                        tbody {
                            @for hit in &persons {
                                tr {
                                    td { a href={ "/persons/" (hit.id) } { (hit.name) } }
                                    @if let Some(p) = &hit.person {
                                        td { (first(p, |r| r.record.date_of_birth.map(|d| date_of_birth(Some(d))))) }
                                        td { (first(p, |r| r.record.current_postcode().map(|c| c.to_string()))) }
                                        td { (p.records.len()) }
                                    } @else {
                                        td { (hit.born.as_deref().map(month_of_birth).unwrap_or_else(|| "Not recorded".to_owned())) }
                                        td colspan="2" { "Shown when you may read the record" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn first(person: &Person, f: impl Fn(&safeguard_core::LinkedRecord) -> Option<String>) -> String {
    person
        .records
        .iter()
        .find_map(f)
        .unwrap_or_else(|| "Not recorded".to_owned())
}

fn severity(s: safeguard_core::rules::Severity) -> &'static str {
    match s {
        safeguard_core::rules::Severity::High => "high",
        safeguard_core::rules::Severity::Medium => "medium",
        safeguard_core::rules::Severity::Low => "low",
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

async fn person_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Params(params): Params<ChronologyParams>,
) -> Result<Html<String>, Error> {
    let id = parse_person_id(&id)?;
    let query = params.to_query()?;
    let person = load_person(&state, id).await?;
    let reader = caller.session().map(|s| s.user.id.clone());
    let (page, agencies, flags) = state
        .blocking(move |store| {
            if let Some(user) = reader {
                store.mark_alerts_read(&user, id)?;
            }
            Ok((
                store.chronology(id, &query)?,
                store.agencies()?,
                store.flags(id)?,
            ))
        })
        .await?;
    let agency_names: HashMap<String, String> = agencies
        .iter()
        .map(|a| (a.id.as_str().to_owned(), a.name.clone()))
        .collect();
    let name = person.display_name();
    Ok(layout(
        &name,
        caller.session(),
        html! {
            span class="caption" { "Person" }
            h1 { (name) }
            p { a class="link" href={ "/persons/" (id) "/access-log" } { "Who looked at this record" } }
            h2 { "Records" }
            table class="table" {
                caption class="visually-hidden" { "Records held by each agency" }
                thead { tr { th scope="col" { "Agency" } th scope="col" { "Name as recorded" } th scope="col" { "Date of birth" } th scope="col" { "NHS number" } th scope="col" { "Address" } } }
                tbody {
                    @for r in &person.records {
                        tr {
                            td { (agency_names.get(r.agency.as_str()).map_or(r.agency.as_str(), String::as_str)) }
                            td { (r.record.name.display()) }
                            td { (date_of_birth(r.record.date_of_birth)) }
                            td { (r.record.nhs_number.as_ref().map_or("Not recorded".to_owned(), |n| n.to_string())) }
                            td { (r.record.addresses.first().map_or("Not recorded".to_owned(), |a| a.display())) }
                        }
                    }
                }
            }
            h2 id="concerns" { "Concerns" }
            @if flags.is_empty() {
                p { "No rule has raised a concern on this record." }
            } @else {
                ul class="flags" {
                    @for f in &flags {
                        li class={ "flag flag-" (severity(f.flag.severity)) } {
                            strong class="tag" { (severity(f.flag.severity)) }
                            " " (f.flag.sentence)
                            br;
                            span class="hint" {
                                "Knowable from " (f.flag.first_knowable.format("%-d %B %Y").to_string()) ". Entries: "
                                @for (n, e) in f.flag.entries.iter().enumerate() {
                                    @if n > 0 { ", " }
                                    a href={ "#entry-" (e) } { (n + 1) }
                                }
                                " (rule " (f.flag.rule) ")"
                            }
                        }
                    }
                }
            }
            h2 id="chronology" { "Chronology" }
            (filters(&params, &agencies))
            (chronology_table(&page, &agency_names, id)?)
            @if let Some(next) = page.next {
                a class="link" href={ "/persons/" (id) "?" (next_query(&params, &next.to_string())) "#chronology" } { "Next page" }
            }
        },
    ))
}

fn filters(params: &ChronologyParams, agencies: &[safeguard_core::Agency]) -> Markup {
    let selected = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    html! {
        form method="get" class="filters" action="#chronology" {
            div class="field" {
                label class="label" for="agency" { "Agency" }
                select class="select" id="agency" name="agency" {
                    option value="" { "All agencies" }
                    @for a in agencies {
                        option value=(a.id) selected[selected(&params.agency, a.id.as_str())] { (a.name) }
                    }
                }
            }
            div class="field" {
                label class="label" for="kind" { "Kind" }
                select class="select" id="kind" name="kind" {
                    option value="" { "All kinds" }
                    @for k in EntryKind::ALL {
                        option value=(k.as_str()) selected[selected(&params.kind, k.as_str())] { (k.label()) }
                    }
                }
            }
            div class="field" {
                label class="label" for="from" { "From" }
                input class="input" id="from" name="from" type="date" value=(params.from.clone().unwrap_or_default());
            }
            div class="field" {
                label class="label" for="to" { "To" }
                input class="input" id="to" name="to" type="date" value=(params.to.clone().unwrap_or_default());
            }
            button class="button" type="submit" { "Filter" }
        }
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

fn chronology_table(
    page: &ChronologyPage,
    agency_names: &HashMap<String, String>,
    subject: PersonId,
) -> Result<Markup, Error> {
    let rows = page
        .entries
        .iter()
        .map(|e| Ok(chronology_row(e, &e.entry.decode()?, agency_names, subject)))
        .collect::<Result<Vec<Markup>, safeguard_store::StoreError>>()?;
    Ok(html! {
        @if page.entries.is_empty() {
            p { "No entries match." }
        } @else {
            table class="table chronology" {
                caption class="visually-hidden" { "Every entry from every agency, oldest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Agency" } th scope="col" { "What" } th scope="col" { "Summary" } th scope="col" { "People" } } }
                tbody {
                    @for row in rows { (row) }
                }
            }
        }
    })
}

fn chronology_row(
    e: &ChronologyEntry,
    entry: &Entry,
    agency_names: &HashMap<String, String>,
    subject: PersonId,
) -> Markup {
    let agency = entry.agency.as_str();
    html! {
        tr id={ "entry-" (e.id) } {
            td class="nowrap" { time datetime=(entry.occurred_at) { (when(&entry.occurred_at)) } }
            td { (agency_names.get(agency).map_or(agency, String::as_str)) }
            td { (entry.kind().label()) }
            td {
                (entry.summary)
                br;
                span class="hint" { (entry.author.role) ", " (entry.author.name) }
            }
            td {
                ul class="list" {
                    @for (p, person) in entry.persons.iter().zip(&e.person_ids) {
                        li {
                            @if *person == subject {
                                (p.record.name.display())
                            } @else {
                                a href={ "/persons/" (person) } { (p.record.name.display()) }
                            }
                            " (" (p.role.as_str().replace('_', " ")) ")"
                        }
                    }
                }
            }
        }
    }
}
