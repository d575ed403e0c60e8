//! Involvements: a child's status for the agencies that record about them, the requests to be
//! involved that wait for the lead professional, and their decisions (README "Access and
//! audit").

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use safeguard_core::access::Role;
use safeguard_core::{AgencyId, FieldError, PersonId};
use safeguard_store::involvement::{ChildStatus, PendingInvolvement};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::persons::{load_person, parse_person_id};
use crate::ui::{Column, TableRow, table};
use crate::{AppState, Error, ErrorBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/persons/{id}/status", get(get_status))
        .route("/api/v1/involvements", get(get_involvements))
        .route(
            "/api/v1/persons/{id}/involvements",
            post(post_involvement_decision),
        )
        .route("/api/v1/evaluation-failures", get(get_evaluation_failures))
        .route("/evaluation-failures", get(evaluation_failures_page))
}

/// The same list for people: what could not be evaluated, since when, and why, so that an
/// administrator can mend the rules or the calendar.
async fn evaluation_failures_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::response::Html<String>, Error> {
    let failures = state.blocking(|store| store.evaluation_failures()).await?;
    Ok(crate::ui::layout(
        "Children whose rules could not be evaluated",
        caller.session(),
        maud::html! {
            h1 class="govuk-heading-l" { "Children whose rules could not be evaluated" }
            @if failures.is_empty() {
                p class="govuk-body" { "Every child's rules and clocks were evaluated." }
            } @else {
                p class="govuk-body" {
                    "Their entries are stored; their flags are those of the last evaluation that "
                    "succeeded. Each is evaluated again every day, and at once when anything "
                    "is recorded about them. Mend the cause (often a year missing from the "
                    "bank holidays calendar) and run " code { "safeguard rules tick" } "."
                }
                (table("Children whose rules could not be evaluated, most recent first", true,
                    &[Column::text("Child"), Column::text("Why"), Column::text("First failed (UTC)"), Column::text("Last failed (UTC)"), Column::numeric("Attempts")],
                    failures.iter().map(|f| TableRow::new(vec![
                        maud::html! { a class="govuk-link app-wrap" href={ "/persons/" (f.person) } { code { (f.person) } } },
                        maud::html! { (f.reason) },
                        maud::html! { span class="app-nowrap" { (plain_time(&f.first_failed_at)) } },
                        maud::html! { span class="app-nowrap" { (plain_time(&f.last_failed_at)) } },
                        maud::html! { (f.attempts) },
                    ]))))
            }
        },
    ))
}

/// An RFC 3339 time as people read it ("2 Dec 2026 14:57"), or as it is if it does not parse.
fn plain_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%-d %b %Y %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// Children whose rules or clocks could not be evaluated.
#[derive(Serialize, ToSchema)]
pub(crate) struct EvaluationFailuresResponse {
    /// Most recent first.
    failures: Vec<safeguard_store::flags::EvaluationFailure>,
}

/// Children whose rules or clocks could not be evaluated (a year missing from the calendar, a
/// rule that errs): their entries are stored, and each is re-evaluated every day until mended.
/// For administrators and safeguarding leads.
#[utoipa::path(get, path = "/api/v1/evaluation-failures", tag = "involvements",
    security(("session" = [])),
    responses(
        (status = 200, description = "Children that cannot be evaluated", body = EvaluationFailuresResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator or safeguarding lead", body = ErrorBody),
    ))]
pub(crate) async fn get_evaluation_failures(
    State(state): State<AppState>,
) -> Result<Json<EvaluationFailuresResponse>, Error> {
    let failures = state.blocking(|store| store.evaluation_failures()).await?;
    Ok(Json(EvaluationFailuresResponse { failures }))
}

/// The child's status: whether a child protection plan is in force, the lead professional
/// (whom to call), and each agency's standing. For anyone who reads the record, and for an
/// agency that recorded about the child while its involvement awaits confirmation.
#[utoipa::path(get, path = "/api/v1/persons/{id}/status", tag = "involvements",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    responses(
        (status = 200, description = "The child's status", body = ChildStatus),
        (status = 400, description = "Not a person identifier", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "Your agency has not recorded about this child", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    ))]
pub(crate) async fn get_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ChildStatus>, Error> {
    let id = parse_person_id(&id)?;
    load_person(&state, id).await?;
    Ok(Json(
        state.blocking(move |store| store.child_status(id)).await?,
    ))
}

/// Requests to be involved, waiting for a decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvolvementsResponse {
    /// Oldest first.
    requests: Vec<PendingInvolvement>,
}

/// Agencies that recorded about a child others hold and wait to be confirmed: a safeguarding
/// lead sees every request, a lead professional those about their children, anyone else none.
#[utoipa::path(get, path = "/api/v1/involvements", tag = "involvements",
    security(("session" = [])),
    responses(
        (status = 200, description = "Requests waiting, oldest first", body = InvolvementsResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a person", body = ErrorBody),
    ))]
pub(crate) async fn get_involvements(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<InvolvementsResponse>, Error> {
    let user = caller
        .session()
        .map(|s| s.user.clone())
        .ok_or_else(|| Error::Forbidden("this list is for people".into()))?;
    let requests = state
        .blocking(move |store| {
            if user.roles.contains(&Role::SafeguardingLead) {
                store.pending_involvements(None)
            } else {
                store.pending_involvements(Some(&user.id))
            }
        })
        .await?;
    Ok(Json(InvolvementsResponse { requests }))
}

/// A decision on an agency's involvement with a child.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvolvementDecision {
    /// The agency asking to be involved.
    agency: String,
    /// `confirm` (the agency reads the whole record while it keeps recording) or `decline`.
    decision: Verdict,
    /// Why, in a sentence: audited and shown to the agency.
    reason: String,
}

/// Confirm or decline.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// The agency's involvement is confirmed.
    Confirm,
    /// It is declined (or a confirmation withdrawn); recording again asks again.
    Decline,
}

/// Confirms or declines an agency's involvement with the child: the lead professional or a
/// safeguarding lead. Audited with its reason; the agency sees it in the child's status.
#[utoipa::path(post, path = "/api/v1/persons/{id}/involvements", tag = "involvements",
    security(("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    request_body = InvolvementDecision,
    responses(
        (status = 204, description = "Decided"),
        (status = 400, description = "Not a person identifier, or not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not the lead professional or a safeguarding lead", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
        (status = 422, description = "No such request, or no reason", body = ErrorBody),
    ))]
pub(crate) async fn post_involvement_decision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Error> {
    let id = parse_person_id(&id)?;
    let decision: InvolvementDecision =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
            .map_err(|e| {
                Error::BadRequest(vec![FieldError::new(
                    e.path().to_string(),
                    e.inner().to_string(),
                )])
            })?;
    let agency = AgencyId::parse(&decision.agency)
        .map_err(|e| Error::Invalid(vec![FieldError::new("agency", e.to_string())]))?;
    let reason = safeguard_core::text::reason("reason", &decision.reason)
        .map_err(|e| Error::Invalid(vec![e]))?;
    load_person(&state, id).await?;
    let actor = caller.actor();
    let confirm = matches!(decision.decision, Verdict::Confirm);
    state
        .blocking(move |store| store.decide_involvement(&actor, id, &agency, confirm, &reason))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
