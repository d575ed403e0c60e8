//! Where each role lands: a team manager on their team's caseload, a review panel member on
//! the children whose practice review is open, an administrator on the users and agencies, an
//! auditor on the state of the audit chains; everyone else who searches on the search page.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use maud::{Markup, html};
use safeguard_core::PersonId;
use safeguard_core::access::Role;
use safeguard_core::rules::Severity;
use safeguard_store::audit::AuditEvent;

use crate::auth::Caller;
use crate::ui::{Column, TableRow, layout, table};
use crate::{AppState, Error};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/team", get(team_page))
        .route("/admin", get(admin_page))
        .route("/audit", get(audit_page))
        .route("/reviews", get(reviews_page))
        .route("/reviews/{id}", get(review_chronology))
}

/// The page a user with `roles` starts on.
pub(crate) fn landing(roles: &[Role]) -> &'static str {
    if roles.contains(&Role::TeamManager) {
        "/team"
    } else if roles.contains(&Role::ReviewPanel) {
        "/reviews"
    } else if roles.iter().any(|r| r.searches()) {
        "/"
    } else if roles.contains(&Role::Administrator) {
        "/admin"
    } else {
        "/audit"
    }
}

/// The rules whose flags are statutory timescales: overdue and due soon.
const OVERDUE: &str = "statutory_timescale_missed";
const DUE_SOON: &str = "statutory_timescale_due_soon";

