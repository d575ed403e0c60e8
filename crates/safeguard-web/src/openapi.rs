//! `GET /api/openapi.json`: the API's OpenAPI document, generated from the handlers' code.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

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
    ),
    tags(
        (name = "entries", description = "Recording what agencies know"),
        (name = "persons", description = "Persons, their chronologies and households"),
    )
)]
pub struct ApiDoc;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
