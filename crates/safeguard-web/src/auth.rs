//! Access control, in one place. Every route has a rule in [`rule_for`]; a route without one
//! is refused (default deny). The middleware identifies the caller (a session cookie, or an
//! agency's API token), checks the rule, checks CSRF tokens on unsafe requests made with a
//! session, and audits every read of a child's record, before any handler runs.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use safeguard_core::PersonId;
use safeguard_core::access::{self, Principal, ReadDecision};
use safeguard_store::accounts::Session;
use safeguard_store::audit::AuditEvent;
use safeguard_store::{Actor, Store};

use crate::{AppState, Error};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "safeguard_session";
/// The sign-in form's double-submit CSRF cookie.
pub const SIGN_IN_CSRF_COOKIE: &str = "safeguard_sign_in";
/// The header API clients using a session send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field HTML forms send the CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body the CSRF check reads.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A person with a session.
    User(Session),
    /// An agency's system with an API token.
    System(Principal),
}

impl Caller {
    /// The principal the access rule decides on.
    pub fn principal(&self) -> Principal {
        match self {
            Caller::User(s) => s.user.principal(),
            Caller::System(p) => p.clone(),
        }
    }

    /// The actor the audit log records.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::User(s) => s.user.actor(),
            Caller::System(Principal::AgencySystem { token, agency }) => {
                Actor::user(&format!("token:{token}"), agency, "agency_system")
            }
            Caller::System(Principal::User { id, agency, .. }) => Actor::user(id, agency, "user"),
        }
    }

    /// The session, for a person.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::User(s) => Some(s),
            Caller::System(_) => None,
        }
    }
}

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone: health, sign-in, the OpenAPI document, static assets.
    Public,
    /// Any signed-in user (sign-out).
    SignedIn,
    /// A person with a session, whatever their role (their own alerts).
    Person,
    /// A user who may search for persons (not auditors or administrators).
    Search,
    /// Reading a child's record (`{id}` in the path): the access rule, audited as `action`.
    ReadChild(&'static str),
    /// Reading who looked at a child's record.
    AccessLog,
    /// A child's status (on a plan, the lead professional, each agency's standing): anyone
    /// who reads the record, and an agency whose involvement awaits confirmation.
    ChildStatus,
    /// Confirming or declining an agency's involvement: the lead professional or a
    /// safeguarding lead, signed in.
    DecideInvolvement,
    /// What keeps the service running (children whose rules cannot be evaluated):
    /// administrators and safeguarding leads.
    Operations,
    /// Breaking glass to read a child's record: a user with a session.
    BreakGlass,
    /// Recording entries: a casework user or an agency system (each entry's agency is checked
    /// against the caller's when the body is read).
    WriteEntries,
    /// A safeguarding lead's report of break-glass reads by their agency's users.
    SafeguardingLead,
    /// A person with this role (a team manager's caseload, an administrator's users, an
    /// auditor's chains).
    Role(access::Role),
    /// Reviewing proposed links and deciding whether two records are one person: a signed-in
    /// user whose role resolves identity.
    ResolveIdentity,
}

