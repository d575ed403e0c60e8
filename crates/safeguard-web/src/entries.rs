//! `POST /api/v1/entries`: agencies send one entry or a batch. A batch is atomic: every entry
//! is stored or, if any is invalid, none, and the response names each invalid field.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use safeguard_core::access;
use safeguard_core::{Entry, FieldError};
use safeguard_store::{Appended, Outcome, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::{AppState, Error, ErrorBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/entries", post(create_entries))
}

/// One entry, or a batch.
#[derive(serde::Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the body's shape; the handler parses by hand to name every bad field
pub(crate) enum EntriesBody {
    /// One entry.
    One(Box<Entry>),
    /// A batch, stored atomically.
    Many(Vec<Entry>),
}

/// What happened to each entry, in the order sent.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppendResponse {
    results: Vec<Appended>,
}

/// Records entries. Re-sending an entry already stored (same agency, source system and
/// source id) stores nothing and reports `already_recorded`.
#[utoipa::path(post, path = "/api/v1/entries", tag = "entries", security(("token" = []), ("session" = [])),
    request_body(content = EntriesBody, description = "An entry or an array of entries"),
    responses(
        (status = 201, description = "At least one entry was stored", body = AppendResponse),
        (status = 200, description = "Every entry was already stored", body = AppendResponse),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "Not for this caller's agency or role", body = ErrorBody),
        (status = 409, description = "A source id already recorded with other content; nothing was stored", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "An entry is invalid; nothing was stored", body = ErrorBody),
    ))]
pub(crate) async fn create_entries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<AppendResponse>), Error> {
    let (entries, batch) = parse_entries(&body?)?;
    let place = |i: usize, field: &str| {
        if batch {
            format!("[{i}].{field}")
        } else {
            field.to_owned()
        }
    };
    check_recording(&caller, &entries, place)?;
    let (status, results) = store_entries(&state, &caller, entries, batch).await?;
    Ok((status, Json(AppendResponse { results })))
}

/// Whether the caller may record these entries: for their own agency, under a system that is
/// not the census return's, and of kinds their role records. `place` names an entry's field.
pub(crate) fn check_recording(
    caller: &Caller,
    entries: &[Entry],
    place: impl Fn(usize, &str) -> String,
) -> Result<(), Error> {
    let principal = caller.principal();
    for (i, e) in entries.iter().enumerate() {
        if !access::may_write_entry(&principal, &e.agency) {
            return Err(Error::Forbidden(format!(
                "{}: you may record entries only for your own agency ({})",
                place(i, "agency"),
                principal.agency()
            )));
        }
        if !access::may_send_as_system(&e.source.system) {
            return Err(Error::Forbidden(format!(
                "{}: is the system of history imported from a census return (safeguard import --cin), not sent here",
                place(i, "source.system")
            )));
        }
        if !access::may_record_kind(&principal, e.kind()) {
            return Err(Error::Forbidden(format!(
                "{}: a serious incident is recorded by a safeguarding lead, since it opens the child's record to the review panel",
                place(i, "details.kind")
            )));
        }
    }
    Ok(())
}

/// Stores entries in one transaction, with the children they are about evaluated again and
/// their professionals alerted, before the sender hears back: 201 when any is new, 200 when
/// every one was already recorded.
pub(crate) async fn store_entries(
    state: &AppState,
    caller: &Caller,
    entries: Vec<Entry>,
    batch: bool,
) -> Result<(StatusCode, Vec<Appended>), Error> {
    let actor = caller.actor();
    let rules = state.rules.clone();
    let results = state
        .blocking(move |store| {
            let today = chrono::Local::now().date_naive();
            match store.append_and_refresh(&actor, &entries, &rules, today) {
                // A single entry's errors are not prefixed with its place in a batch.
                Err(StoreError::Invalid { error, .. }) if !batch => {
                    Err(StoreError::Invalid { index: None, error })
                }
                Err(StoreError::Conflict { error, .. }) if !batch => {
                    Err(StoreError::Conflict { index: None, error })
                }
                other => other,
            }
        })
        .await?;
    let status = if results.iter().any(|r| r.outcome == Outcome::Created) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, results))
}

/// Reads one entry or an array of entries (then `true`), collecting every invalid field of
/// every entry.
fn parse_entries(body: &[u8]) -> Result<(Vec<Entry>, bool), Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::BadRequest(vec![FieldError::new("", format!("not JSON: {e}"))]))?;
    let (items, batch) = match value {
        serde_json::Value::Array(items) => (items, true),
        one @ serde_json::Value::Object(_) => (vec![one], false),
        _ => {
            return Err(Error::Invalid(vec![FieldError::new(
                "",
                "expected an entry (an object) or an array of entries",
            )]));
        }
    };
    if items.is_empty() {
        return Err(Error::Invalid(vec![FieldError::new(
            "",
            "the batch is empty",
        )]));
    }
    if items.len() > safeguard_core::MAX_ENTRIES_PER_BATCH {
        return Err(Error::Invalid(vec![FieldError::new(
            "",
            format!(
                "the batch holds {} entries; send at most {} at once",
                items.len(),
                safeguard_core::MAX_ENTRIES_PER_BATCH
            ),
        )]));
    }
    let now = chrono::Utc::now();
    let mut entries = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match Entry::from_json(item, now) {
            Ok(e) => entries.push(e),
            Err(e) if batch => errors.push(e.within(&format!("[{i}]"))),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        safeguard_core::check_batch_size(&entries).map_err(|e| Error::Invalid(vec![e]))?;
        Ok((entries, batch))
    } else {
        Err(Error::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let err = parse_entries(br#"[{"agency": "x-y"}]"#).unwrap_err();
        let Error::Invalid(fields) = err else {
            panic!()
        };
        assert_eq!(fields[0].field, "[0].source");
        assert_eq!(fields[0].reason, "missing field `source`");
    }

    #[test]
    fn a_bad_value_deep_in_an_entry_is_named_with_its_path() {
        let body = br#"{"agency": "x-y", "source": {"system": "s", "id": "1"},
            "author": {"name": "a", "role": "b"}, "occurred_at": "2007-01-01",
            "recorded_at": "2007-01-01T00:00:00Z",
            "persons": [{"role": "parent", "record": {"local_id": "1", "nhs_number": "9434765918"}}],
            "summary": "s", "details": {"kind": "case_note"}}"#;
        let Error::Invalid(fields) = parse_entries(body).unwrap_err() else {
            panic!()
        };
        assert_eq!(fields[0].field, "persons[0].record.nhs_number");
        assert!(
            fields[0].reason.contains("check digit"),
            "{}",
            fields[0].reason
        );
    }

    #[test]
    fn non_json_is_a_bad_request() {
        assert!(matches!(parse_entries(b"{nope"), Err(Error::BadRequest(_))));
        assert!(matches!(parse_entries(b"42"), Err(Error::Invalid(_))));
        assert!(matches!(parse_entries(b"[]"), Err(Error::Invalid(_))));
    }
}