/// Horizontal bars with their values written beside them, as SVG: a chart a person can read
/// at a glance and a screen reader as its title and description.
fn bar_chart(id: &str, title: &str, bars: &[(String, usize, &'static str)]) -> Markup {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let (label_width, bar_width, row) = (230.0, 420.0, 28.0);
    let height = row * bars.len().max(1) as f64 + 8.0;
    let description = bars
        .iter()
        .map(|(label, n, _)| format!("{label}: {n}"))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        svg class="app-chart" xmlns="http://www.w3.org/2000/svg" role="img" viewBox={ "0 0 720 " (height) }
            aria-labelledby={ (id) "-title " (id) "-description" } {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-description" } { (description) }
            @for (i, (label, n, class)) in bars.iter().enumerate() {
                @let y = 4.0 + row * i as f64;
                text class="app-chart__label" x="0" y=(y + 18.0) { title { (label) } (crate::timeline::truncate(label, 26)) }
                rect class={ "app-chart__bar " (class) } x=(label_width) y=(y + 4.0)
                    width=(bar_width * *n as f64 / max) height=(row - 10.0) {}
                text class="app-chart__value" x=(label_width + bar_width * *n as f64 / max + 8.0) y=(y + 18.0) { (n) }
            }
        }
    }
}

/// The names of `persons`, read together.
pub(crate) fn display_names(
    store: &safeguard_store::Store,
    persons: &[PersonId],
) -> Result<HashMap<PersonId, String>, safeguard_store::StoreError> {
    Ok(store
        .persons(persons)?
        .into_iter()
        .map(|p| (p.id, p.display_name()))
        .collect())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn team_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let principal = caller.principal();
    let agency = principal.agency().clone();
    let actor = caller.actor();
    let (caseload, names) = state
        .blocking(move |store| {
            let caseload = store.caseload(&agency)?;
            let children: Vec<PersonId> = caseload
                .workers
                .iter()
                .flat_map(|w| w.children.iter())
                .chain(&caseload.unallocated)
                .copied()
                .collect();
            let names = display_names(store, &children)?;
            // The dashboard shows children's concerns: each child's access log says so.
            let events: Vec<AuditEvent> = names
                .keys()
                .map(|child| AuditEvent::new("read_caseload", child.to_string()))
                .collect();
            store.record_access(&actor, &events)?;
            Ok((caseload, names))
        })
        .await?;
    let name = |p: &PersonId| names.get(p).cloned().unwrap_or_else(|| p.to_string());
    let child_link =
        |p: &PersonId| html! { a class="govuk-link" href={ "/persons/" (p) } { (name(p)) } };
    let count = |s: Severity| {
        caseload
            .flags
            .iter()
            .filter(|(_, f)| f.flag.severity == s)
            .count()
    };
    let timescales: Vec<_> = caseload
        .flags
        .iter()
        .filter(|(_, f)| f.flag.rule == OVERDUE || f.flag.rule == DUE_SOON)
        .collect();
    let mut high_by_child: BTreeMap<PersonId, usize> = BTreeMap::new();
    for (child, f) in &caseload.flags {
        if f.flag.severity == Severity::High {
            *high_by_child.entry(*child).or_default() += 1;
        }
    }
    let allocated: usize = caseload.workers.iter().map(|w| w.children.len()).sum();
    Ok(layout(
        "Your team",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Your team" }
            p class="govuk-body" {
                (plural(allocated, "allocation", "allocations")) " to " (plural(caseload.workers.len(), "worker", "workers")) "; "
                (plural(caseload.unallocated.len(), "child", "children")) " your agency holds with nobody allocated."
            }
            h2 class="govuk-heading-m" { "Timescales overdue and due soon" }
            @if timescales.is_empty() {
                p class="govuk-body" { "No statutory timescale is overdue or due soon." }
            } @else {
                (table("Timescales overdue and due soon", true,
                    &[Column::text("Child"), Column::text("Status"), Column::text("What"), Column::text("Since")],
                    timescales.iter().map(|(child, f)| TableRow::new(vec![
                        child_link(child),
                        html! {
                            @if f.flag.rule == OVERDUE { strong class="govuk-tag govuk-tag--red" { "Overdue" } }
                            @else { strong class="govuk-tag govuk-tag--orange" { "Due soon" } }
                        },
                        html! { (f.flag.sentence) },
                        html! { span class="app-nowrap" { (f.flag.first_knowable.format("%-d %B %Y")) } },
                    ]))))
            }
            h2 class="govuk-heading-m" { "Open concerns by severity" }
            (bar_chart("severity", "Open concerns on your team's children, by severity", &[
                ("High".to_owned(), count(Severity::High), "app-chart__bar--high"),
                ("Medium".to_owned(), count(Severity::Medium), "app-chart__bar--medium"),
                ("Low".to_owned(), count(Severity::Low), "app-chart__bar--low"),
            ]))
            h2 class="govuk-heading-m" { "Children per worker" }
            (bar_chart("workers", "Children allocated to each worker", &caseload
                .workers
                .iter()
                .map(|w| (w.name.clone(), w.children.len(), "app-chart__bar--workers"))
                .collect::<Vec<_>>()))
            (table("Each worker's children", false,
                &[Column::text("Worker"), Column::numeric("Children"), Column::text("Children with high concerns")],
                caseload.workers.iter().map(|w| TableRow::new(vec![
                    html! { (w.name) },
                    html! { (w.children.len()) },
                    html! {
                        ul class="govuk-list" {
                            @for c in w.children.iter().filter(|c| high_by_child.contains_key(c)) {
                                li { (child_link(c)) " (" (high_by_child[c]) ")" }
                            }
                        }
                    },
                ]))))
            h2 class="govuk-heading-m" { "Children with nobody allocated" }
            @if caseload.unallocated.is_empty() {
                p class="govuk-body" { "Every child your agency holds has a worker." }
            } @else {
                ul class="govuk-list govuk-list--bullet" {
                    @for c in &caseload.unallocated {
                        li { (child_link(c)) @if let Some(n) = high_by_child.get(c) { ", " (n) " high concerns" } }
                    }
                }
            }
        },
    ))
}

