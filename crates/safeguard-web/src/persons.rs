//! Persons: search, a person with their records, their chronology and their household.

use std::str::FromStr;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use safeguard_core::{AgencyId, EntryKind, FieldError, Household, Person, PersonId};
use safeguard_store::alerts::Alert;
use safeguard_store::audit::{AuditEvent, ChainedEvent};
use safeguard_store::flags::StoredFlag;
use safeguard_store::{ChronologyEntry, ChronologyPage, ChronologyQuery, MAX_PAGE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, OwnEntriesOnly};
use crate::{AppState, Error, ErrorBody, Params};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(get_alerts))
        .route("/api/v1/persons", get(search_persons))
        .route("/api/v1/persons/{id}", get(get_person))
        .route("/api/v1/persons/{id}/chronology", get(get_chronology))
        .route("/api/v1/persons/{id}/household", get(get_household))
        .route("/api/v1/persons/{id}/access-log", get(get_access_log))
        .route("/api/v1/persons/{id}/flags", get(get_flags))
        .route("/api/v1/persons/{id}/break-glass", post(break_glass))
}

/// The most persons a search returns.
pub(crate) const SEARCH_LIMIT: usize = 50;

/// Search terms.
#[derive(Deserialize, IntoParams)]
pub(crate) struct SearchParams {
    /// Name parts, a date of birth (`2006-06-14`, `14/06/2006`, `2006-06`, `2006`), an NHS
    /// number or a postcode, in any combination.
    pub q: Option<String>,
}

/// Persons found.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchResponse {
    persons: Vec<SearchHit>,
}

/// One person found. Who cannot read the person's record sees only what tells people apart:
/// the name and the month of birth, and a link through the same access rule.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchHit {
    /// The person's identifier: open the record with it (the access rule decides).
    pub(crate) id: PersonId,
    /// The fullest name among their records.
    pub(crate) name: String,
    /// Month and year of birth (`2006-06`), or the year, when recorded.
    pub(crate) born: Option<String>,
    /// Whether the caller may read the record; when false, `person` is absent.
    pub(crate) may_read: bool,
    /// Every record of the person, for a caller who may read them.
    pub(crate) person: Option<Person>,
}

impl SearchHit {
    fn of(person: Person, may_read: bool) -> Self {
        let born = person
            .records
            .iter()
            .find_map(|r| r.record.date_of_birth)
            .map(|d| match d {
                safeguard_core::PartialDate::Year(y) => format!("{y:04}"),
                d => d.earliest().format("%Y-%m").to_string(),
            });
        Self {
            id: person.id,
            name: person.display_name(),
            born,
            may_read,
            person: may_read.then_some(person),
        }
    }
}

/// Finds persons whose records match every search term. Those whose record the caller may not
/// read come back as name and month of birth only; every person returned is audited.
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", params(SearchParams),
    security(("token" = []), ("session" = [])),
    responses(
        (status = 200, description = "Matching persons, at most 50", body = SearchResponse),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "Your role does not search", body = ErrorBody),
    ))]
pub(crate) async fn search_persons(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(params): Params<SearchParams>,
) -> Result<Json<SearchResponse>, Error> {
    let q = params.q.unwrap_or_default();
    let persons = search(&state, &caller, q).await?;
    Ok(Json(SearchResponse { persons }))
}

/// Searches, auditing that the caller searched (not what for: the terms may be a name) and
/// which persons each search returned, in each person's access log.
pub(crate) async fn search(
    state: &AppState,
    caller: &Caller,
    q: String,
) -> Result<Vec<SearchHit>, Error> {
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    let actor = caller.actor();
    let principal = caller.principal();
    let session_hash = caller.session().map(|s| s.token_hash.clone());
    state
        .blocking(move |store| {
            let found = store.search_persons(&q, SEARCH_LIMIT)?;
            let mut events = vec![AuditEvent::new("search_persons", "persons")];
            let mut hits = Vec::with_capacity(found.len());
            for person in found {
                let decision = crate::auth::read_decision(
                    store,
                    &principal,
                    session_hash.as_deref(),
                    person.id,
                )?;
                events.push(AuditEvent::new("search_result", person.id.to_string()));
                hits.push(SearchHit::of(
                    person,
                    matches!(decision, safeguard_core::access::ReadDecision::Allowed(_)),
                ));
            }
            store.record_access(&actor, &events)?;
            Ok(hits)
        })
        .await
}

