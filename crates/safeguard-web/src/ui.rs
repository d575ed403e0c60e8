//! The pages' frame and shared pieces, built from GOV.UK Frontend's components: the layout
//! (generic header, service navigation, phase banner, footer), tables that stack on a phone,
//! the error summary, and error pages for every page route. Safeguard is a public service
//! that is not on GOV.UK, so it uses the generic header and Arial, as the Design System asks.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Router, body::Bytes};
use maud::{DOCTYPE, Markup, html};
use safeguard_core::access::Role;
use safeguard_store::accounts::Session;

use crate::AppState;
use crate::auth::CSRF_FIELD;

/// The web assets, built by `scripts/build-frontend` from the GOV.UK Frontend release that
/// `frontend/package-lock.json` pins, and embedded: nothing is fetched at run time.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/assets/safeguard.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/safeguard.css"),
    ),
    (
        "/assets/govuk-frontend.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/govuk-frontend.min.js"),
    ),
    (
        "/assets/app.mjs",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.mjs"),
    ),
    (
        "/assets/favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
];

/// Whether `path` is one of the embedded assets (public, like the sign-in page).
pub(crate) fn is_asset(path: &str) -> bool {
    ASSETS.iter().any(|(p, _, _)| *p == path)
}

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (path, content_type, bytes) in ASSETS {
        router = router.route(
            path,
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, *content_type),
                        // Assets change only with a release; an hour spares every page view a
                        // request each without keeping an old stylesheet for long.
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    Bytes::from_static(bytes),
                )
            }),
        );
    }
    router
}

/// A link in the service navigation, shown to the roles that may follow it.
struct NavItem {
    href: &'static str,
    text: &'static str,
    shown: fn(&[Role]) -> bool,
}

const NAVIGATION: &[NavItem] = &[
    NavItem {
        href: "/team",
        text: "Your team",
        shown: |roles| roles.contains(&Role::TeamManager),
    },
    NavItem {
        href: "/reviews",
        text: "Children under review",
        shown: |roles| roles.contains(&Role::ReviewPanel),
    },
    NavItem {
        href: "/",
        text: "Find a person",
        shown: |roles| roles.iter().any(|r| r.searches()),
    },
    NavItem {
        href: "/alerts",
        text: "Alerts",
        shown: |_| true,
    },
    NavItem {
        href: "/link-reviews",
        text: "Possible matches",
        shown: |roles| roles.iter().any(|r| r.resolves_identity()),
    },
    NavItem {
        href: "/break-glass",
        text: "Break-glass reads",
        shown: |roles| roles.contains(&Role::SafeguardingLead),
    },
    NavItem {
        href: "/evaluation-failures",
        text: "Evaluation failures",
        shown: |roles| {
            roles
                .iter()
                .any(|r| matches!(r, Role::Administrator | Role::SafeguardingLead))
        },
    },
    NavItem {
        href: "/admin",
        text: "Users and agencies",
        shown: |roles| roles.contains(&Role::Administrator),
    },
    NavItem {
        href: "/audit",
        text: "Audit log",
        shown: |roles| roles.contains(&Role::Auditor),
    },
];

