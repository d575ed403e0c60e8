//! Signing in and out, breaking glass, and the pages that show who looked at a record.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use maud::html;
use safeguard_store::accounts::{SESSION_SECONDS, SignInFailure, new_token};
use std::time::Instant;

use crate::auth::{
    CSRF_FIELD, Caller, SESSION_COOKIE, SIGN_IN_CSRF_COOKIE, client_address, constant_time_eq,
    cookie, form_field,
};
use crate::pages::layout;
use crate::persons::{access_log, grant_break_glass, load_person, parse_person_id};
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

fn sign_in_form(csrf: &str, error: Option<&str>) -> maud::Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(error) = error {
            div class="error-summary" role="alert" {
                h2 { "There is a problem" }
                p { (error) }
            }
        }
        form method="post" action="/sign-in" {
            input type="hidden" name=(CSRF_FIELD) value=(csrf);
            div class="field" {
                label class="label" for="user" { "User name" }
                input class="input" id="user" name="user" type="text" autocomplete="username" spellcheck="false";
            }
            div class="field" {
                label class="label" for="password" { "Password" }
                input class="input" id="password" name="password" type="password" autocomplete="current-password";
            }
            button class="button" type="submit" { "Sign in" }
        }
    }
}

/// The sign-in form, with a fresh double-submit CSRF token in a cookie and the form.
async fn sign_in_page(State(state): State<AppState>) -> Response {
    let csrf = new_token();
    (
        [(
            header::SET_COOKIE,
            cookie_header(&state, SIGN_IN_CSRF_COOKIE, &csrf, 3600),
        )],
        layout("Sign in", None, sign_in_form(&csrf, None)),
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
    let refuse = |message: &str| {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            layout("Sign in", None, sign_in_form(&expected, Some(message))),
        )
            .into_response()
    };
    let user = form_field(&body, "user").unwrap_or_default();
    let password = form_field(&body, "password").unwrap_or_default();
    // Waiting is asked of this name from this address only: it reveals nothing about the
    // name (unknown names are counted alike) and locks nobody out.
    if let Some(wait) = state.throttle.wait_at(&user, address, Instant::now()) {
        let seconds = wait.as_secs().max(1);
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            layout(
                "Sign in",
                None,
                sign_in_form(
                    &expected,
                    Some(&format!(
                        "Too many failed attempts. Wait {} and try again.",
                        wait_text(seconds)
                    )),
                ),
            ),
        )
            .into_response());
    }
    let name = user.clone();
    let result = state
        .blocking(move |store| store.sign_in(&name, &password))
        .await?;
    match result {
        Ok((token, _session)) => {
            state.throttle.succeeded(&user, address);
            Ok((
                [(
                    header::SET_COOKIE,
                    cookie_header(&state, SESSION_COOKIE, &token, SESSION_SECONDS),
                )],
                Redirect::to("/"),
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
        "Your agency is not involved with this child",
        session,
        html! {
            @if let Some(error) = error {
                div class="error-summary" role="alert" {
                    h2 { "There is a problem" }
                    p { a href="#reason" { (error) } }
                }
            }
            h1 { "Your agency is not involved with this child" }
            p { "To read " (person.display_name()) "'s record, say why. Your reason, your name and the time are recorded, and your agency's safeguarding lead sees them." }
            form method="post" action={ "/persons/" (id) "/break-glass" } {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div class="field" {
                    label class="label" for="reason" { "Reason" }
                    textarea class="input textarea" id="reason" name="reason" rows="4" {}
                }
                button class="button warning" type="submit" { "Read the record" }
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
    html! {
        table class="table" {
            thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "Agency" } th scope="col" { "Did" } th scope="col" { "Reason" } } }
            tbody {
                @for e in events {
                    tr {
                        td class="nowrap" { (e.at.format("%-d %b %Y %H:%M")) }
                        td { (e.actor) }
                        td { (e.agency.as_deref().unwrap_or("")) }
                        td { (e.action.replace('_', " ")) }
                        td { (e.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
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
            span class="caption" { (person.display_name()) }
            h1 { "Who looked at this record" }
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
            h1 { "Break-glass reads by your agency" }
            @if events.is_empty() { p { "None." } } @else { (access_table(&events)) }
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
    let alerts = state.blocking(move |store| store.alerts(&user)).await?;
    Ok(layout(
        "Alerts",
        caller.session(),
        html! {
            h1 { "Alerts" }
            @if alerts.is_empty() {
                p { "No other agency has recorded anything about the children you hold." }
            } @else {
                table class="table" {
                    thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Agency" } th scope="col" { "Recorded" } th scope="col" { "Child" } } }
                    tbody {
                        @for a in &alerts {
                            tr class=[(!a.read).then_some("unread")] {
                                td class="nowrap" { (a.created_at.format("%-d %b %Y %H:%M")) }
                                td { (a.agency) }
                                td {
                                    @match &a.reason {
                                        Some(reason) => (reason),
                                        None => (a.kind.replace('_', " ")),
                                    }
                                }
                                td { a href={ "/persons/" (a.person) "#entry-" (a.entry) } { "Open the record" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}
