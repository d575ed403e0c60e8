//! A child's practice review, run from a page by a safeguarding lead of children's social
//! care (Working Together to Safeguard Children 2023, chapter 5): the serious incident the
//! local authority learned of, its notification to the Child Safeguarding Practice Review
//! Panel, the rapid review and its decision, and the local review's publication; and the
//! panel members who read the child's record while the review is open. Each step is a
//! `serious_incident` entry recorded through the API's own parsing, access rule and write, so
//! the timescales, the panel's reading and the review panel's list follow from the record.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::NaiveDate;
use maud::{Markup, html};
use safeguard_core::access::Role;
use safeguard_core::clocks::{ClockRun, ClockStatus};
use safeguard_core::{
    AgencyKind, EntryDetails, EntryKind, FieldError, IncidentStage, ParticipantRole, PersonId,
    ReviewProgress, ReviewStep, SeriousIncident,
};
use safeguard_store::KnownParticipant;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{CSRF_FIELD, Caller};
use crate::forms::Values;
use crate::overview::day_text;
use crate::persons::{load_person, parse_person_id};
use crate::recording::{PageEntry, record_of, record_on_page};
use crate::ui::{Column, TableRow, date_from_parts, date_input, error_summary, layout, table};
use crate::{AppState, Error};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/persons/{id}/practice-review",
        get(review_page).post(record_step),
    )
}

/// Only a safeguarding lead of children's social care runs a review: only the local
/// authority's record opens a child's record to the review panel.
async fn may_run_review(state: &AppState, caller: &Caller) -> Result<(), Error> {
    let refused = || {
        Error::Forbidden(
            "a practice review is recorded by a safeguarding lead of children's social care".into(),
        )
    };
    let session = caller.session().ok_or_else(refused)?;
    if !session.user.roles.contains(&Role::SafeguardingLead) {
        return Err(refused());
    }
    let agency = session.user.agency.clone();
    let kind = state
        .blocking(move |store| {
            Ok(store
                .agencies()?
                .into_iter()
                .find(|a| a.id == agency)
                .map(|a| a.kind))
        })
        .await?;
    if kind == Some(AgencyKind::SocialCare) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// What the page knows of the review.
struct Standing {
    child: PersonId,
    child_name: String,
    progress: ReviewProgress,
    /// The review's timescales, latest run of each.
    runs: Result<Vec<ClockRun>, String>,
    /// Review panel members who may be named: (user id, name and agency).
    members: Vec<(String, String)>,
    csrf: String,
}

async fn standing(state: &AppState, caller: &Caller, child: PersonId) -> Result<Standing, Error> {
    let person = load_person(state, child).await?;
    let today = chrono::Local::now().date_naive();
    let (record, members) = state
        .blocking(move |store| {
            let agencies = store.agencies()?;
            let name_of = |id: &safeguard_core::AgencyId| {
                agencies
                    .iter()
                    .find(|a| &a.id == id)
                    .map_or(id.as_str().to_owned(), |a| a.name.clone())
            };
            let members = store
                .users()?
                .into_iter()
                .filter(|u| !u.disabled && u.roles.contains(&Role::ReviewPanel))
                .map(|u| {
                    (
                        u.id.clone(),
                        format!("{}, {}", u.display_name, name_of(&u.agency)),
                    )
                })
                .collect();
            let social_care: Vec<_> = agencies
                .iter()
                .filter(|a| a.kind == AgencyKind::SocialCare)
                .map(|a| a.id.clone())
                .collect();
            Ok((store.child(child)?.map(|c| (c, social_care)), members))
        })
        .await?;
    let (progress, runs) = match record {
        Some((record, social_care)) => {
            // The local authority's entries about the child as its subject, as the access
            // rule reads them.
            let incidents: Vec<(NaiveDate, &SeriousIncident)> = record
                .chronology
                .iter()
                .filter(|i| social_care.contains(&i.entry.agency))
                .filter(|i| {
                    i.entry
                        .persons
                        .iter()
                        .zip(&i.person_ids)
                        .any(|(p, id)| p.role == ParticipantRole::SubjectChild && *id == child)
                })
                .filter_map(|i| match &i.entry.details {
                    EntryDetails::SeriousIncident(incident) => Some((i.day(), incident)),
                    _ => None,
                })
                .collect();
            let progress = ReviewProgress::of(incidents);
            let runs = state
                .rules
                .clock_runs(&record, today)
                .map(|runs| review_runs(runs, &state.rules))
                .map_err(|e| e.to_string());
            (progress, runs)
        }
        None => (ReviewProgress::default(), Ok(Vec::new())),
    };
    Ok(Standing {
        child,
        child_name: person.display_name(),
        progress,
        runs,
        members,
        csrf: caller
            .session()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
    })
}

/// The latest run of each clock a serious incident starts.
fn review_runs(runs: Vec<ClockRun>, book: &safeguard_core::rules::RuleBook) -> Vec<ClockRun> {
    let review_clock = |id: &str| {
        book.clocks
            .iter()
            .any(|c| c.id == id && c.start.kind == EntryKind::SeriousIncident)
    };
    let mut latest: HashMap<String, ClockRun> = HashMap::new();
    for run in runs.into_iter().filter(|r| review_clock(&r.clock)) {
        match latest.get(&run.clock) {
            Some(kept) if kept.started > run.started => {}
            _ => {
                latest.insert(run.clock.clone(), run);
            }
        }
    }
    let mut runs: Vec<ClockRun> = latest.into_values().collect();
    runs.sort_by_key(|r| (r.started, r.due));
    runs
}

#[derive(Deserialize)]
struct Just {
    recorded: Option<String>,
}

async fn review_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(just): Query<Just>,
) -> Result<Response, Error> {
    let child = parse_person_id(&id)?;
    may_run_review(&state, &caller).await?;
    let standing = standing(&state, &caller, child).await?;
    let values = fresh_values(&standing.progress);
    Ok(page(
        &caller,
        &state,
        &standing,
        &values,
        &[],
        just.recorded.is_some(),
    ))
}