/// A date in a query (`YYYY-MM-DD`), between 1900 and 2200: the record holds nothing outside
/// them, and date arithmetic near chrono's limits would overflow.
pub(crate) fn query_date(name: &str, text: &str) -> Result<NaiveDate, Error> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Error::bad_parameter(name, format!("{text:?} is not a date (YYYY-MM-DD)")))?;
    if !(1900..=2200).contains(&chrono::Datelike::year(&date)) {
        return Err(Error::bad_parameter(
            name,
            "must be a date from 1900 to 2200",
        ));
    }
    Ok(date)
}

pub(crate) fn parse_person_id(id: &str) -> Result<PersonId, Error> {
    PersonId::from_str(id)
        .map_err(|_| Error::bad_parameter("id", "not a person identifier (a UUID)"))
}

pub(crate) async fn load_person(state: &AppState, id: PersonId) -> Result<Person, Error> {
    state
        .blocking(move |store| store.person(id))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no person {id}")))
}

/// A person and every agency record linked to them.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    responses(
        (status = 200, description = "The person", body = Person),
        (status = 400, description = "Not a person identifier", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "No access to this child's record", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    ))]
pub(crate) async fn get_person(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Person>, Error> {
    let id = parse_person_id(&id)?;
    Ok(Json(load_person(&state, id).await?))
}

/// Chronology filters and paging, as query parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub(crate) struct ChronologyParams {
    /// Agency identifiers, comma-separated.
    pub agency: Option<String>,
    /// Entry kinds, comma-separated (`home_visit,injury_observed`).
    pub kind: Option<String>,
    /// Entries on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Entries on or before this day (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<String>,
    /// `true` to include entries that a correction supersedes.
    pub include_superseded: Option<String>,
}

impl ChronologyParams {
    /// Parses every parameter, naming the first that is wrong.
    pub(crate) fn to_query(&self) -> Result<ChronologyQuery, Error> {
        let list = |v: &Option<String>| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let agencies = list(&self.agency)
            .iter()
            .map(|a| AgencyId::parse(a).map_err(|e| Error::bad_parameter("agency", e.to_string())))
            .collect::<Result<_, _>>()?;
        let kinds = list(&self.kind)
            .iter()
            .map(|k| {
                EntryKind::parse(k).ok_or_else(|| {
                    Error::bad_parameter("kind", format!("{k:?} is not an entry kind"))
                })
            })
            .collect::<Result<_, _>>()?;
        let date = |name: &str, v: &Option<String>| -> Result<Option<NaiveDate>, Error> {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| query_date(name, s))
                .transpose()
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(Error::bad_parameter("to", "is before from"));
        }
        let after = self
            .after
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse()
                    .map_err(|e: String| Error::bad_parameter("after", e))
            })
            .transpose()?;
        let limit = match self.limit.as_deref().filter(|s| !s.is_empty()) {
            None => ChronologyQuery::default().limit,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(Error::bad_parameter(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_PAGE}"),
                    ));
                }
            },
        };
        let include_superseded = match self.include_superseded.as_deref() {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(Error::bad_parameter(
                    "include_superseded",
                    "must be true or false",
                ));
            }
        };
        Ok(ChronologyQuery {
            agencies,
            kinds,
            from,
            to,
            after,
            limit,
            include_superseded,
            entry: None,
        })
    }
}

/// A page of a chronology.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChronologyResponse {
    /// Entries, oldest first.
    entries: Vec<ChronologyEntry>,
    /// Pass as `after` for the next page; absent on the last page.
    next: Option<String>,
}

impl From<ChronologyPage> for ChronologyResponse {
    fn from(page: ChronologyPage) -> Self {
        Self {
            entries: page.entries,
            next: page.next.map(|c| c.to_string()),
        }
    }
}

