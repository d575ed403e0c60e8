//! Signing in and out, breaking glass, and the pages that show who looked at a record.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::html;
use safeguard_store::accounts::{SESSION_SECONDS, SignInFailure, new_token};
use safeguard_store::audit::AuditEvent;
use std::time::Instant;

use crate::auth::{
    CSRF_FIELD, Caller, SESSION_COOKIE, SIGN_IN_CSRF_COOKIE, client_address, constant_time_eq,
    cookie, form_field,
};
use crate::persons::{access_log, grant_break_glass, load_person, parse_person_id};
use crate::ui::{Column, TableRow, capitalised, error_summary, layout, table};
use crate::{AppState, Error};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route(
            "/persons/{id}/break-glass",
            get(break_glass_page).post(break_glass),
        )
        .route("/persons/{id}/access-log", get(access_log_page))
        .route("/break-glass", get(break_glass_report))
        .route("/alerts", get(alerts_page))
}

fn cookie_header(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The sign-in page, with the error (linked to the user name) when there is one.
fn sign_in_form(csrf: &str, user: &str, error: Option<&str>) -> Html<String> {
    layout(
        if error.is_some() {
            "Error: Sign in"
        } else {
            "Sign in"
        },
        None,
        html! {
            @if let Some(error) = error {
                (error_summary(&[("user".to_owned(), error.to_owned())]))
            }
            h1 class="govuk-heading-l" { "Sign in" }
            form method="post" action="/sign-in" novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
                    label class="govuk-label" for="user" { "User name" }
                    @if let Some(error) = error {
                        (crate::ui::error_message("user", error))
                    }
                    input class={ "govuk-input govuk-!-width-two-thirds" @if error.is_some() { " govuk-input--error" } } id="user" name="user" type="text" autocomplete="username" spellcheck="false" autocapitalize="none" value=(user) aria-describedby=[error.map(|_| "user-error")];
                }
                div class="govuk-form-group" {
                    label class="govuk-label" for="password" { "Password" }
                    input class="govuk-input govuk-!-width-two-thirds" id="password" name="password" type="password" autocomplete="current-password";
                }
                button class="govuk-button" type="submit" data-module="govuk-button" { "Sign in" }
            }
        },
    )
}

/// The sign-in form, with a fresh double-submit CSRF token in a cookie and the form.
async fn sign_in_page(State(state): State<AppState>) -> Response {
    let csrf = new_token();
    (
        [(
            header::SET_COOKIE,
            cookie_header(&state, SIGN_IN_CSRF_COOKIE, &csrf, 3600),
        )],
        sign_in_form(&csrf, "", None),
    )
        .into_response()
}

/// Checks the password; on success sets the session cookie and goes home.
async fn sign_in(State(state): State<AppState>, request: Request) -> Result<Response, Error> {
    let address = client_address(&request, state.config.trusted_proxy);
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|_| Error::TooLarge("the form is too large".into()))?;
    let expected = cookie(&headers, SIGN_IN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let sent = form_field(&body, CSRF_FIELD).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(&sent, &expected) {
        return Err(Error::Forbidden(
            "the sign-in form has expired: open it again".into(),
        ));
    }
    let user = form_field(&body, "user").unwrap_or_default();
    let refuse = |message: &str| {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            sign_in_form(&expected, &user, Some(message)),
        )
            .into_response()
    };
    let password = form_field(&body, "password").unwrap_or_default();
    // Waiting is asked of this name from this address only: it reveals nothing about the
    // name (unknown names are counted alike) and locks nobody out.
    if let Some(wait) = state.throttle.wait_at(&user, address, Instant::now()) {
        let seconds = wait.as_secs().max(1);
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            sign_in_form(
                &expected,
                &user,
                Some(&format!(
                    "Too many failed attempts. Wait {} and try again.",
                    wait_text(seconds)
                )),
            ),
        )
            .into_response());
    }
    let name = user.clone();
    let result = state
        .blocking(move |store| store.sign_in(&name, &password))
        .await?;
    match result {
        Ok((token, session)) => {
            state.throttle.succeeded(&user, address);
            Ok((
                [(
                    header::SET_COOKIE,
                    cookie_header(&state, SESSION_COOKIE, &token, SESSION_SECONDS),
                )],
                Redirect::to(crate::landing::landing(&session.user.roles)),
            )
                .into_response())
        }
        Err(SignInFailure::Refused) => {
            state.throttle.failed_at(&user, address, Instant::now());
            Ok(refuse("The user name or password is wrong."))
        }
    }
}