async fn admin_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let (users, agencies) = state
        .blocking(|store| Ok((store.users()?, store.agencies()?)))
        .await?;
    let agency_name: HashMap<&str, &str> = agencies
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    Ok(layout(
        "Users and agencies",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Users and agencies" }
            p class="govuk-body" {
                "Users, agencies and API tokens are managed with the " code { "safeguard user" } ", "
                code { "safeguard agency" } " and " code { "safeguard token" } " commands; every change is audited."
            }
            h2 class="govuk-heading-m" { "Agencies" }
            (table("Agencies", true, &[Column::text("Agency"), Column::text("Identifier"), Column::text("Kind")],
                agencies.iter().map(|a| TableRow::new(vec![
                    html! { (a.name) },
                    html! { code class="app-wrap" { (a.id) } },
                    html! { (format!("{:?}", a.kind).replace('_', " ")) },
                ]))))
            h2 class="govuk-heading-m" { "Users" }
            (table("Users", true, &[Column::text("Name"), Column::text("User name"), Column::text("Agency"), Column::text("Roles"), Column::text("Status")],
                users.iter().map(|u| TableRow::new(vec![
                    html! { (u.display_name) },
                    html! { span class="app-wrap" { (u.id) } },
                    html! { (agency_name.get(u.agency.as_str()).copied().unwrap_or(u.agency.as_str())) },
                    html! { (u.roles.iter().map(|r| r.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")) },
                    html! {
                        @if u.disabled { strong class="govuk-tag govuk-tag--grey" { "Disabled" } }
                        @else { strong class="govuk-tag govuk-tag--green" { "Active" } }
                    },
                ]))))
        },
    ))
}

/// The review panel's list: the children whose practice review is open, whose records the
/// panel reads without breaking glass while it is.
async fn reviews_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let actor = caller.actor();
    let me = caller
        .session()
        .map(|s| s.user.id.clone())
        .unwrap_or_default();
    let (reviews, names) = state
        .blocking(move |store| {
            // A review that names its panel is listed to its members only.
            let reviews: Vec<_> = store
                .children_under_review()?
                .into_iter()
                .filter(|r| r.panel.is_empty() || r.panel.contains(&me))
                .collect();
            let names =
                display_names(store, &reviews.iter().map(|r| r.person).collect::<Vec<_>>())?;
            // The list names children: each child's access log says so.
            let events: Vec<AuditEvent> = names
                .keys()
                .map(|child| AuditEvent::new("read_reviews", child.to_string()))
                .collect();
            store.record_access(&actor, &events)?;
            Ok((reviews, names))
        })
        .await?;
    let stage = |s: safeguard_core::IncidentStage| match s {
        safeguard_core::IncidentStage::Known => "Known",
        safeguard_core::IncidentStage::Notified => {
            "National panel notified; rapid review to follow"
        }
        safeguard_core::IncidentStage::RapidReview => "Rapid review held; local review under way",
        safeguard_core::IncidentStage::ReviewPublished => "Published",
    };
    Ok(layout(
        "Children under review",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Children under review" }
            p class="govuk-body" {
                "A child's record opens to review panels from the day children's social care records the serious incident's "
                "notification to the national panel, until the local review is published or the rapid review decides that none follows. "
                "Every read is in the child's access log. For any other child, break glass with a reason."
            }
            @if reviews.is_empty() {
                p class="govuk-body" { "No practice review is open." }
            } @else {
                (table("Children whose practice review is open", false,
                    &[Column::text("Child"), Column::text("Where the review stands"), Column::text("Chronology for the review")],
                    reviews.iter().map(|r| {
                        let name = names.get(&r.person).cloned().unwrap_or_else(|| r.person.to_string());
                        TableRow {
                            id: None,
                            class: None,
                            cells: vec![
                                html! { a class="govuk-link" href={ "/persons/" (r.person) } { (name) } },
                                html! { (stage(r.stage)) },
                                html! {
                                    a class="govuk-link" href={ "/reviews/" (r.person) "?format=html" } { "Pseudonymised (HTML)" span class="govuk-visually-hidden" { " for " (name) } }
                                    br;
                                    a class="govuk-link" href={ "/reviews/" (r.person) "?format=md" } { "Markdown" span class="govuk-visually-hidden" { " for " (name) } }
                                    br;
                                    a class="govuk-link" href={ "/reviews/" (r.person) "?format=html&level=summary&narrow_dates=yes" } { "Summary, dates to the month" span class="govuk-visually-hidden" { " for " (name) } }
                                },
                            ],
                        }
                    })))
            }
        },
    ))
}

async fn audit_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let verified = state.blocking(|store| store.verify_audit()).await?;
    Ok(layout(
        "The audit log",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "The audit log" }
            @match &verified {
                Ok(v) => {
                    div class="govuk-panel govuk-panel--confirmation" {
                        h2 class="govuk-panel__title" { "Both chains verify" }
                        div class="govuk-panel__body" {
                            (v.writes.events) " changes and " (v.reads.events) " reads, each chained under the audit key"
                        }
                    }
                    dl class="govuk-summary-list" {
                        div class="govuk-summary-list__row" {
                            dt class="govuk-summary-list__key" { "Head of the chain of changes" }
                            dd class="govuk-summary-list__value" { code class="app-wrap" { (v.writes.head_hash) } }
                        }
                        div class="govuk-summary-list__row" {
                            dt class="govuk-summary-list__key" { "Head of the chain of reads" }
                            dd class="govuk-summary-list__value" { code class="app-wrap" { (v.reads.head_hash) } }
                        }
                    }
                }
                Err(tampering) => {
                    div class="govuk-error-summary" data-module="govuk-error-summary" {
                        div role="alert" {
                            h2 class="govuk-error-summary__title" { "The audit log has been tampered with" }
                            div class="govuk-error-summary__body" { p class="govuk-body" { (tampering.to_string()) } }
                        }
                    }
                }
            }
            p class="govuk-body" {
                "To prove later that the log has not been rewritten, keep a signed checkpoint away from the database ("
                code { "safeguard audit checkpoint" } ") and check against it with " code { "safeguard audit verify --since" } "."
            }
            p class="govuk-body" { "Each child's page links to who looked at the record." }
        },
    ))
}