/// A new form's values: its own identifier, and the panel named now ticked.
fn fresh_values(progress: &ReviewProgress) -> Values {
    let mut pairs = vec![("source_id".to_owned(), Uuid::now_v7().to_string())];
    pairs.extend(
        progress
            .panel
            .iter()
            .map(|p| ("panel".to_owned(), p.clone())),
    );
    Values::from_pairs(&pairs)
}

/// Every date the step asks for, in the order the page asks, each checked against today
/// and the review's earlier steps.
fn step_dates(
    step: ReviewStep,
    progress: &ReviewProgress,
    values: &Values,
    today: NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Vec<(&'static str, Option<NaiveDate>)> {
    let mut read = |field: &'static str, what: &str, required: bool| {
        let parts = [
            values.one(field),
            values.one(&format!("{field}-month")),
            values.one(&format!("{field}-year")),
        ];
        match date_from_parts(field, what, parts) {
            Ok(Some(day)) if day > today => {
                errors.push(FieldError::new(
                    field,
                    format!("{what} must be today or in the past"),
                ));
                None
            }
            Ok(None) if required => {
                errors.push(FieldError::new(
                    field,
                    format!("Enter {}", what.to_lowercase()),
                ));
                None
            }
            Ok(day) => day,
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let dates: Vec<(&'static str, Option<NaiveDate>)> = match step {
        ReviewStep::Incident => vec![
            (
                "known",
                read("known", "The date the local authority learned of it", true),
            ),
            (
                "notified",
                read(
                    "notified",
                    "The date the national panel was notified",
                    false,
                ),
            ),
        ],
        ReviewStep::Notification => vec![(
            "notified",
            read("notified", "The date the national panel was notified", true),
        )],
        ReviewStep::RapidReview => vec![(
            "rapid_review",
            read("rapid_review", "The date of the rapid review", true),
        )],
        ReviewStep::Publication => vec![(
            "published",
            read("published", "The date the review was published", true),
        )],
    };
    // Each step follows the one before it.
    let earlier = [
        ("known", progress.known),
        ("notified", progress.notified),
        ("rapid_review", progress.rapid_review),
    ];
    let mut last: Option<(&str, NaiveDate)> = None;
    for (field, day) in earlier
        .iter()
        .copied()
        .filter(|(f, _)| !dates.iter().any(|(d, _)| d == f))
        .chain(dates.iter().copied())
    {
        let Some(day) = day else { continue };
        if let Some((before, before_day)) = last
            && day < before_day
        {
            errors.push(FieldError::new(
                field,
                format!(
                    "{} cannot be before {} ({})",
                    step_name(field),
                    step_name(before).to_lowercase(),
                    day_text(before_day)
                ),
            ));
        }
        last = Some((field, day));
    }
    dates
}

fn step_name(field: &str) -> &'static str {
    match field {
        "known" => "Learning of the incident",
        "notified" => "The notification",
        "rapid_review" => "The rapid review",
        _ => "The publication",
    }
}

async fn record_step(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Error> {
    let values = Values::from_form(&body).map_err(|e| Error::BadRequest(vec![e]))?;
    let child = parse_person_id(&id)?;
    may_run_review(&state, &caller).await?;
    let source_id = values.one("source_id").to_owned();
    if Uuid::parse_str(&source_id).is_err() {
        return Err(Error::BadRequest(vec![FieldError::new(
            "source_id",
            "the form is not one this service made; start again",
        )]));
    }
    let standing = standing(&state, &caller, child).await?;
    let step = standing.progress.next_step();
    // The form answers the step it was made for: a page left open while someone else
    // recorded the step is shown again as it now stands.
    if values.one("step") != step_id(step) {
        let values = fresh_values(&standing.progress);
        let errors = [FieldError::new(
            "step",
            "Someone recorded this step of the review meanwhile: check where it stands now",
        )];
        return Ok(page(&caller, &state, &standing, &values, &errors, false));
    }
    let today = chrono::Local::now().date_naive();
    let mut errors = Vec::new();
    let dates = step_dates(step, &standing.progress, &values, today, &mut errors);
    let panel: Vec<String> = values.all("panel").into_iter().map(str::to_owned).collect();
    if panel
        .iter()
        .any(|p| !standing.members.iter().any(|(id, _)| id == p))
    {
        errors.push(FieldError::new(
            "panel",
            "Choose the panel's members from the list",
        ));
    }
    let local_review = match values.one("local_review") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    if step == ReviewStep::RapidReview && local_review.is_none() {
        errors.push(FieldError::new(
            "local_review",
            "Select whether a local child safeguarding practice review follows",
        ));
    }
    let notes = safeguard_core::text::visible(values.one("notes"));
    if step == ReviewStep::Incident && notes.trim().is_empty() {
        errors.push(FieldError::new("notes", "Enter what happened to the child"));
    }
    if !errors.is_empty() {
        return Ok(page(&caller, &state, &standing, &values, &errors, false));
    }
    let person = load_person(&state, child).await?;
    let record = record_of(&person);
    let entry = |stage: IncidentStage, day: NaiveDate, summary: &str| {
        let mut details = json!({"kind": "serious_incident", "stage": stage});
        if matches!(stage, IncidentStage::Notified | IncidentStage::RapidReview) {
            details["panel"] = json!(panel);
        }
        if stage == IncidentStage::RapidReview {
            details["local_review"] = json!(local_review);
        }
        let summary = if notes.trim().is_empty() {
            summary.to_owned()
        } else {
            format!("{summary}. {}", notes.trim())
        };
        PageEntry {
            source_id: format!("{source_id}-{}", stage_id(stage)),
            occurred_at: Some(day.format("%Y-%m-%d").to_string()),
            persons: vec![json!({"role": "subject_child", "record": record})],
            summary,
            details,
            supersedes: None,
        }
    };
    let day = |field: &str| {
        dates
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, d)| *d)
    };
    let mut entries = Vec::new();
    if let Some(known) = day("known") {
        entries.push(entry(
            IncidentStage::Known,
            known,
            "The local authority learned of a serious incident",
        ));
    }
    if let Some(notified) = day("notified") {
        entries.push(entry(
            IncidentStage::Notified,
            notified,
            "The Child Safeguarding Practice Review Panel was notified of the serious incident",
        ));
    }
    if let Some(held) = day("rapid_review") {
        let decision = if local_review == Some(true) {
            "The rapid review was held: a local child safeguarding practice review follows"
        } else {
            "The rapid review was held: no local review follows"
        };
        entries.push(entry(IncidentStage::RapidReview, held, decision));
    }
    if let Some(published) = day("published") {
        entries.push(entry(
            IncidentStage::ReviewPublished,
            published,
            "The local child safeguarding practice review was published",
        ));
    }
    let known = vec![KnownParticipant {
        local_id: child.to_string(),
        person: child,
    }];
    match record_on_page(&state, &caller, entries, known).await? {
        Ok(_) => Ok(
            Redirect::to(&format!("/persons/{child}/practice-review?recorded=1")).into_response(),
        ),
        Err(error) => {
            let error = FieldError::new(
                "step",
                crate::ui::capitalised(&format!("{}: {}", error.field, error.reason)),
            );
            Ok(page(&caller, &state, &standing, &values, &[error], false))
        }
    }
}