/// The rule of every route. A route missing here is refused to everyone.
pub fn rule_for(method: &Method, route: &str) -> Option<Rule> {
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    Some(match route {
        "/healthz" | "/api/openapi.json" if get => Rule::Public,
        asset if get && crate::ui::is_asset(asset) => Rule::Public,
        "/sign-in" if get || post => Rule::Public,
        "/sign-out" if post => Rule::SignedIn,
        // The search page sends those who do not search to their own page.
        "/" if get => Rule::Person,
        "/api/v1/persons" if get => Rule::Search,
        "/team" if get => Rule::Role(access::Role::TeamManager),
        "/admin" if get => Rule::Role(access::Role::Administrator),
        "/audit" if get => Rule::Role(access::Role::Auditor),
        "/reviews" if get => Rule::Role(access::Role::ReviewPanel),
        // The handler checks the role too (review panel, safeguarding lead).
        "/reviews/{id}" if get => Rule::ReadChild("export_review"),
        "/api/v1/persons/{id}" if get => Rule::ReadChild("read_person"),
        "/persons/{id}" if get => Rule::ReadChild("read_chronology"),
        // The form shows the child's household to those who read the record, and to an
        // agency not yet involved only the child; the handler checks the caller records.
        "/persons/{id}/record" if get || post => Rule::ReadChild("read_household"),
        "/persons/{id}/concerns" if get || post => Rule::ReadChild("read_flags"),
        // The handler checks the caller is a safeguarding lead of children's social care.
        "/persons/{id}/practice-review" if get || post => Rule::ReadChild("read_practice_review"),
        "/api/v1/persons/{id}/chronology" if get => Rule::ReadChild("read_chronology"),
        "/api/v1/persons/{id}/household" if get => Rule::ReadChild("read_household"),
        "/api/v1/persons/{id}/flags" if get => Rule::ReadChild("read_flags"),
        "/api/v1/persons/{id}/status" if get => Rule::ChildStatus,
        "/api/v1/persons/{id}/involvements" if post => Rule::DecideInvolvement,
        "/api/v1/involvements" if get => Rule::Person,
        "/api/v1/evaluation-failures" | "/evaluation-failures" if get => Rule::Operations,
        "/api/v1/persons/{id}/access-log" | "/persons/{id}/access-log" if get => Rule::AccessLog,
        "/api/v1/persons/{id}/break-glass" | "/persons/{id}/break-glass" if post => {
            Rule::BreakGlass
        }
        "/persons/{id}/break-glass" if get => Rule::BreakGlass,
        "/api/v1/entries" | "/fhir/Bundle" if post => Rule::WriteEntries,
        "/fhir/Patient/{id}/$everything" if get => Rule::ReadChild("read_fhir_everything"),
        "/break-glass" if get => Rule::SafeguardingLead,
        "/api/v1/alerts" | "/alerts" if get => Rule::Person,
        "/api/v1/link-reviews" | "/link-reviews" if get => Rule::ResolveIdentity,
        "/api/v1/link-decisions" | "/link-reviews" if post => Rule::ResolveIdentity,
        _ => return None,
    })
}

/// Reads one cookie from the request's headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn identify(store: &Store, headers: &HeaderMap) -> Result<Option<Caller>, Error> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let session = cookie(headers, SESSION_COOKIE).map(str::to_owned);
    let store = store.clone();
    tokio::task::spawn_blocking(move || -> Result<Option<Caller>, Error> {
        if let Some(token) = bearer {
            return Ok(store.api_token(&token)?.map(Caller::System));
        }
        if let Some(token) = session {
            return Ok(store.session(&token)?.map(Caller::User));
        }
        Ok(None)
    })
    .await
    .map_err(|e| Error::Internal(format!("identify task failed: {e}")))?
}

fn is_api(route: &str) -> bool {
    route.starts_with("/api/") || route.starts_with("/fhir/")
}

/// Refusals: JSON for the API, a page or a redirect for people.
fn unauthenticated(route: &str) -> Response {
    if is_api(route) {
        Error::Unauthenticated.into_response()
    } else {
        Redirect::to("/sign-in").into_response()
    }
}

fn person_in_path(path: &str) -> Result<PersonId, Error> {
    path.split('/')
        .find_map(|segment| segment.parse::<PersonId>().ok())
        .ok_or_else(|| Error::bad_parameter("id", "not a person identifier (a UUID)"))
}