/// A page: the header, the navigation for the signed-in user's roles (with sign-out), then
/// `body`. `title` is the page's `h1`; prefix it with "Error: " when the page shows errors.
pub(crate) fn layout(title: &str, session: Option<&Session>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" class="govuk-template" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover";
                    meta name="theme-color" content="#1d70b8";
                    title { (title) " – Safeguard" }
                    link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                    link rel="stylesheet" href="/assets/safeguard.css";
                }
                body class="govuk-template__body" {
                    a href="#main-content" class="govuk-skip-link" data-module="govuk-skip-link" { "Skip to main content" }
                    header class="govuk-generic-header" {
                        div class="govuk-generic-header__container govuk-width-container" {
                            div class="govuk-generic-header__logo" {
                                a href="/" class="govuk-generic-header__homepage-link" { "Safeguard" }
                            }
                            @if let Some(s) = session {
                                div class="app-header-account" {
                                    span { "Signed in as " strong { (s.user.display_name) } }
                                    form method="post" action="/sign-out" {
                                        input type="hidden" name=(CSRF_FIELD) value=(s.csrf_token);
                                        button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Sign out" }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(s) = session {
                        section class="govuk-service-navigation" aria-label="Service information" data-module="govuk-service-navigation" {
                            div class="govuk-width-container" {
                                div class="govuk-service-navigation__container" {
                                    nav aria-label="Menu" class="govuk-service-navigation__wrapper" {
                                        button type="button" class="govuk-service-navigation__toggle govuk-js-service-navigation-toggle" aria-controls="navigation" hidden { "Menu" }
                                        ul class="govuk-service-navigation__list" id="navigation" {
                                            @for item in NAVIGATION.iter().filter(|i| (i.shown)(&s.user.roles)) {
                                                li class="govuk-service-navigation__item" {
                                                    a class="govuk-service-navigation__link" href=(item.href) { (item.text) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    div class="govuk-width-container" {
                        div class="govuk-phase-banner" {
                            p class="govuk-phase-banner__content" {
                                strong class="govuk-tag govuk-phase-banner__content__tag" { "Beta" }
                                span class="govuk-phase-banner__text" {
                                    "OFFICIAL-SENSITIVE. Every read of a child's record is recorded."
                                }
                            }
                        }
                        main class="govuk-main-wrapper" id="main-content" { (body) }
                    }
                    footer class="govuk-footer" {
                        div class="govuk-width-container" {
                            div class="govuk-footer__meta" {
                                div class="govuk-footer__meta-item govuk-footer__meta-item--grow" {
                                    p class="govuk-body-s" {
                                        "Safeguard is open-source software under the Apache License 2.0. "
                                        "Records shown here are OFFICIAL-SENSITIVE: do not print or share them outside the partnership's rules."
                                    }
                                }
                            }
                        }
                    }
                    script type="module" src="/assets/app.mjs" {}
                }
            }
        }
        .into_string(),
    )
}

/// A column of a [`table`].
pub(crate) struct Column<'a> {
    pub heading: &'a str,
    pub numeric: bool,
}

impl<'a> Column<'a> {
    pub(crate) fn text(heading: &'a str) -> Self {
        Self {
            heading,
            numeric: false,
        }
    }

    pub(crate) fn numeric(heading: &'a str) -> Self {
        Self {
            heading,
            numeric: true,
        }
    }
}

/// A row of a [`table`]: its cells, and an `id` to link to.
#[derive(Default)]
pub(crate) struct TableRow {
    pub id: Option<String>,
    pub class: Option<&'static str>,
    pub cells: Vec<Markup>,
}

impl TableRow {
    pub(crate) fn new(cells: Vec<Markup>) -> Self {
        Self {
            cells,
            ..Self::default()
        }
    }
}

/// A GOV.UK table that stacks, one block per row with each cell under its column's name, on
/// a phone-width screen. The caption is visually hidden when `caption_hidden`.
pub(crate) fn table(
    caption: &str,
    caption_hidden: bool,
    columns: &[Column],
    rows: impl IntoIterator<Item = TableRow>,
) -> Markup {
    let cell_class = |c: &Column| {
        if c.numeric {
            "govuk-table__cell govuk-table__cell--numeric"
        } else {
            "govuk-table__cell"
        }
    };
    html! {
        table class="govuk-table app-table--stacked" {
            caption class={ "govuk-table__caption govuk-table__caption--s" @if caption_hidden { " govuk-visually-hidden" } } { (caption) }
            thead class="govuk-table__head" {
                tr class="govuk-table__row" {
                    @for c in columns {
                        th scope="col" class={ "govuk-table__header" @if c.numeric { " govuk-table__header--numeric" } } { (c.heading) }
                    }
                }
            }
            tbody class="govuk-table__body" {
                @for row in rows {
                    tr class={ "govuk-table__row" @if let Some(c) = row.class { " " (c) } } id=[row.id] {
                        @for (cell, column) in row.cells.into_iter().zip(columns) {
                            td class=(cell_class(column)) data-label=(column.heading) { (cell) }
                        }
                    }
                }
            }
        }
    }
}

/// The GOV.UK error summary: each error links to its field (`#id`).
/// A GOV.UK date input: day, month and year apart, as people write dates. The day's input
/// has the id `id` (what an error summary links to), the others `ID-month` and `ID-year`;
/// `names` are the three inputs' names and `values` what they hold.
pub(crate) fn date_input(
    id: &str,
    names: [&str; 3],
    values: [&str; 3],
    legend: Markup,
    hint: &str,
    error: Option<&str>,
) -> Markup {
    let ids = [id.to_owned(), format!("{id}-month"), format!("{id}-year")];
    let labels = [("Day", 2), ("Month", 2), ("Year", 4)];
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            fieldset class="govuk-fieldset" role="group" aria-describedby={ (id) "-hint" @if error.is_some() { " " (id) "-error" } } {
                (legend)
                div class="govuk-hint" id={ (id) "-hint" } { (hint) }
                @if let Some(e) = error { (error_message(id, e)) }
                div class="govuk-date-input" id={ (id) "-input" } {
                    @for (i, (label, width)) in labels.iter().enumerate() {
                        div class="govuk-date-input__item" {
                            div class="govuk-form-group" {
                                label class="govuk-label govuk-date-input__label" for=(ids[i]) { (label) }
                                input class={ "govuk-input govuk-date-input__input govuk-input--width-" (width) @if error.is_some() { " govuk-input--error" } }
                                    id=(ids[i]) name=(names[i]) type="text" inputmode="numeric" value=(values[i]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The date a date input's day, month and year make: `None` when all three are blank, an
/// error naming `field` (as `what`, "The date it happened") when they are not a real date.
pub(crate) fn date_from_parts(
    field: &str,
    what: &str,
    [day, month, year]: [&str; 3],
) -> Result<Option<chrono::NaiveDate>, safeguard_core::FieldError> {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return Ok(None);
    }
    match (
        day.parse::<u32>(),
        month.parse::<u32>(),
        year.parse::<i32>(),
    ) {
        (Ok(d), Ok(m), Ok(y)) if y >= 1000 => chrono::NaiveDate::from_ymd_opt(y, m, d),
        _ => None,
    }
    .map(Some)
    .ok_or_else(|| {
        safeguard_core::FieldError::new(
            field,
            format!("{what} must be a real date, like 27 3 2007"),
        )
    })
}

/// A field's error message, above the field (`FIELD-error`, for its `aria-describedby`).
pub(crate) fn error_message(field: &str, message: &str) -> Markup {
    html! {
        p class="govuk-error-message" id={ (field) "-error" } { span class="govuk-visually-hidden" { "Error:" } " " (capitalised(message)) }
    }
}

pub(crate) fn error_summary(errors: &[(String, String)]) -> Markup {
    html! {
        div class="govuk-error-summary" data-module="govuk-error-summary" {
            div role="alert" {
                h2 class="govuk-error-summary__title" { "There is a problem" }
                div class="govuk-error-summary__body" {
                    ul class="govuk-list govuk-error-summary__list" {
                        @for (field, message) in errors {
                            li { a href={ "#" (field) } { (capitalised(message)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `text` with its first letter in capitals (the API's messages start in lower case), as an
/// error message is written: no full stop.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `text` as a sentence: capitalised, ending in a full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = capitalised(text.trim());
    if text.is_empty() || text.ends_with(['.', '!', '?']) {
        text
    } else {
        format!("{text}.")
    }
}

/// Every page route's errors as pages, never JSON: 400, 403, 404, 409, 422, 429 and 500 each
/// get a GOV.UK error page with the signed-in header and a way on. The API keeps its JSON.
pub(crate) async fn error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/api/") || request.uri().path().starts_with("/fhir/") {
        return next.run(request).await;
    }
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let status = response.status();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let body = axum::body::to_bytes(response.into_body(), 256 * 1024)
        .await
        .unwrap_or_default();
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let message = error["message"].as_str().unwrap_or_default();
    let fields: Vec<(String, String)> = error["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some((
                f["field"].as_str()?.to_owned(),
                f["reason"].as_str()?.to_owned(),
            ))
        })
        .collect();
    // Who is signed in, for the header; an error page for someone not signed in has none.
    let session = crate::auth::session_of(&state.store, &headers).await;
    let (title, body) = error_page_body(status, message, &fields, session.is_some());
    let mut page = (status, layout(title, session.as_ref(), body)).into_response();
    if let Some(retry_after) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, retry_after);
    }
    page
}

fn error_page_body(
    status: StatusCode,
    message: &str,
    fields: &[(String, String)],
    signed_in: bool,
) -> (&'static str, Markup) {
    let way_on = html! {
        p class="govuk-body" {
            @if signed_in {
                a class="govuk-link" href="/" { "Find a person" } " or see your " a class="govuk-link" href="/alerts" { "alerts" } "."
            } @else {
                a class="govuk-link" href="/sign-in" { "Sign in" } "."
            }
        }
    };
    let what = |fields: &[(String, String)]| {
        html! {
            @if !fields.is_empty() {
                ul class="govuk-list govuk-list--bullet" {
                    @for (field, reason) in fields {
                        li {
                            @if field.is_empty() { (capitalised(reason)) } @else { strong { (field) } ": " (reason) }
                        }
                    }
                }
            }
        }
    };
    match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            html! {
                h1 class="govuk-heading-l" { "Page not found" }
                p class="govuk-body" { "If you typed the web address, check it is correct." }
                p class="govuk-body" { "If you followed a link to a person, the record may have been joined to another person's or may not exist." }
                (way_on)
            },
        ),
        StatusCode::FORBIDDEN => (
            "You cannot open this page",
            html! {
                h1 class="govuk-heading-l" { "You cannot open this page" }
                p class="govuk-body" { (sentence(message)) }
                p class="govuk-body" { "Your attempt has been recorded. If you need this page for your work, ask your agency's safeguarding lead." }
                (way_on)
            },
        ),
        StatusCode::BAD_REQUEST => (
            "There is a problem with the web address",
            html! {
                h1 class="govuk-heading-l" { "There is a problem with the web address" }
                p class="govuk-body" { "Part of the address could not be read:" }
                (what(fields))
                (way_on)
            },
        ),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT => (
            "Nothing was saved",
            html! {
                h1 class="govuk-heading-l" { "Nothing was saved" }
                p class="govuk-body" { (sentence(message)) }
                (what(fields))
                (way_on)
            },
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many requests",
            html! {
                h1 class="govuk-heading-l" { "You have made too many requests" }
                p class="govuk-body" { "Wait a minute, then try again." }
                (way_on)
            },
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "What you sent is too large",
            html! {
                h1 class="govuk-heading-l" { "What you sent is too large" }
                p class="govuk-body" { (sentence(message)) }
                (way_on)
            },
        ),
        _ if status.is_server_error() => (
            "Sorry, there is a problem with the service",
            html! {
                h1 class="govuk-heading-l" { "Sorry, there is a problem with the service" }
                p class="govuk-body" { "Try again later. Nothing you were doing has been half-saved: a change is either saved whole or not at all." }
                (way_on)
            },
        ),
        _ => (
            "There is a problem",
            html! {
                h1 class="govuk-heading-l" { "There is a problem" }
                p class="govuk-body" { (sentence(message)) }
                (way_on)
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_date_is_read_from_its_three_parts_or_named_as_wrong() {
        let day = |d, m, y| date_from_parts("from", "From", [d, m, y]);
        assert_eq!(day("", " ", ""), Ok(None));
        assert_eq!(
            day("3", "8", "2007"),
            Ok(chrono::NaiveDate::from_ymd_opt(2007, 8, 3))
        );
        assert_eq!(
            day(" 03 ", "08", "2007"),
            Ok(chrono::NaiveDate::from_ymd_opt(2007, 8, 3))
        );
        for wrong in [
            ("30", "2", "2007"),
            ("3", "", "2007"),
            ("3", "8", "07"),
            ("x", "8", "2007"),
        ] {
            let e = day(wrong.0, wrong.1, wrong.2).unwrap_err();
            assert_eq!(e.field, "from", "{wrong:?}");
            assert_eq!(e.reason, "From must be a real date, like 27 3 2007");
        }
    }

    use super::*;

    #[test]
    fn messages_become_sentences_once() {
        assert_eq!(
            sentence("your role does not read children's records"),
            "Your role does not read children's records."
        );
        assert_eq!(sentence("Already one."), "Already one.");
        assert_eq!(capitalised("ébauche"), "Ébauche");
        assert_eq!(sentence(""), "");
    }
}