fn step_id(step: ReviewStep) -> &'static str {
    match step {
        ReviewStep::Incident => "incident",
        ReviewStep::Notification => "notification",
        ReviewStep::RapidReview => "rapid_review",
        ReviewStep::Publication => "publication",
    }
}

fn stage_id(stage: IncidentStage) -> &'static str {
    match stage {
        IncidentStage::Known => "known",
        IncidentStage::Notified => "notified",
        IncidentStage::RapidReview => "rapid-review",
        IncidentStage::ReviewPublished => "published",
    }
}

fn page(
    caller: &Caller,
    state: &AppState,
    standing: &Standing,
    values: &Values,
    errors: &[FieldError],
    recorded: bool,
) -> Response {
    let by_name: HashMap<&str, &str> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.reason.as_str()))
        .collect();
    let progress = &standing.progress;
    let step = progress.next_step();
    let title = format!("Practice review for {}", standing.child_name);
    let title = if errors.is_empty() {
        title
    } else {
        format!("Error: {title}")
    };
    let date = |field: &str, legend: &str, hint: &str| {
        date_input(
            field,
            [field, &format!("{field}-month"), &format!("{field}-year")],
            [
                values.one(field),
                values.one(&format!("{field}-month")),
                values.one(&format!("{field}-year")),
            ],
            html! { legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (legend) } },
            hint,
            by_name.get(field).copied(),
        )
    };
    let group = |field: &str| {
        if by_name.contains_key(field) {
            "govuk-form-group govuk-form-group--error"
        } else {
            "govuk-form-group"
        }
    };
    let message = |field: &str| {
        html! {
            @if let Some(e) = by_name.get(field) { (crate::ui::error_message(field, e)) }
        }
    };
    let panel_choice = html! {
        div class=(group("panel")) id="panel" {
            fieldset class="govuk-fieldset" aria-describedby="panel-hint" {
                legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Who is on the review panel?" }
                div class="govuk-hint" id="panel-hint" {
                    "Only those chosen read the child's record by the review, and only they see the child on their list. "
                    "Choose nobody and every review panel member may."
                }
                (message("panel"))
                @if standing.members.is_empty() {
                    p class="govuk-body" { "No one has the review panel role yet: an administrator gives it." }
                }
                div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes" {
                    @for (i, (id, name)) in standing.members.iter().enumerate() {
                        div class="govuk-checkboxes__item" {
                            input class="govuk-checkboxes__input" id={ "panel-" (i) } name="panel" type="checkbox" value=(id) checked[values.all("panel").contains(&id.as_str())];
                            label class="govuk-label govuk-checkboxes__label" for={ "panel-" (i) } { (name) }
                        }
                    }
                }
            }
        }
    };
    let (heading, button) = match step {
        ReviewStep::Incident => ("Record a serious incident", "Record the serious incident"),
        ReviewStep::Notification => ("Record the notification", "Record the notification"),
        ReviewStep::RapidReview => ("Record the rapid review", "Record the rapid review"),
        ReviewStep::Publication => ("Record the review's publication", "Record the publication"),
    };
    let body = html! {
        a class="govuk-back-link" href={ "/persons/" (standing.child) } { "Back to the child's record" }
        @if !errors.is_empty() {
            (error_summary(&errors.iter().map(|e| (e.field.clone(), e.reason.clone())).collect::<Vec<_>>()))
        }
        @if recorded {
            div class="govuk-notification-banner govuk-notification-banner--success" role="alert" aria-labelledby="recorded-title" data-module="govuk-notification-banner" {
                div class="govuk-notification-banner__header" {
                    h2 class="govuk-notification-banner__title" id="recorded-title" { "Success" }
                }
                div class="govuk-notification-banner__content" {
                    p class="govuk-notification-banner__heading" { "Recorded in the child's chronology" }
                }
            }
        }
        span class="govuk-caption-l" { (standing.child_name) }
        h1 class="govuk-heading-l" { "Practice review" }
        p class="govuk-body" {
            "When a child dies or is seriously harmed and abuse or neglect is known or suspected, the local authority notifies the Child Safeguarding Practice Review Panel within 5 working days; "
            "a rapid review follows within 15 working days, and decides whether a local child safeguarding practice review is published within 6 months (Working Together to Safeguard Children 2023, chapter 5)."
        }
        h2 class="govuk-heading-m" { "Where the review stands" }
        dl class="govuk-summary-list" {
            (row("Review", html! {
                @if progress.open {
                    strong class="govuk-tag govuk-tag--blue" { "Open" }
                    " The panel reads the child's record without breaking glass."
                } @else if progress.ended() {
                    strong class="govuk-tag govuk-tag--grey" { "Closed" }
                } @else {
                    strong class="govuk-tag govuk-tag--grey" { "Not open" }
                }
            }))
            (row("Learned of the incident", maybe_day(progress.known)))
            (row("National panel notified", maybe_day(progress.notified)))
            (row("Rapid review", html! {
                (maybe_day(progress.rapid_review))
                @match (progress.rapid_review, progress.local_review) {
                    (Some(_), Some(true)) => { ": a local review follows" }
                    (Some(_), Some(false)) => { ": no local review follows" }
                    (Some(_), None) => { ": not yet decided whether a local review follows" }
                    _ => {}
                }
            }))
            (row("Local review published", maybe_day(progress.published)))
            (row("Panel", html! {
                @if !progress.open {
                    "No one reads by the review while it is not open"
                } @else if progress.panel.is_empty() {
                    "Every review panel member"
                } @else {
                    ul class="govuk-list" {
                        @for id in &progress.panel {
                            li { (standing.members.iter().find(|(m, _)| m == id).map_or(id.as_str(), |(_, n)| n.as_str())) }
                        }
                    }
                }
            }))
        }
        h2 class="govuk-heading-m" { "Timescales" }
        (timescales(&standing.runs, &state.rules))
        h2 class="govuk-heading-m" id="step" { (heading) }
        (message("step"))
        form method="post" action={ "/persons/" (standing.child) "/practice-review" } novalidate {
            input type="hidden" name=(CSRF_FIELD) value=(standing.csrf);
            input type="hidden" name="source_id" value=(values.one("source_id"));
            input type="hidden" name="step" value=(step_id(step));
            @match step {
                ReviewStep::Incident => {
                    (date("known", "When did the local authority learn of it?", "For example, 27 3 2024. The national panel is to be notified within 5 working days"))
                    (date("notified", "When was the national panel notified? (optional)", "Leave blank if it is not yet notified. The review opens to the panel from this day"))
                    div class=(group("notes")) {
                        label class="govuk-label govuk-label--s" for="notes" { "What happened to the child?" }
                        div class="govuk-hint" id="notes-hint" { "The death or serious harm, and the abuse or neglect known or suspected" }
                        (message("notes"))
                        textarea class={ "govuk-textarea" @if by_name.contains_key("notes") { " govuk-textarea--error" } } id="notes" name="notes" rows="4" aria-describedby="notes-hint" { (values.one("notes")) }
                    }
                    (panel_choice)
                }
                ReviewStep::Notification => {
                    (date("notified", "When was the national panel notified?", "For example, 27 3 2024. The review opens to the panel from this day"))
                    (panel_choice)
                }
                ReviewStep::RapidReview => {
                    (date("rapid_review", "When was the rapid review held?", "For example, 27 3 2024"))
                    div class=(group("local_review")) id="local_review" {
                        fieldset class="govuk-fieldset" {
                            legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Does a local child safeguarding practice review follow?" }
                            (message("local_review"))
                            div class="govuk-radios govuk-radios--inline" data-module="govuk-radios" {
                                @for (value, label) in [("yes", "Yes"), ("no", "No, the review closes")] {
                                    div class="govuk-radios__item" {
                                        input class="govuk-radios__input" id={ "local_review-" (value) } name="local_review" type="radio" value=(value) checked[values.one("local_review") == value];
                                        label class="govuk-label govuk-radios__label" for={ "local_review-" (value) } { (label) }
                                    }
                                }
                            }
                        }
                    }
                    (panel_choice)
                }
                ReviewStep::Publication => {
                    (date("published", "When was the local review published?", "For example, 27 3 2024. The child's record closes to the panel"))
                }
            }
            @if step != ReviewStep::Incident {
                div class=(group("notes")) {
                    label class="govuk-label govuk-label--s" for="notes" { "Notes (optional)" }
                    (message("notes"))
                    textarea class="govuk-textarea" id="notes" name="notes" rows="3" { (values.one("notes")) }
                }
            }
            button class="govuk-button" type="submit" data-module="govuk-button" data-prevent-double-click="true" { (button) }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, layout(&title, caller.session(), body)).into_response()
}

