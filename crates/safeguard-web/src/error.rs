//! The one error type of the HTTP edge and the JSON shape every error response has.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use safeguard_core::FieldError;
use safeguard_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// Why a request failed.
#[derive(Debug)]
pub enum Error {
    /// 400: the request cannot be read (not JSON, a bad parameter).
    BadRequest(Vec<FieldError>),
    /// 422: the request was read but its content is invalid; nothing was written.
    Invalid(Vec<FieldError>),
    /// 401: no valid session or API token.
    Unauthenticated,
    /// 403: the caller may not do this.
    Forbidden(String),
    /// 403: reading this child's record needs a break-glass reason first.
    BreakGlassRequired,
    /// 403: the caller's agency recorded about this child, but its involvement awaits the
    /// lead professional's or a safeguarding lead's confirmation.
    InvolvementUnconfirmed,
    /// 404: no such resource.
    NotFound(String),
    /// 409: the request contradicts what is stored; nothing was written.
    Conflict(Vec<FieldError>),
    /// 429: the caller made too many requests; retry after this many seconds.
    RateLimited(u64),
    /// 413: the body is larger than the route accepts.
    TooLarge(String),
    /// 500: logged, never sent.
    Internal(String),
}

/// Every error response: a code, a sentence, and the fields at fault.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `bad_request`, `invalid`, `unauthenticated`, `forbidden`, `break_glass_required`,
    /// `involvement_unconfirmed`, `conflict`, `rate_limited`, `not_found`, `too_large` or `internal`.
    pub error: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Each field at fault and why.
    pub fields: Vec<FieldErrorBody>,
}

/// A field at fault.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// Path of the field (`[2].persons[0].record.nhs_number`; empty for the whole body).
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

impl Error {
    /// A bad query or path parameter.
    pub fn bad_parameter(name: &str, reason: impl Into<String>) -> Self {
        Error::BadRequest(vec![FieldError::new(name, reason)])
    }
}

/// Query parameters whose syntax errors (a repeated or malformed parameter) are answered in the
/// API's error shape, not as plain text.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Params(params))
            .map_err(|rejection| Error::bad_parameter("query", rejection.body_text()))
    }
}

impl From<BytesRejection> for Error {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge(rejection.body_text())
        } else {
            Error::BadRequest(vec![FieldError::new("", rejection.body_text())])
        }
    }
}

/// The answer to any path that is not a route.
pub async fn not_found() -> Error {
    Error::NotFound("no such page or resource".to_owned())
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid { index, error } => Error::Invalid(vec![match index {
                Some(i) => error.within(&format!("[{i}]")),
                None => error,
            }]),
            StoreError::Conflict { index, error } => Error::Conflict(vec![match index {
                Some(i) => error.within(&format!("[{i}]")),
                None => error,
            }]),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code, message, fields) = match self {
            Error::BadRequest(fields) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request could not be read".to_owned(),
                fields,
            ),
            Error::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "the request is invalid; nothing was written".to_owned(),
                fields,
            ),
            Error::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "sign in, or send an agency API token as a Bearer token".to_owned(),
                Vec::new(),
            ),
            Error::Forbidden(why) => (StatusCode::FORBIDDEN, "forbidden", why, Vec::new()),
            Error::BreakGlassRequired => (
                StatusCode::FORBIDDEN,
                "break_glass_required",
                "your agency has no open involvement with this child: to read the record, break glass with a reason (POST .../break-glass); it is audited and reported".to_owned(),
                Vec::new(),
            ),
            Error::InvolvementUnconfirmed => (
                StatusCode::FORBIDDEN,
                "involvement_unconfirmed",
                "your agency's involvement with this child awaits confirmation by the lead professional or a safeguarding lead: until then you see your own agency's entries (GET .../chronology) and the child's status (GET .../status), or break glass with a reason".to_owned(),
                Vec::new(),
            ),
            Error::Conflict(fields) => (
                StatusCode::CONFLICT,
                "conflict",
                "the request contradicts what is already recorded; nothing was written".to_owned(),
                fields,
            ),
            Error::RateLimited(seconds) => {
                let body = ErrorBody {
                    error: "rate_limited",
                    message: format!("too many requests: try again in {seconds} seconds"),
                    fields: Vec::new(),
                };
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, seconds.to_string())],
                    Json(body),
                )
                    .into_response();
            }
            Error::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what, Vec::new()),
            Error::TooLarge(what) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", what, Vec::new()),
            Error::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged".to_owned(),
                    Vec::new(),
                )
            }
        };
        let fields = fields
            .into_iter()
            .map(|f| FieldErrorBody {
                field: f.field,
                reason: f.reason,
            })
            .collect();
        (
            status,
            Json(ErrorBody {
                error: code,
                message,
                fields,
            }),
        )
            .into_response()
    }
}