/// Every entry from every agency naming any of the person's records, in time order. An agency
/// whose involvement awaits confirmation gets its own entries only.
#[utoipa::path(get, path = "/api/v1/persons/{id}/chronology", tag = "persons",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier"), ChronologyParams),
    responses(
        (status = 200, description = "A page of the chronology", body = ChronologyResponse),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "No access to this child's record", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    ))]
pub(crate) async fn get_chronology(
    State(state): State<AppState>,
    Path(id): Path<String>,
    own_only: Option<Extension<OwnEntriesOnly>>,
    Params(params): Params<ChronologyParams>,
) -> Result<Json<ChronologyResponse>, Error> {
    let id = parse_person_id(&id)?;
    let mut query = params.to_query()?;
    // An agency whose involvement awaits confirmation reads its own entries, nothing else.
    if let Some(Extension(OwnEntriesOnly(agency))) = own_only {
        query.agencies = vec![agency];
    }
    let page = state
        .blocking(move |store| store.chronology_of_known(id, &query))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no person {id}")))?;
    Ok(Json(page.into()))
}

/// The date of a household.
#[derive(Deserialize, IntoParams)]
pub(crate) struct HouseholdParams {
    /// The day (`YYYY-MM-DD`); today when absent.
    at: Option<String>,
    /// Who was seen with the person in this many days up to the day (1 to 3650; default 90).
    around_days: Option<String>,
}

/// Who lived with the person on a date, with the evidence for each.
#[utoipa::path(get, path = "/api/v1/persons/{id}/household", tag = "persons",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier"), HouseholdParams),
    responses(
        (status = 200, description = "The household on the date", body = Household),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "No access to this child's record", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    ))]
pub(crate) async fn get_household(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Params(params): Params<HouseholdParams>,
) -> Result<Json<Household>, Error> {
    let id = parse_person_id(&id)?;
    let date = match params.at.as_deref().filter(|s| !s.is_empty()) {
        None => chrono::Local::now().date_naive(),
        Some(s) => query_date("at", s)?,
    };
    let around_days = match params.around_days.as_deref().filter(|s| !s.is_empty()) {
        None => 90,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => n,
            _ => {
                return Err(Error::bad_parameter(
                    "around_days",
                    "must be a whole number from 1 to 3650",
                ));
            }
        },
    };
    load_person(&state, id).await?;
    let household = state
        .blocking(move |store| store.household(id, date, around_days))
        .await?;
    Ok(Json(household))
}

/// One access to a child's record, as the access log shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccessEvent {
    /// Position in the audit chain.
    pub(crate) seq: i64,
    /// When (UTC).
    pub(crate) at: chrono::DateTime<chrono::Utc>,
    /// Who.
    pub(crate) actor: String,
    /// Their agency.
    pub(crate) agency: Option<String>,
    /// Their role.
    pub(crate) role: Option<String>,
    /// What they did (`read_chronology`, `break_glass`, ...).
    pub(crate) action: String,
    /// The reason given, for break-glass.
    pub(crate) reason: Option<String>,
}

impl From<ChainedEvent> for AccessEvent {
    fn from(e: ChainedEvent) -> Self {
        Self {
            seq: e.seq,
            at: chrono::DateTime::from_timestamp_micros(e.at).unwrap_or_default(),
            actor: e.actor,
            agency: e.agency,
            role: e.role,
            action: e.action,
            reason: e.reason,
        }
    }
}

/// Who looked at the child's record, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccessLogResponse {
    events: Vec<AccessEvent>,
}

pub(crate) async fn access_log(state: &AppState, id: PersonId) -> Result<Vec<AccessEvent>, Error> {
    let events = state
        .blocking(move |store| store.access_log(&id.to_string()))
        .await?;
    Ok(events.into_iter().map(AccessEvent::from).collect())
}

