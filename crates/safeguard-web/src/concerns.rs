//! Acting on a concern the rules raised on a child's record: acknowledging it with what is
//! being done, or (a team manager, a safeguarding lead) assigning it to a worker of their
//! agency. The page is reached from the concern on the child's page, behind the same access
//! rule as the record itself; what is done is kept, audited and shown with the concern.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::{Markup, html};
use safeguard_core::{FieldError, PersonId, access};
use safeguard_store::flag_actions::{FlagAction, FlagActionRecord};
use safeguard_store::flags::StoredFlag;
use safeguard_store::{Actor, StoreError};
use serde::Deserialize;

use crate::auth::{CSRF_FIELD, Caller, OwnEntriesOnly};
use crate::persons::{load_person, parse_person_id};
use crate::ui::{error_message, error_summary, layout};
use crate::{AppState, Error};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/persons/{id}/concerns",
        get(concern_page).post(concern_submit),
    )
}

/// The concern a page is about.
#[derive(Deserialize)]
struct WhichConcern {
    flag: Option<String>,
}

/// The element id of a concern on the child's page.
pub(crate) fn anchor(flag_key: &str) -> String {
    let safe: String = flag_key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("concern-{safe}")
}

/// The address of the page acting on a concern.
pub(crate) fn href(child: PersonId, flag_key: &str) -> String {
    let query = serde_urlencoded::to_string([("flag", flag_key)]).unwrap_or_default();
    format!("/persons/{child}/concerns?{query}")
}

/// What the caller may do here: acknowledge (any caseworker), and assign too (a manager, a
/// lead). Reading the whole record is the route's rule; an agency that may read only its
/// own entries acts on nothing.
fn may_act(caller: &Caller, own_only: bool) -> Result<bool, Error> {
    let principal = caller.principal();
    if caller.session().is_none() || own_only || !access::may_acknowledge_flag(&principal) {
        return Err(Error::Forbidden(
            "acting on a concern is for caseworkers who may read the whole record".into(),
        ));
    }
    Ok(access::may_assign_flag(&principal))
}

/// What the page shows: the concern, what was done about it, and the workers it may go to.
struct Context {
    child: PersonId,
    name: String,
    flag: StoredFlag,
    done: Vec<FlagActionRecord>,
    workers: Vec<(String, String)>,
    assigns: bool,
    csrf: String,
}

async fn context(
    state: &AppState,
    caller: &Caller,
    child: PersonId,
    flag_key: &str,
    assigns: bool,
) -> Result<Context, Error> {
    let person = load_person(state, child).await?;
    let agency = caller.principal().agency().clone();
    let key = flag_key.to_owned();
    let (flag, done, workers) = state
        .blocking(move |store| {
            let flag = store
                .flags(child)?
                .into_iter()
                .find(|f| f.flag.key() == key);
            let done = store
                .flag_actions(child)?
                .into_iter()
                .filter(|a| a.flag_key == key)
                .collect::<Vec<_>>();
            let workers = store
                .users()?
                .into_iter()
                .filter(|u| {
                    u.agency == agency && !u.disabled && u.roles.iter().any(|r| r.works_cases())
                })
                .map(|u| (u.id, u.display_name))
                .collect::<Vec<_>>();
            Ok((flag, done, workers))
        })
        .await?;
    let flag = flag.ok_or_else(|| {
        Error::NotFound("no such open concern on this record; it may have been resolved".into())
    })?;
    Ok(Context {
        child,
        name: person.display_name(),
        flag,
        done,
        workers,
        assigns,
        csrf: caller
            .session()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
    })
}

async fn concern_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    own_only: Option<Extension<OwnEntriesOnly>>,
    Path(id): Path<String>,
    Query(which): Query<WhichConcern>,
) -> Result<Response, Error> {
    let child = parse_person_id(&id)?;
    let assigns = may_act(&caller, own_only.is_some())?;
    let key = which.flag.unwrap_or_default();
    let context = context(&state, &caller, child, &key, assigns).await?;
    Ok(page(&caller, &context, &Form::default(), &[]).into_response())
}

/// What the form sent.
#[derive(Default)]
struct Form {
    action: String,
    reason: String,
    assignee: String,
}

