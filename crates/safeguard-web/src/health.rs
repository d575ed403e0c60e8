//! Liveness: `GET /healthz` answers when the process can serve and reach its database.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{AppState, Error};

/// The health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when answered.
    status: &'static str,
    /// `sqlite` or `postgres`.
    engine: &'static str,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Whether the service is up and its database answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Up", body = Health)))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Error> {
    state.blocking(|store| store.entry_count()).await?;
    Ok(Json(Health {
        status: "ok",
        engine: state.store.engine_name(),
    }))
}
