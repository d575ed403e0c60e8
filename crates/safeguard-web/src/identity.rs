//! Who is who: the queue of proposed links between agencies' records, each shown with the
//! evidence for and against, and the decisions safeguarding leads make on them (API and
//! page). A decision merges or splits persons at once and is never overridden by automatic
//! linking.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use maud::{Markup, html};
use safeguard_core::{FieldError, RecordId};
use safeguard_linkage::compare::Field;
use safeguard_store::audit::AuditEvent;
use safeguard_store::linkage::{Decided, LinkDecision, LinkReview, LinkSide, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{CSRF_FIELD, Caller, form_field};
use crate::pages::date_of_birth;
use crate::ui::{Column, TableRow, error_summary, layout, table};
use crate::{AppState, Error, ErrorBody, Params};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/link-reviews", get(get_link_reviews))
        .route("/api/v1/link-decisions", post(post_link_decision))
        .route("/link-reviews", get(review_page).post(decide_from_page))
}

/// The most pairs a queue page shows.
const QUEUE_LIMIT: usize = 200;

/// How many pairs to list.
#[derive(Deserialize, IntoParams)]
pub(crate) struct QueueParams {
    /// At most this many, most likely first (default and maximum 200).
    pub limit: Option<usize>,
}

/// Pairs awaiting a decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct LinkReviews {
    reviews: Vec<LinkReview>,
}

/// Reads the queue, auditing that the caller saw it (it shows several agencies' records).
async fn queue(state: &AppState, caller: &Caller, limit: usize) -> Result<Vec<LinkReview>, Error> {
    let actor = caller.actor();
    state
        .blocking(move |store| {
            let reviews = store.link_reviews(limit)?;
            store.record_access(
                &actor,
                &[AuditEvent::new("read_link_reviews", "link_reviews")],
            )?;
            Ok(reviews)
        })
        .await
}

/// Pairs of records the linkage engine could not decide alone, most likely first, each with
/// the weight every comparison contributed.
#[utoipa::path(get, path = "/api/v1/link-reviews", tag = "identity", params(QueueParams),
    security(("session" = [])),
    responses(
        (status = 200, description = "Pairs awaiting a decision", body = LinkReviews),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not a safeguarding lead", body = ErrorBody),
    ))]
pub(crate) async fn get_link_reviews(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(params): Params<QueueParams>,
) -> Result<Json<LinkReviews>, Error> {
    let limit = params.limit.unwrap_or(QUEUE_LIMIT).clamp(1, QUEUE_LIMIT);
    let reviews = queue(&state, &caller, limit).await?;
    Ok(Json(LinkReviews { reviews }))
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    decision: LinkDecision,
) -> Result<Decided, Error> {
    let actor = caller.actor();
    let rules = state.rules.clone();
    let today = chrono::Local::now().date_naive();
    state
        .blocking(move |store| store.decide_link(&actor, &decision, &rules, today))
        .await
}

/// Decides whether two records are one person: the same person merges their persons (one
/// chronology), different people keeps or splits them apart. Kept, audited, and never
/// overridden by automatic linking; the persons' flags are re-evaluated at once.
#[utoipa::path(post, path = "/api/v1/link-decisions", tag = "identity",
    security(("session" = [])),
    request_body = LinkDecision,
    responses(
        (status = 200, description = "The decision, applied", body = Decided),
        (status = 400, description = "Not a decision", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not a safeguarding lead", body = ErrorBody),
        (status = 422, description = "No such record, no reason, or a contradiction of earlier decisions", body = ErrorBody),
    ))]
pub(crate) async fn post_link_decision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Json<Decided>, Error> {
    let decision: LinkDecision =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
            .map_err(|e| {
                let error = FieldError::new(e.path().to_string(), e.inner().to_string());
                if e.inner().is_data() {
                    Error::Invalid(vec![error])
                } else {
                    Error::BadRequest(vec![error])
                }
            })?;
    Ok(Json(decide(&state, &caller, decision).await?))
}

