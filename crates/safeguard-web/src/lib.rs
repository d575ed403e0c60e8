//! Safeguard's HTTP edge: the JSON API under `/api/v1` with its OpenAPI document at
//! `/api/openapi.json`, and HTML pages. Handlers parse and answer; the store and the pure core
//! do the work.

pub mod auth;
mod concerns;
mod entries;
mod error;
mod fhir;
mod forms;
mod health;
mod identity;
mod involvements;
mod landing;
mod openapi;
mod overview;
mod pages;
mod persons;
mod practice_review;
pub mod ratelimit;
mod recording;
pub mod review_export;
mod session;
pub mod throttle;
mod timeline;
mod ui;
pub mod webhooks;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use safeguard_store::{Store, StoreError};

pub use error::{Error, ErrorBody, Params};
pub use openapi::ApiDoc;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// An agency's established involvement with a child lasts this many days after Safeguard
    /// received its latest entry naming the child (a local policy).
    pub involvement_days: i64,
    /// Mark cookies `Secure` (served over TLS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Certificate authorities (a PEM file) trusted for agencies' `https://` webhooks besides
    /// the system's: an agency network's own authority.
    pub webhook_ca: Option<std::path::PathBuf>,
    /// The reverse proxy in front of the server, whose `X-Forwarded-For` names the client.
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// Requests each caller (user or API token) may make per minute.
    pub requests_per_minute: u32,
    /// How long a connection may take to send a request's headers.
    pub header_timeout: std::time::Duration,
    /// How long a request may take to send its body.
    pub body_timeout: std::time::Duration,
    /// The most connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            involvement_days: safeguard_store::DEFAULT_INVOLVEMENT_DAYS,
            secure_cookies: false,
            webhook_ca: None,
            trusted_proxy: None,
            requests_per_minute: ratelimit::DEFAULT_REQUESTS_PER_MINUTE,
            header_timeout: std::time::Duration::from_secs(10),
            body_timeout: std::time::Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The record.
    pub store: Store,
    /// Settings.
    pub config: Config,
    /// Failed sign-ins by account and address.
    pub throttle: std::sync::Arc<throttle::Throttle>,
    /// Requests by caller.
    pub rate_limits: std::sync::Arc<ratelimit::RateLimits>,
    /// The rules, clocks and calendar flags are evaluated with.
    pub rules: std::sync::Arc<safeguard_core::rules::RuleBook>,
}

impl AppState {
    /// State for serving `store` with `config`.
    pub fn new(store: Store, config: Config) -> Self {
        store.set_involvement_days(config.involvement_days);
        Self {
            store,
            rate_limits: std::sync::Arc::new(ratelimit::RateLimits::new(
                config.requests_per_minute,
            )),
            config,
            throttle: Default::default(),
            rules: std::sync::Arc::new(safeguard_core::rules::RuleBook::shipped()),
        }
    }

    /// The same state with other rules (a local safeguarding partnership's).
    pub fn with_rules(self, rules: safeguard_core::rules::RuleBook) -> Self {
        Self {
            rules: std::sync::Arc::new(rules),
            ..self
        }
    }
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
        .merge(fhir::router())
        .merge(persons::router())
        .merge(identity::router())
        .merge(involvements::router())
        .merge(openapi::router())
        .merge(pages::router())
        .merge(session::router())
        .merge(ui::router())
        .merge(landing::router())
        .merge(recording::router())
        .merge(concerns::router())
        .merge(practice_review::router())
        // After routing, so that the rule is looked up by the matched route.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .fallback(error::not_found)
        // Outside the routes and the fallback, so that every page route's error is a page.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ui::error_pages,
        ))
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(
            state,
            auth::security_headers,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
}

/// Largest request body anywhere (the entries route accepts the most).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

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

/// Threads for blocking store work (every request's reads and writes). Enough for every
/// pooled connection to be busy with the writer and the audit waits beside them, few enough
/// that a small machine does not spend itself switching between hundreds: on two cores, with
/// 48 readers and 16 appenders, read p99 fell from 61-75 ms (tokio's default of 512) to
/// 40-45 ms (`bench load`).
pub const BLOCKING_THREADS: usize = 32;

/// The runtime the server runs on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
}

/// Serves the application on `listener` until Ctrl-C, delivering webhooks meanwhile. Each
/// connection must send its headers within `header_timeout` and each body within
/// `body_timeout`, and at most `max_connections` are served at once: a client that opens
/// connections and never finishes them cannot hold the server.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let client = webhooks::WebhookClient::new(state.config.webhook_ca.as_deref())
        .map_err(std::io::Error::other)?;
    webhooks::spawn_worker(state.store.clone(), client);
    spawn_daily_reevaluation(state.clone());
    serve_connections(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Re-evaluates at start and on each new day what time alone changes: clocks run on with
/// nothing recorded, so the case where nothing is recorded is the one that must still
/// escalate.
fn spawn_daily_reevaluation(state: AppState) {
    tokio::spawn(async move {
        let mut done: Option<chrono::NaiveDate> = None;
        loop {
            let today = chrono::Local::now().date_naive();
            if done != Some(today) {
                let store = state.store.clone();
                let rules = state.rules.clone();
                let run = tokio::task::spawn_blocking(move || {
                    let actor = safeguard_store::Actor::system("daily-tick");
                    store.tick(&actor, &rules, today, |_, _| {})
                })
                .await;
                match run {
                    Ok(Ok(t)) => tracing::info!(
                        children = t.children,
                        raised = t.raised,
                        updated = t.updated,
                        resolved = t.resolved,
                        failed = t.failed,
                        "daily re-evaluation"
                    ),
                    Ok(Err(e)) => tracing::error!(error = %e, "daily re-evaluation failed"),
                    Err(e) => tracing::error!(error = %e, "daily re-evaluation stopped"),
                }
                done = Some(today);
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}

/// The accept loop of [`serve`], stopping when `shutdown` completes.
pub async fn serve_connections(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use tower::ServiceExt;
    let Config {
        header_timeout,
        body_timeout,
        max_connections,
        ..
    } = state.config.clone();
    let router = app(state);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => return Ok(()),
        };
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let router = router.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let mut request = request.map(|body| {
                        axum::body::Body::new(tower_http::timeout::TimeoutBody::new(
                            body_timeout,
                            body,
                        ))
                    });
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(address));
                    router.clone().oneshot(request)
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}