/// Checks a session's CSRF token on an unsafe request: the `X-CSRF-Token` header, or the
/// `csrf` field of a form. Returns the request with its body restored.
async fn check_csrf(session: &Session, request: Request) -> Result<Request, Error> {
    if let Some(sent) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return if constant_time_eq(sent, &session.csrf_token) {
            Ok(request)
        } else {
            Err(Error::Forbidden(
                "the CSRF token does not match this session".into(),
            ))
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Error::Forbidden(format!(
            "a request made with a session needs the {CSRF_HEADER} header"
        )));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| Error::TooLarge("the form is too large".into()))?;
    let sent = form_field(&bytes, CSRF_FIELD);
    if !sent.is_some_and(|s| constant_time_eq(&s, &session.csrf_token)) {
        return Err(Error::Forbidden(
            "the form's CSRF token does not match this session".into(),
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// One field of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub use safeguard_store::audit::constant_time_eq;

/// The access-control middleware: see the module documentation.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(response) => response,
    }
}

/// The session of the person signed in by `headers`, if any: for the header of an error page.
pub(crate) async fn session_of(store: &Store, headers: &HeaderMap) -> Option<Session> {
    match identify(store, headers).await {
        Ok(Some(Caller::User(session))) => Some(session),
        _ => None,
    }
}

async fn check(state: &AppState, mut request: Request) -> Result<Request, Response> {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(rule) = rule_for(request.method(), &route) else {
        return Err(Error::Forbidden("no access rule allows this route".into()).into_response());
    };
    if rule == Rule::Public {
        return Ok(request);
    }
    let caller = identify(&state.store, request.headers())
        .await
        .map_err(IntoResponse::into_response)?
        .ok_or_else(|| unauthenticated(&route))?;
    let caller_key = match &caller {
        Caller::User(session) => format!("user:{}", session.user.id),
        Caller::System(principal) => match principal {
            Principal::AgencySystem { token, .. } => format!("token:{token}"),
            Principal::User { id, .. } => format!("user:{id}"),
        },
    };
    if let Err(wait) = state.rate_limits.check(&caller_key) {
        return Err(Error::RateLimited(wait.as_secs().max(1)).into_response());
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD)
        && let Some(session) = caller.session()
    {
        request = check_csrf(session, request)
            .await
            .map_err(IntoResponse::into_response)?;
    }
    let principal = caller.principal();
    let user_has = |f: &dyn Fn(access::Role) -> bool| matches!(&principal, Principal::User { roles, .. } if roles.iter().copied().any(f));
    match rule {
        Rule::Public | Rule::SignedIn => {}
        Rule::Person => {
            if caller.session().is_none() {
                return Err(
                    Error::Forbidden("this is for people, not agency systems".into())
                        .into_response(),
                );
            }
        }
        Rule::Search => {
            if !user_has(&access::Role::searches) {
                return Err(
                    Error::Forbidden("your role does not search the record".into()).into_response(),
                );
            }
        }
        Rule::WriteEntries => {
            let writes = matches!(principal, Principal::AgencySystem { .. })
                || user_has(&access::Role::works_cases);
            if !writes {
                return Err(
                    Error::Forbidden("your role does not record entries".into()).into_response()
                );
            }
        }
        Rule::BreakGlass => {
            if caller.session().is_none() || !user_has(&access::Role::may_break_glass) {
                return Err(Error::Forbidden(
                    "only a signed-in caseworker or review panel member can break glass".into(),
                )
                .into_response());
            }
        }
        Rule::Operations => {
            if !user_has(&|r| {
                matches!(
                    r,
                    access::Role::Administrator | access::Role::SafeguardingLead
                )
            }) {
                return Err(Error::Forbidden(
                    "this is for administrators and safeguarding leads".into(),
                )
                .into_response());
            }
        }
        Rule::Role(role) => {
            let has_role =
                matches!(&principal, Principal::User { roles, .. } if roles.contains(&role));
            if caller.session().is_none() || !has_role {
                return Err(Error::Forbidden(format!(
                    "this page is for the {} role",
                    role.as_str().replace('_', " ")
                ))
                .into_response());
            }
        }
        Rule::SafeguardingLead => {
            if !user_has(&|r| r == access::Role::SafeguardingLead) {
                return Err(
                    Error::Forbidden("this report is for safeguarding leads".into())
                        .into_response(),
                );
            }
        }
        Rule::ResolveIdentity => {
            if caller.session().is_none() || !user_has(&access::Role::resolves_identity) {
                return Err(Error::Forbidden(
                    "deciding who is who is for signed-in safeguarding leads".into(),
                )
                .into_response());
            }
        }
        Rule::ReadChild(action) => {
            let person =
                person_in_path(request.uri().path()).map_err(IntoResponse::into_response)?;
            if let Some(own) = read_child(state, &caller, person, action, &route).await? {
                request.extensions_mut().insert(own);
            }
        }
        Rule::ChildStatus => {
            let person =
                person_in_path(request.uri().path()).map_err(IntoResponse::into_response)?;
            let store = state.store.clone();
            let session_hash = caller.session().map(|s| s.token_hash.clone());
            let actor = caller.actor();
            let allowed = blocking(move || {
                let decision = read_decision(&store, &principal, session_hash.as_deref(), person)?;
                let allowed = matches!(
                    decision,
                    ReadDecision::Allowed(_) | ReadDecision::InvolvementUnconfirmed
                );
                let action = if allowed {
                    "read_status"
                } else {
                    "access_denied"
                };
                store.record_access(&actor, &[AuditEvent::new(action, person.to_string())])?;
                Ok(allowed)
            })
            .await?;
            if !allowed {
                return Err(Error::Forbidden(
                    "the status is for agencies that recorded about this child".into(),
                )
                .into_response());
            }
        }
        Rule::DecideInvolvement => {
            let person =
                person_in_path(request.uri().path()).map_err(IntoResponse::into_response)?;
            let store = state.store.clone();
            let involvement = blocking(move || store.involvement(person)).await?;
            if caller.session().is_none()
                || !access::may_decide_involvement(&principal, &involvement)
            {
                return Err(Error::Forbidden(
                    "an agency's involvement is confirmed by the child's lead professional or a safeguarding lead".into(),
                )
                .into_response());
            }
        }
        Rule::AccessLog => {
            let person =
                person_in_path(request.uri().path()).map_err(IntoResponse::into_response)?;
            let store = state.store.clone();
            let involvement = blocking(move || store.involvement(person)).await?;
            if !access::may_read_access_log(&principal, &involvement) {
                return Err(Error::Forbidden(
                    "the access log is for auditors, safeguarding leads and the lead professional"
                        .into(),
                )
                .into_response());
            }
        }
    }
    request.extensions_mut().insert(caller);
    Ok(request)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, safeguard_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("task failed: {e}")).into_response())?
        .map_err(|e| Error::from(e).into_response())
}