async fn concern_submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    own_only: Option<Extension<OwnEntriesOnly>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| Error::BadRequest(vec![FieldError::new("", format!("not a form: {e}"))]))?;
    let child = parse_person_id(&id)?;
    let assigns = may_act(&caller, own_only.is_some())?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let key = field("flag");
    let form = Form {
        action: field("action"),
        reason: field("reason"),
        assignee: field("assignee"),
    };
    let action = match form.action.as_str() {
        "acknowledge" => FlagAction::Acknowledge {
            reason: form.reason.clone(),
        },
        "assign" if assigns => {
            if form.assignee.is_empty() {
                let error = FieldError::new("assignee", "Choose who is to act on this concern");
                return shown_again(&state, &caller, child, &key, assigns, &form, error).await;
            }
            FlagAction::Assign {
                to: form.assignee.clone(),
            }
        }
        "assign" => {
            return Err(Error::Forbidden(
                "assigning a concern is for team managers and safeguarding leads".into(),
            ));
        }
        _ => {
            return Err(Error::BadRequest(vec![FieldError::new(
                "action",
                "must be acknowledge or assign",
            )]));
        }
    };
    let session = caller
        .session()
        .ok_or_else(|| Error::Forbidden("sign in to act on a concern".into()))?;
    let agency = session.user.agency.clone();
    let actor: Actor = caller.actor();
    let flag = key.clone();
    let done = state
        .blocking(move |store| Ok(store.act_on_flag(&actor, &agency, child, &flag, &action)))
        .await?;
    match done {
        Ok(done) => {
            let query =
                serde_urlencoded::to_string([("acted", done.id.as_str())]).unwrap_or_default();
            Ok(Redirect::to(&format!(
                "/persons/{child}?{query}#{}",
                anchor(&done.flag_key)
            ))
            .into_response())
        }
        Err(StoreError::Invalid { error, .. }) => {
            shown_again(&state, &caller, child, &key, assigns, &form, error).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again with what was sent and its mistake; read only when there is one (a
/// concern no longer open is a 404 page here).
async fn shown_again(
    state: &AppState,
    caller: &Caller,
    child: PersonId,
    key: &str,
    assigns: bool,
    form: &Form,
    error: FieldError,
) -> Result<Response, Error> {
    let context = context(state, caller, child, key, assigns).await?;
    Ok(page(caller, &context, form, &[error]).into_response())
}

/// A person with their agency, once (a name may carry it already).
fn who(name: &str, agency: &str) -> String {
    if name.contains(agency) {
        name.to_owned()
    } else {
        format!("{name} ({agency})")
    }
}

/// What has been done about a concern, a line each, oldest first.
pub(crate) fn history(done: &[&FlagActionRecord]) -> Markup {
    html! {
        @for a in done {
            p class="govuk-body-s govuk-!-margin-bottom-1" {
                strong class="govuk-tag govuk-tag--grey" {
                    (if a.action == "acknowledged" { "Acknowledged" } else { "Assigned" })
                }
                " " (a.at.format("%-d %b %Y %H:%M")) " by " (who(&a.user_name, &a.agency_name))
                @if let Some(to) = &a.assignee_name { " to " (to) }
                @if let Some(reason) = &a.reason { ": " (reason) }
            }
        }
    }
}

fn page(caller: &Caller, context: &Context, form: &Form, errors: &[FieldError]) -> Response {
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.reason.as_str())
    };
    let title = if errors.is_empty() {
        "Act on a concern".to_owned()
    } else {
        "Error: Act on a concern".to_owned()
    };
    let flag = &context.flag.flag;
    let done: Vec<&FlagActionRecord> = context.done.iter().collect();
    let body = html! {
        a class="govuk-back-link" href={ "/persons/" (context.child) "#" (anchor(&flag.key())) } { "Back to " (context.name) }
        @if !errors.is_empty() {
            (error_summary(&errors.iter().map(|e| (field_target(&e.field), e.reason.clone())).collect::<Vec<_>>()))
        }
        span class="govuk-caption-l" { (context.name) }
        h1 class="govuk-heading-l" { "Act on a concern" }
        div class={ "app-flag app-flag--" (crate::pages::severity(flag.severity)) } {
            p class="govuk-body" {
                strong class={ "govuk-tag " (crate::pages::severity_tag(flag.severity)) } { (crate::pages::severity(flag.severity)) }
                " " (flag.sentence)
            }
            p class="govuk-body-s" {
                "Could be known from " (flag.first_knowable.format("%-d %B %Y")) "; "
                (flag.entries.len()) " " (if flag.entries.len() == 1 { "entry" } else { "entries" }) " of evidence."
            }
            @if done.is_empty() {
                p class="govuk-body-s" { "Nobody has acted on it yet." }
            } @else {
                (history(&done))
            }
        }
        // Two plain forms, not radios revealing fields: each does one thing, works without
        // JavaScript, and has no ARIA the specification does not allow.
        form method="post" action={ "/persons/" (context.child) "/concerns" } novalidate {
            input type="hidden" name=(CSRF_FIELD) value=(context.csrf);
            input type="hidden" name="flag" value=(flag.key());
            input type="hidden" name="action" value="acknowledge";
            h2 class="govuk-heading-m" { "Acknowledge it" }
            div class={ "govuk-form-group" @if error_of("reason").is_some() { " govuk-form-group--error" } } {
                label class="govuk-label" for="reason" { "What is being done, or why nothing more is needed" }
                div class="govuk-hint" id="reason-hint" { "A sentence or two; it is kept with the concern and in the record's access log." }
                @if let Some(e) = error_of("reason") {
                    (error_message("reason", e))
                }
                textarea class={ "govuk-textarea" @if error_of("reason").is_some() { " govuk-textarea--error" } } id="reason" name="reason" rows="4"
                    aria-describedby={ "reason-hint" @if error_of("reason").is_some() { " reason-error" } } { (form.reason) }
            }
            button type="submit" class="govuk-button" data-module="govuk-button" { "Acknowledge" }
        }
        @if context.assigns {
            form method="post" action={ "/persons/" (context.child) "/concerns" } novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(context.csrf);
                input type="hidden" name="flag" value=(flag.key());
                input type="hidden" name="action" value="assign";
                h2 class="govuk-heading-m" { "Assign it to a worker" }
                div class={ "govuk-form-group" @if error_of("assignee").is_some() { " govuk-form-group--error" } } {
                    label class="govuk-label" for="assignee" { "Who is to act on it" }
                    @if let Some(e) = error_of("assignee") {
                        (error_message("assignee", e))
                    }
                    select class={ "govuk-select" @if error_of("assignee").is_some() { " govuk-select--error" } } id="assignee" name="assignee"
                        aria-describedby=[error_of("assignee").map(|_| "assignee-error")] {
                        option value="" { "Choose a worker" }
                        @for (id, name) in &context.workers {
                            option value=(id) selected[form.assignee == *id] { (name) }
                        }
                    }
                }
                button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Assign" }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, layout(&title, caller.session(), body)).into_response()
}

/// The element an error links to.
fn field_target(field: &str) -> String {
    match field {
        "flag" | "action" => "reason".to_owned(),
        other => other.to_owned(),
    }
}
