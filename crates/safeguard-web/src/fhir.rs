//! FHIR R4: `POST /fhir/Bundle`, an agency system's transaction Bundle stored as entries
//! (atomic, checked as every entry is); `GET /fhir/Patient/{id}/$everything`, a child's record
//! as a Bundle with the CP-IS-style Flag, behind the same access rule and audit as reading the
//! chronology (see `safeguard_interop::fhir`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use safeguard_core::access::Principal;
use safeguard_core::{FieldError, PersonId};
use safeguard_interop::fhir;
use safeguard_store::Outcome;
use serde_json::{Value, json};

use crate::auth::{Caller, OwnEntriesOnly};
use crate::persons::parse_person_id;
use crate::{AppState, Error, ErrorBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/fhir/Bundle", post(post_bundle))
        .route("/fhir/Patient/{id}/$everything", get(get_everything))
}

/// FHIR's JSON media type.
const FHIR_JSON: &str = "application/fhir+json";

/// A FHIR resource as the answer.
fn fhir_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        body.to_string(),
    )
        .into_response()
}

/// Stores a FHIR R4 transaction Bundle (Patient, RelatedPerson, Encounter, Condition,
/// Observation, Flag) sent by an agency's system as its entries: all or none, every fault named
/// by resource and element. Sending it again stores nothing. Answers a `transaction-response`
/// Bundle.
#[utoipa::path(post, path = "/fhir/Bundle", tag = "fhir", security(("token" = [])),
    request_body(content = Object, content_type = "application/fhir+json", description = "A FHIR R4 Bundle (transaction)"),
    responses(
        (status = 201, description = "At least one entry was stored", body = Object, content_type = "application/fhir+json"),
        (status = 200, description = "Every entry was already stored", body = Object, content_type = "application/fhir+json"),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an agency's system, or not for its agency", body = ErrorBody),
        (status = 409, description = "A resource already recorded with other content; nothing was stored", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "A resource cannot be read; nothing was stored", body = ErrorBody),
    ))]
pub(crate) async fn post_bundle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    let Principal::AgencySystem { agency, .. } = caller.principal() else {
        return Err(Error::Forbidden(
            "a FHIR Bundle is sent by an agency's system, with its token".into(),
        ));
    };
    let body = body?;
    let bundle: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::BadRequest(vec![FieldError::new("", format!("not JSON: {e}"))]))?;
    let entries =
        fhir::read_bundle_json(&bundle, &agency, chrono::Utc::now()).map_err(|faults| {
            Error::Invalid(
                faults
                    .into_iter()
                    .map(|f| FieldError::new(format!("{}.{}", f.resource, f.field), f.reason))
                    .collect(),
            )
        })?;
    if entries.is_empty() {
        return Err(Error::Invalid(vec![FieldError::new(
            "entry",
            "holds no Encounter, Condition, Observation or Flag to record",
        )]));
    }
    crate::entries::check_recording(&caller, &entries, |i, field| format!("entry[{i}].{field}"))?;
    let (status, results) = crate::entries::store_entries(&state, &caller, entries, true).await?;
    let response = json!({
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": results.iter().map(|r| json!({
            "response": {
                "status": if r.outcome == Outcome::Created { "201 Created" } else { "200 OK" },
                "location": format!("/api/v1/entries/{}", r.id),
            }
        })).collect::<Vec<_>>(),
    });
    Ok(fhir_json(status, &response))
}

/// The child's record as a FHIR R4 Bundle: the Patient (NHS number as
/// `https://fhir.nhs.uk/Id/nhs-number`), the people named with them, a resource per entry
/// about them, and a CP-IS-style Flag while they are on a child protection plan. Read under the
/// same rule as the chronology, and audited.
#[utoipa::path(get, path = "/fhir/Patient/{id}/$everything", tag = "fhir",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    responses(
        (status = 200, description = "The child's record", body = Object, content_type = "application/fhir+json"),
        (status = 400, description = "Not a person identifier", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "No access to this child's record", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    ))]
pub(crate) async fn get_everything(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    own_only: Option<Extension<OwnEntriesOnly>>,
) -> Result<Response, Error> {
    let id = parse_person_id(&id)?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost")
        .to_owned();
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let own = own_only.map(|Extension(OwnEntriesOnly(agency))| agency);
    let bundle = state
        .blocking(move |store| {
            let Some(person) = store.person(id)? else {
                return Ok(None);
            };
            let Some(mut child) = store.child(id)? else {
                return Ok(None);
            };
            // An agency whose involvement awaits confirmation reads its own entries only.
            if let Some(agency) = own {
                child.chronology.retain(|item| item.entry.agency == agency);
            }
            Ok(Some(fhir::everything(
                &format!("{scheme}://{host}/fhir"),
                &person,
                &child.chronology,
            )))
        })
        .await?
        .ok_or_else(|| Error::NotFound(format!("no person {id}")))?;
    Ok(fhir_json(StatusCode::OK, &bundle))
}
