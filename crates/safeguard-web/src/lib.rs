//! Safeguard's HTTP edge: the JSON API under `/api/v1` with its OpenAPI document at
//! `/api/openapi.json`, and HTML pages. Handlers parse and answer; the store and the pure core
//! do the work.

mod entries;
mod error;
mod health;
mod openapi;
mod pages;
mod persons;

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use safeguard_store::{Store, StoreError};

pub use error::{Error, ErrorBody, Params};
pub use openapi::ApiDoc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The record.
    pub store: Store,
}

impl AppState {
    /// Runs blocking store work off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| Error::Internal(format!("store task failed: {e}")))?
            .map_err(Error::from)
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(entries::router())
        .merge(persons::router())
        .merge(openapi::router())
        .merge(pages::router())
        .fallback(error::not_found)
        .with_state(state)
        .layer(middleware::from_fn(log_request))
}

/// Logs method, route pattern, status and time: never the URL itself, whose query may hold a
/// name or a date of birth typed into search.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Serves the application on `listener` until Ctrl-C.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