/// Every audited access to the child's record, newest first: for auditors, safeguarding
/// leads and the child's lead professional.
#[utoipa::path(get, path = "/api/v1/persons/{id}/access-log", tag = "persons",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    responses(
        (status = 200, description = "Accesses, newest first", body = AccessLogResponse),
        (status = 400, description = "Not a person identifier", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "Not an auditor, lead or the lead professional", body = ErrorBody),
    ))]
pub(crate) async fn get_access_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccessLogResponse>, Error> {
    let id = parse_person_id(&id)?;
    Ok(Json(AccessLogResponse {
        events: access_log(&state, id).await?,
    }))
}

/// Why the caller needs to read a record their agency is not involved with.
#[derive(Deserialize, ToSchema)]
pub(crate) struct BreakGlassRequest {
    /// The reason, in a sentence.
    reason: String,
}

pub(crate) async fn grant_break_glass(
    state: &AppState,
    caller: &Caller,
    id: PersonId,
    reason: String,
) -> Result<(), Error> {
    let session = caller
        .session()
        .cloned()
        .ok_or_else(|| Error::Forbidden("only a signed-in person can break glass".into()))?;
    let reason =
        safeguard_core::text::reason("reason", &reason).map_err(|e| Error::Invalid(vec![e]))?;
    // An unknown person is answered as a known one: break-glass must not tell who exists.
    state
        .blocking(move |store| match store.person(id)? {
            Some(_) => store.break_glass(&session, id, &reason),
            None => Ok(()),
        })
        .await
}

/// Breaks glass: read this child's record for the rest of the hour, with a reason that is
/// audited and reported to the agency's safeguarding lead.
#[utoipa::path(post, path = "/api/v1/persons/{id}/break-glass", tag = "persons",
    security(("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    request_body = BreakGlassRequest,
    responses(
        (status = 204, description = "Granted for this session"),
        (status = 400, description = "Not a person identifier, or not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a signed-in person, or no CSRF token", body = ErrorBody),
        (status = 422, description = "The reason is not a sentence", body = ErrorBody),
    ))]
pub(crate) async fn break_glass(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Error> {
    let id = parse_person_id(&id)?;
    let request: BreakGlassRequest = serde_json::from_slice(&body)
        .map_err(|e| Error::BadRequest(vec![FieldError::new("reason", e.to_string())]))?;
    grant_break_glass(&state, &caller, id, request.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The flags open on a child's record.
#[derive(Serialize, ToSchema)]
pub(crate) struct FlagsResponse {
    /// Most severe and earliest first.
    flags: Vec<StoredFlag>,
}

/// The flags open on the child's record: each with its rule, parameters, severity, the entries
/// behind it, the date it first became knowable and a sentence.
#[utoipa::path(get, path = "/api/v1/persons/{id}/flags", tag = "persons",
    security(("token" = []), ("session" = [])),
    params(("id" = PersonId, Path, description = "Person identifier")),
    responses(
        (status = 200, description = "Open flags", body = FlagsResponse),
        (status = 400, description = "Not a person identifier", body = ErrorBody),
        (status = 401, description = "No valid session or API token", body = ErrorBody),
        (status = 403, description = "No access to this child's record", body = ErrorBody),
    ))]
pub(crate) async fn get_flags(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FlagsResponse>, Error> {
    let id = parse_person_id(&id)?;
    let flags = state.blocking(move |store| store.flags(id)).await?;
    Ok(Json(FlagsResponse { flags }))
}

/// A professional's alerts.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlertsResponse {
    /// Newest first.
    alerts: Vec<Alert>,
}

/// The signed-in professional's alerts: entries other agencies recorded about children they
/// lead (or, on a plan, are allocated to).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    security(("session" = [])),
    responses(
        (status = 200, description = "Alerts, newest first", body = AlertsResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a person", body = ErrorBody),
    ))]
pub(crate) async fn get_alerts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<AlertsResponse>, Error> {
    let user = caller
        .session()
        .map(|s| s.user.id.clone())
        .ok_or_else(|| Error::Forbidden("alerts are for people".into()))?;
    let alerts = state.blocking(move |store| store.alerts(&user)).await?;
    Ok(Json(AlertsResponse { alerts }))
}