/// Which form of the review's chronology, as `safeguard review` takes it.
#[derive(serde::Deserialize)]
struct ReviewFormat {
    /// `html` (the default), `md` or `json`.
    format: Option<String>,
    /// `full` (the default) or `summary`.
    level: Option<String>,
    /// Entries from this day (`2007-01-01`).
    from: Option<String>,
    /// Entries up to this day, and the timescales as of it.
    to: Option<String>,
    /// `yes`: dates narrowed to the month.
    narrow_dates: Option<String>,
}

impl ReviewFormat {
    /// The export's options, or the first parameter that is wrong.
    fn options(&self) -> Result<crate::review_export::ReviewOptions, Error> {
        let day = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                        .map_err(|_| Error::bad_parameter(name, "must be a date, like 2007-08-03"))
                })
                .transpose()
        };
        let level = match self.level.as_deref().unwrap_or("full") {
            "full" => safeguard_core::review::Level::Full,
            "summary" => safeguard_core::review::Level::Summary,
            _ => return Err(Error::bad_parameter("level", "must be full or summary")),
        };
        let narrow_dates = match self.narrow_dates.as_deref().unwrap_or("no") {
            "yes" => true,
            "no" => false,
            _ => return Err(Error::bad_parameter("narrow_dates", "must be yes or no")),
        };
        let (from, to) = (day("from", &self.from)?, day("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(Error::bad_parameter("from", "must not be after to"));
        }
        Ok(crate::review_export::ReviewOptions {
            from,
            to,
            level,
            narrow_dates,
            scheme: safeguard_core::pseudonym::Scheme::default(),
        })
    }
}

/// A practice review's chronology of the child, pseudonymised, for the review panel and
/// safeguarding leads (the same as `safeguard review`): behind the record's access rule,
/// audited as `export_review`, and refused, naming where, if anything identifying is left.
async fn review_chronology(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(format): axum::extract::Query<ReviewFormat>,
) -> Result<axum::response::Response, Error> {
    use axum::response::IntoResponse;
    let child = crate::persons::parse_person_id(&id)?;
    let roles = caller
        .session()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    if !roles
        .iter()
        .any(|r| matches!(r, Role::ReviewPanel | Role::SafeguardingLead))
    {
        return Err(Error::Forbidden(
            "a review's chronology is for review panels and safeguarding leads".into(),
        ));
    }
    let (content_type, extension) = match format.format.as_deref().unwrap_or("html") {
        "html" => ("text/html; charset=utf-8", "html"),
        "md" => ("text/markdown; charset=utf-8", "md"),
        "json" => ("application/json", "json"),
        _ => return Err(Error::bad_parameter("format", "must be html, md or json")),
    };
    let options = format.options()?;
    let rules = state.rules.clone();
    let built = state
        .blocking(move |store| {
            Ok(crate::review_export::build_review(
                store, &rules, child, &options,
            ))
        })
        .await?;
    let built = match built {
        Ok(built) => built,
        Err(crate::review_export::ReviewError::Leaks(places)) => {
            return Err(Error::Invalid(vec![safeguard_core::FieldError::new(
                "review",
                format!(
                    "the chronology still identifies someone, so it is not given out: {}. Correct those entries first",
                    places
                        .iter()
                        .map(|p| p.trim())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )]));
        }
        Err(crate::review_export::ReviewError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(Error::Internal(e.to_string())),
    };
    let body = match extension {
        "html" => built.to_html(),
        "md" => built.to_markdown(),
        _ => serde_json::to_string_pretty(&built).map_err(|e| Error::Internal(e.to_string()))?,
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"review-chronology.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}