/// The access rule's answer for `principal` (holding the session `session_hash`, if a person)
/// and a person's record, from the facts stored now.
pub(crate) fn read_decision(
    store: &Store,
    principal: &Principal,
    session_hash: Option<&str>,
    person: PersonId,
) -> Result<ReadDecision, safeguard_store::StoreError> {
    let standing = store.read_standing(person, session_hash)?;
    Ok(access::may_read_child(
        principal,
        &standing.involvement,
        standing.broke_glass,
    ))
}

/// Set by the gate when the caller may read only their own agency's entries of a child's
/// chronology: their agency's involvement awaits confirmation.
#[derive(Debug, Clone)]
pub struct OwnEntriesOnly(pub safeguard_core::AgencyId);

/// The chronology route, the one that an agency whose involvement awaits confirmation may read
/// (its own entries only).
const CHRONOLOGY_ROUTE: &str = "/api/v1/persons/{id}/chronology";
/// The child's record as FHIR: like the chronology, an agency whose involvement awaits
/// confirmation reads its own entries only.
const FHIR_EVERYTHING_ROUTE: &str = "/fhir/Patient/{id}/$everything";
/// The recording form, which an agency not yet involved with the child (or whose involvement
/// awaits confirmation) may fill in about the child alone: recording is never refused for
/// want of involvement, and shows nothing of the record.
const RECORD_ROUTE: &str = "/persons/{id}/record";

/// Applies the access rule to reading a child's record and audits an allowed read. Returns
/// `Some` when only the caller's own agency's entries may be read.
async fn read_child(
    state: &AppState,
    caller: &Caller,
    person: PersonId,
    action: &'static str,
    route: &str,
) -> Result<Option<OwnEntriesOnly>, Response> {
    let store = state.store.clone();
    let own_only_route =
        route == CHRONOLOGY_ROUTE || route == RECORD_ROUTE || route == FHIR_EVERYTHING_ROUTE;
    let record_route = route == RECORD_ROUTE;
    let session_hash = caller.session().map(|s| s.token_hash.clone());
    let principal = caller.principal();
    let actor = caller.actor();
    let decision = blocking(move || {
        let standing = store.read_standing(person, session_hash.as_deref())?;
        // A person merged into another (two records found to be one person) is read there.
        if let Some(into) = standing.merged_into {
            return Ok(Err(into));
        }
        let lead = standing.involvement.lead_professional.clone();
        let decision =
            access::may_read_child(&principal, &standing.involvement, standing.broke_glass);
        let audited = match decision {
            ReadDecision::Allowed(_) => action,
            ReadDecision::InvolvementUnconfirmed | ReadDecision::BreakGlassRequired
                if record_route =>
            {
                "open_recording_form"
            }
            ReadDecision::InvolvementUnconfirmed if own_only_route => "read_own_entries",
            _ => "access_denied",
        };
        store.record_access(
            &actor,
            &[AuditEvent {
                reason: (audited == "access_denied").then(|| action.to_owned()),
                ..AuditEvent::new(audited, person.to_string())
            }],
        )?;
        Ok(Ok((decision, lead)))
    })
    .await?;
    let (decision, lead) = match decision {
        Ok(decided) => decided,
        // A page moves on, the API says where: identifiers only, so nothing is disclosed.
        Err(into) if is_api(route) => {
            return Err(
                Error::NotFound(format!("person {person} was merged into person {into}"))
                    .into_response(),
            );
        }
        Err(into) => return Err(Redirect::to(&format!("/persons/{into}")).into_response()),
    };
    match decision {
        ReadDecision::Allowed(_) => Ok(None),
        ReadDecision::InvolvementUnconfirmed | ReadDecision::BreakGlassRequired if record_route => {
            Ok(Some(OwnEntriesOnly(caller.principal().agency().clone())))
        }
        ReadDecision::InvolvementUnconfirmed if own_only_route => {
            Ok(Some(OwnEntriesOnly(caller.principal().agency().clone())))
        }
        ReadDecision::InvolvementUnconfirmed if !is_api(route) => {
            Err(awaiting_confirmation(caller, person, lead.as_deref()))
        }
        ReadDecision::InvolvementUnconfirmed => Err(Error::InvolvementUnconfirmed.into_response()),
        ReadDecision::BreakGlassRequired if !is_api(route) => {
            Err(Redirect::to(&format!("/persons/{person}/break-glass")).into_response())
        }
        ReadDecision::BreakGlassRequired => Err(Error::BreakGlassRequired.into_response()),
        ReadDecision::Denied => Err(Error::Forbidden(
            "your role does not read children's records".into(),
        )
        .into_response()),
    }
}

