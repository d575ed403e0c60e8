//! `GET /api/openapi.json`: the API's OpenAPI document, generated from the handlers' code.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Safeguard", description = "The multi-agency child safeguarding record."),
    paths(
        crate::health::healthz,
        crate::entries::create_entries,
        crate::persons::search_persons,
        crate::persons::get_person,
        crate::persons::get_chronology,
        crate::persons::get_household,
        crate::persons::get_access_log,
        crate::persons::get_flags,
        crate::persons::get_alerts,
        crate::persons::break_glass,
        crate::identity::get_link_reviews,
        crate::identity::post_link_decision,
        crate::involvements::get_status,
        crate::involvements::get_involvements,
        crate::involvements::post_involvement_decision,
        crate::involvements::get_evaluation_failures,
        crate::fhir::post_bundle,
        crate::fhir::get_everything,
    ),
    modifiers(&Security),
    tags(
        (name = "entries", description = "Recording what agencies know"),
        (name = "persons", description = "Persons, their chronologies and households"),
        (name = "alerts", description = "What other agencies recorded about your children"),
        (name = "involvements", description = "Which agencies are involved with a child, confirmed by the lead professional"),
        (name = "identity", description = "Deciding whether agencies' records are one person"),
        (name = "fhir", description = "FHIR R4 (UK Core): an agency's Bundle in, a child's record out"),
    )
)]
pub struct ApiDoc;

/// The two ways to authenticate: an agency's API token, or a person's session cookie (with
/// the `X-CSRF-Token` header on unsafe requests).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