/// A wait for people: `40 seconds`, `3 minutes`.
fn wait_text(seconds: u64) -> String {
    match seconds {
        1 => "1 second".to_owned(),
        s if s < 90 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// Ends the session on the server and clears the cookie.
async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, Error> {
    if let Some(session) = caller.session().cloned() {
        state
            .blocking(move |store| store.sign_out(&session))
            .await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            cookie_header(&state, SESSION_COOKIE, "", 0),
        )],
        Redirect::to("/sign-in"),
    )
        .into_response())
}

async fn break_glass_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Html<String>, Error> {
    break_glass_form(&state, &caller, &id, None).await
}

async fn break_glass_form(
    state: &AppState,
    caller: &Caller,
    id: &str,
    error: Option<&str>,
) -> Result<Html<String>, Error> {
    let id = parse_person_id(id)?;
    let person = load_person(state, id).await?;
    let session = caller.session();
    let csrf = session.map(|s| s.csrf_token.clone()).unwrap_or_default();
    Ok(layout(
        if error.is_some() {
            "Error: Why do you need to read this record?"
        } else {
            "Why do you need to read this record?"
        },
        session,
        html! {
            @if let Some(error) = error {
                (error_summary(&[("reason".to_owned(), error.to_owned())]))
            }
            span class="govuk-caption-l" { (person.display_name()) }
            form method="post" action={ "/persons/" (id) "/break-glass" } novalidate {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
                    h1 class="govuk-label-wrapper" {
                        label class="govuk-label govuk-label--l" for="reason" { "Why do you need to read this record?" }
                    }
                    div class="govuk-hint" id="reason-hint" {
                        "Your agency is not involved with this child, or its involvement is waiting to be confirmed. "
                        "Say in a sentence what has happened and why it cannot wait, for example: "
                        "\"Child brought to A&E out of hours with a head injury; I need to see if there are earlier concerns.\""
                    }
                    @if let Some(error) = error {
                        (crate::ui::error_message("reason", error))
                    }
                    textarea class={ "govuk-textarea" @if error.is_some() { " govuk-textarea--error" } } id="reason" name="reason" rows="4"
                        aria-describedby={ "reason-hint" @if error.is_some() { " reason-error" } } {}
                }
                div class="govuk-warning-text" {
                    span class="govuk-warning-text__icon" aria-hidden="true" { "!" }
                    strong class="govuk-warning-text__text" {
                        span class="govuk-visually-hidden" { "Warning" }
                        "Your reason, your name and the time are recorded. The child's lead professional and the safeguarding leads of your agency and of the child's agencies see them."
                    }
                }
                div class="govuk-button-group" {
                    button class="govuk-button govuk-button--warning" type="submit" data-module="govuk-button" { "Read the record" }
                    a class="govuk-link" href="/" { "Cancel" }
                }
            }
        },
    ))
}