async fn review_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let reviews = queue(&state, &caller, QUEUE_LIMIT).await?;
    let names = agency_names(&state).await?;
    Ok(render(&caller, &reviews, &names, None))
}

/// Agencies' names by identifier, for people to read.
async fn agency_names(state: &AppState) -> Result<HashMap<String, String>, Error> {
    let agencies = state.blocking(|store| store.agencies()).await?;
    Ok(agencies
        .into_iter()
        .map(|a| (a.id.as_str().to_owned(), a.name))
        .collect())
}

async fn decide_from_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, Error> {
    let record = |name: &str| {
        form_field(&body, name)
            .and_then(|v| v.parse::<RecordId>().ok())
            .ok_or_else(|| Error::bad_parameter(name, "not a record identifier"))
    };
    let verdict = match form_field(&body, "verdict").as_deref() {
        Some("same_person") => Some(Verdict::SamePerson),
        Some("different_people") => Some(Verdict::DifferentPeople),
        _ => None,
    };
    let (a, b) = (record("a")?, record("b")?);
    let problem = match verdict {
        None => Some("Choose the same person or different people".to_owned()),
        Some(verdict) => {
            let reason = form_field(&body, "reason").unwrap_or_default();
            match decide(
                &state,
                &caller,
                LinkDecision {
                    a,
                    b,
                    verdict,
                    reason,
                },
            )
            .await
            {
                Ok(_) => None,
                Err(Error::Invalid(fields)) => Some(
                    fields
                        .first()
                        .map_or("The decision was refused".to_owned(), |f| f.reason.clone()),
                ),
                Err(e) => return Err(e),
            }
        }
    };
    match problem {
        None => Ok(Redirect::to("/link-reviews").into_response()),
        Some(message) => {
            let reviews = queue(&state, &caller, QUEUE_LIMIT).await?;
            let names = agency_names(&state).await?;
            let page = render(&caller, &reviews, &names, Some((a, b, &message)));
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

fn percent(p: f64) -> String {
    format!("{:.1}%", p * 100.0)
}

fn bits(weight: f64) -> String {
    format!("{weight:+.1}")
}

/// What one record says on the comparison an evidence row is about.
fn value(side: &LinkSide, comparison: Field) -> String {
    let r = &side.details;
    let or_not = |v: Option<String>| v.unwrap_or_else(|| "Not recorded".to_owned());
    match comparison {
        Field::GivenName => or_not((!r.name.given.is_empty()).then(|| r.name.given.join(" "))),
        Field::FamilyName => or_not(r.name.family.clone()),
        Field::BirthDate => date_of_birth(r.date_of_birth),
        Field::Sex => or_not(r.sex.map(|s| format!("{s:?}").to_lowercase())),
        Field::Home => or_not(r.addresses.first().map(|a| a.display())),
        Field::NhsNumber => or_not(r.nhs_number.as_ref().map(|n| n.to_string())),
    }
}

fn render(
    caller: &Caller,
    reviews: &[LinkReview],
    agencies: &HashMap<String, String>,
    problem: Option<(RecordId, RecordId, &str)>,
) -> Html<String> {
    let csrf = caller
        .session()
        .map(|s| s.csrf_token.clone())
        .unwrap_or_default();
    layout(
        if problem.is_some() {
            "Error: Possible matches to review"
        } else {
            "Possible matches to review"
        },
        caller.session(),
        html! {
            @if let Some((a, b, message)) = problem {
                @let n = reviews.iter().position(|r| r.a.record == a && r.b.record == b).map_or(1, |n| n + 1);
                (error_summary(&[(format!("pair-{n}-same"), message.to_owned())]))
            }
            h1 class="govuk-heading-l" { "Possible matches to review" }
            p class="govuk-body" { "Each pair below may be one person recorded by two agencies, or two people. Compare the records and decide. Your decision changes whose chronology each record's entries are in, at once; it is kept with your reason and your name, and automatic linking never overrides it." }
            @if reviews.is_empty() {
                p class="govuk-body" { "Nothing is waiting for a decision." }
            }
            @for (n, r) in reviews.iter().enumerate() {
                (pair(n + 1, r, agencies, &csrf, problem.filter(|(a, b, _)| *a == r.a.record && *b == r.b.record).map(|p| p.2)))
            }
        },
    )
}

fn pair(
    n: usize,
    r: &LinkReview,
    agencies: &HashMap<String, String>,
    csrf: &str,
    problem: Option<&str>,
) -> Markup {
    let agency = |side: &LinkSide| {
        agencies
            .get(&side.agency)
            .cloned()
            .unwrap_or_else(|| side.agency.clone())
    };
    let id = format!("pair-{n}");
    let weight = |w: String| html! { span class="app-nowrap" { (w) } };
    let mut rows: Vec<TableRow> = r
        .evidence
        .iter()
        .map(|e| {
            TableRow::new(vec![
                html! { strong { (crate::ui::capitalised(e.comparison.name())) } },
                html! { (value(&r.a, e.comparison)) },
                html! { (value(&r.b, e.comparison)) },
                html! { (e.level_name()) },
                weight(bits(e.against_unrelated)),
                weight(bits(e.against_household)),
            ])
        })
        .collect();
    rows.push(TableRow::new(vec![
        html! { strong { "Before comparing" } },
        html! { "How often candidate pairs are the same person" },
        html! {},
        html! {},
        weight(bits(r.prior_against_unrelated)),
        weight(bits(r.prior_against_household)),
    ]));
    rows.push(TableRow::new(vec![
        html! { strong { "Total" } },
        html! { "Positive: evidence for the same person. Each step of 1 doubles the odds." },
        html! {},
        html! {},
        html! { strong { (bits(r.total_against_unrelated)) } },
        html! { strong { (r.total_against_household.map_or(String::new(), bits)) } },
    ]));
    let (a_agency, b_agency) = (agency(&r.a), agency(&r.b));
    html! {
        section class="app-review" aria-labelledby=(id) {
            h2 class="govuk-heading-m" id=(id) { "Pair " (n) ": " (percent(r.probability)) " likely the same person" }
            p class="govuk-hint" { "Not linked automatically: " (r.reason) "." }
            (table("The two records compared, with the weight of each comparison", true,
                &[Column::text("Comparison"), Column::text(&a_agency), Column::text(&b_agency), Column::text("How they compare"),
                  Column::numeric("Weight against unrelated people"), Column::numeric("Weight against another person at the same home")],
                rows))
            form method="post" action="/link-reviews" novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                input type="hidden" name="a" value=(r.a.record);
                input type="hidden" name="b" value=(r.b.record);
                div class={ "govuk-form-group" @if problem.is_some() { " govuk-form-group--error" } } {
                    fieldset class="govuk-fieldset" {
                        legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Are these records of one person?" }
                        @if let Some(message) = problem {
                            (crate::ui::error_message(&id, message))
                        }
                        div class="govuk-radios" data-module="govuk-radios" {
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" type="radio" id={ (id) "-same" } name="verdict" value="same_person";
                                label class="govuk-label govuk-radios__label" for={ (id) "-same" } { "The same person: put their records in one chronology" }
                            }
                            div class="govuk-radios__item" {
                                input class="govuk-radios__input" type="radio" id={ (id) "-different" } name="verdict" value="different_people";
                                label class="govuk-label govuk-radios__label" for={ (id) "-different" } { "Different people: keep them apart" }
                            }
                        }
                    }
                }
                div class="govuk-form-group" {
                    label class="govuk-label govuk-label--s" for={ (id) "-reason" } { "What did you check?" }
                    textarea class="govuk-textarea" id={ (id) "-reason" } name="reason" rows="2" {}
                }
                button class="govuk-button" type="submit" data-module="govuk-button" { "Save decision" }
            }
        }
    }
}