fn row(key: &str, value: Markup) -> Markup {
    html! {
        div class="govuk-summary-list__row" {
            dt class="govuk-summary-list__key" { (key) }
            dd class="govuk-summary-list__value" { (value) }
        }
    }
}

fn maybe_day(day: Option<NaiveDate>) -> Markup {
    html! {
        @match day {
            Some(d) => { (day_text(d)) }
            None => { "Not recorded" }
        }
    }
}

/// The review's timescales: when each fell or falls due, and when it was met.
fn timescales(
    runs: &Result<Vec<ClockRun>, String>,
    book: &safeguard_core::rules::RuleBook,
) -> Markup {
    let runs = match runs {
        Ok(runs) => runs,
        Err(why) => {
            return html! { p class="govuk-body" { "The timescales could not be worked out: " (why) "." } };
        }
    };
    html! {
        @if runs.is_empty() {
            p class="govuk-body" { "None yet: they start when the incident is recorded." }
        } @else {
            (table("The review's timescales", true,
                &[Column::text("Timescale"), Column::text("Started"), Column::text("Due"), Column::text("Status")],
                runs.iter().map(|r| TableRow::new(vec![
                    html! { (book.clock_name(&r.clock)) },
                    html! { span class="app-nowrap" { (day_text(r.started)) } },
                    html! { span class="app-nowrap" { (day_text(r.due)) } },
                    html! {
                        @match (r.stopped, r.status) {
                            (Some((_, done)), _) if done <= r.due => { strong class="govuk-tag govuk-tag--green" { "Met" } " " (day_text(done)) }
                            (Some((_, done)), _) => { strong class="govuk-tag govuk-tag--red" { "Late" } " " (day_text(done)) }
                            (None, ClockStatus::Overdue) => strong class="govuk-tag govuk-tag--red" { "Overdue" },
                            (None, ClockStatus::DueSoon) => strong class="govuk-tag govuk-tag--orange" { "Due soon" },
                            _ => strong class="govuk-tag govuk-tag--grey" { "Running" },
                        }
                    },
                ]))))
        }
    }
}