/// The page for a person whose agency recorded about a child but whose involvement the lead
/// professional has not yet confirmed: what is happening, whom to ask, and the way on.
fn awaiting_confirmation(caller: &Caller, person: PersonId, lead: Option<&str>) -> Response {
    let page = crate::ui::layout(
        "Your agency's involvement is waiting to be confirmed",
        caller.session(),
        maud::html! {
            h1 class="govuk-heading-l" { "Your agency's involvement is waiting to be confirmed" }
            p class="govuk-body" {
                "Your agency has recorded about this child, so it has asked to be involved. "
                "Until the child's lead professional or a safeguarding lead confirms it, your "
                "agency's system can read only what your agency recorded, and whether the child "
                "is on a plan; these pages open the record once it is confirmed."
            }
            @match lead {
                Some(lead) => p class="govuk-body" { "The child's lead professional is " strong { (lead) } "." },
                None => p class="govuk-body" { "The child has no lead professional: a safeguarding lead decides." },
            }
            p class="govuk-body" {
                "If the child may be at risk now, you can "
                a class="govuk-link" href={ "/persons/" (person) "/break-glass" } { "break glass" }
                ": say why, and the child's agency and lead will see that you did."
            }
            p class="govuk-body" { a class="govuk-link" href="/" { "Find another person" } }
        },
    );
    (axum::http::StatusCode::FORBIDDEN, page).into_response()
}

/// The client's address, when the server knows it. Behind the trusted proxy (and only
/// there: anyone else can write the header) it is the last address the proxy appended to
/// `X-Forwarded-For`.
pub fn client_address(request: &Request, trusted_proxy: Option<IpAddr>) -> Option<IpAddr> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if peer.is_some() && peer == trusted_proxy {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|a| a.trim().parse().ok());
        return forwarded.or(peer);
    }
    peer
}

/// Adds the security headers to every response; served over TLS (`--secure-cookies`), HSTS too.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if state.config.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    // Records are never cached; a response that says otherwise (an embedded asset) keeps its word.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_routes_and_methods_have_no_rule() {
        assert_eq!(rule_for(&Method::GET, "/nowhere"), None);
        assert_eq!(rule_for(&Method::DELETE, "/api/v1/persons/{id}"), None);
        assert_eq!(rule_for(&Method::GET, "/api/v1/entries"), None);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; safeguard_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn x_forwarded_for_is_believed_only_from_the_trusted_proxy() {
        let request = |peer: [u8; 4]| {
            let mut r = Request::new(Body::empty());
            r.headers_mut().insert(
                "x-forwarded-for",
                "203.0.113.9, 198.51.100.7".parse().unwrap(),
            );
            r.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from((peer, 443))));
            r
        };
        let proxy = IpAddr::from([127, 0, 0, 1]);
        assert_eq!(
            client_address(&request([127, 0, 0, 1]), Some(proxy)),
            Some(IpAddr::from([198, 51, 100, 7])),
            "the address the proxy appended"
        );
        assert_eq!(
            client_address(&request([192, 0, 2, 5]), Some(proxy)),
            Some(IpAddr::from([192, 0, 2, 5])),
            "anyone else's header is ignored"
        );
        assert_eq!(client_address(&request([127, 0, 0, 1]), None), Some(proxy));
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