async fn break_glass(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Error> {
    let person = parse_person_id(&id)?;
    let reason = form_field(&body, "reason").unwrap_or_default();
    match grant_break_glass(&state, &caller, person, reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{person}")).into_response()),
        Err(Error::Invalid(fields)) => {
            let message = fields.first().map(|f| f.reason.clone()).unwrap_or_default();
            let page = break_glass_form(&state, &caller, &id, Some(&message)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

fn access_table(events: &[crate::persons::AccessEvent]) -> maud::Markup {
    table(
        "Every read and change, most recent first",
        true,
        &[
            Column::text("When (UTC)"),
            Column::text("Who"),
            Column::text("Agency"),
            Column::text("Did"),
            Column::text("Reason"),
        ],
        events.iter().map(|e| {
            TableRow::new(vec![
                html! { span class="app-nowrap" { (e.at.format("%-d %b %Y %H:%M")) } },
                html! { (e.actor) },
                html! { (e.agency.as_deref().unwrap_or("")) },
                html! { (capitalised(&e.action.replace('_', " "))) },
                html! { (e.reason.as_deref().unwrap_or("")) },
            ])
        }),
    )
}

async fn access_log_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Html<String>, Error> {
    let id = parse_person_id(&id)?;
    let person = load_person(&state, id).await?;
    let events = access_log(&state, id).await?;
    Ok(layout(
        "Who looked at this record",
        caller.session(),
        html! {
            span class="govuk-caption-l" { (person.display_name()) }
            h1 class="govuk-heading-l" { "Who looked at this record" }
            (access_table(&events))
        },
    ))
}

/// A safeguarding lead's list of break-glass reads by their agency's users.
async fn break_glass_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> Result<Html<String>, Error> {
    let _ = headers;
    let agency = caller.principal().agency().clone();
    let events = state
        .blocking(move |store| store.break_glass_by_agency(&agency))
        .await?;
    let events: Vec<crate::persons::AccessEvent> = events.into_iter().map(Into::into).collect();
    Ok(layout(
        "Break-glass reads by your agency",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Break-glass reads by your agency" }
            @if events.is_empty() { p class="govuk-body" { "Nobody in your agency has broken glass." } } @else { (access_table(&events)) }
        },
    ))
}

/// The signed-in professional's alerts.
async fn alerts_page(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Html<String>, Error> {
    let user = caller
        .session()
        .map(|s| s.user.id.clone())
        .unwrap_or_default();
    let actor = caller.actor();
    let (alerts, assigned, names, agencies) = state
        .blocking(move |store| {
            let alerts = store.alerts(&user)?;
            let assigned = store.assigned_to(&user)?;
            let children: std::collections::BTreeSet<safeguard_core::PersonId> = alerts
                .iter()
                .map(|a| a.person)
                .chain(assigned.iter().map(|a| a.person))
                .collect();
            let names =
                crate::landing::display_names(store, &children.into_iter().collect::<Vec<_>>())?;
            // The page names children and their concerns: each child's access log says so.
            let events: Vec<AuditEvent> = names
                .keys()
                .map(|child| AuditEvent::new("read_alerts", child.to_string()))
                .collect();
            store.record_access(&actor, &events)?;
            let agencies: std::collections::HashMap<String, String> = store
                .agencies()?
                .into_iter()
                .map(|a| (a.id.as_str().to_owned(), a.name))
                .collect();
            Ok((alerts, assigned, names, agencies))
        })
        .await?;
    let child = |p: &safeguard_core::PersonId| {
        names
            .get(p)
            .cloned()
            .unwrap_or_else(|| "A child".to_owned())
    };
    let agency = |id: &str| agencies.get(id).cloned().unwrap_or_else(|| id.to_owned());
    Ok(layout(
        "Alerts",
        caller.session(),
        html! {
            h1 class="govuk-heading-l" { "Alerts" }
            @if !assigned.is_empty() {
                h2 class="govuk-heading-m" { "Concerns assigned to you" }
                (table("Concerns assigned to you, most recent first", true,
                    &[Column::text("Assigned (UTC)"), Column::text("Child"), Column::text("Concern"), Column::text("By")],
                    assigned.iter().map(|a| TableRow {
                        id: None,
                        class: None,
                        cells: vec![
                            html! { span class="app-nowrap" { (a.at.format("%-d %b %Y %H:%M")) } },
                            html! { a class="govuk-link" href={ "/persons/" (a.person) "#" (crate::concerns::anchor(&a.flag.flag.key())) } { (child(&a.person)) } },
                            html! {
                                strong class={ "govuk-tag " (crate::pages::severity_tag(a.flag.flag.severity)) } { (crate::pages::severity(a.flag.flag.severity)) }
                                " " (a.flag.flag.sentence)
                            },
                            html! { (a.by) },
                        ],
                    })))
                h2 class="govuk-heading-m" { "What other agencies recorded" }
            }
            @if alerts.is_empty() {
                p class="govuk-body" { "No other agency has recorded anything about the children you hold." }
            } @else {
                (table("Alerts, most recent first; unread in bold", true,
                    &[Column::text("When (UTC)"), Column::text("Child"), Column::text("Agency"), Column::text("What happened")],
                    alerts.iter().map(|a| TableRow {
                        id: None,
                        class: (!a.read).then_some("app-table__row--unread"),
                        cells: vec![
                            html! { span class="app-nowrap" { (a.created_at.format("%-d %b %Y %H:%M")) } },
                            html! { a class="govuk-link" href={ "/persons/" (a.person) "#entry-" (a.entry) } { (child(&a.person)) } },
                            html! { (agency(&a.agency)) },
                            html! {
                                @match &a.reason {
                                    Some(reason) => (reason),
                                    None => (safeguard_core::EntryKind::parse(&a.kind).map_or_else(|| capitalised(&a.kind.replace('_', " ")), |k| k.label().to_owned())),
                                }
                            },
                        ],
                    })))
            }
        },
    ))
}
