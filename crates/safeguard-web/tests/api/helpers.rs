//! `spawn_app()`: the real router over a fresh SQLite store, with one method per endpoint.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind};
use safeguard_store::{DatabaseUrl, Store};
use safeguard_web::{AppState, Config, app};
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct TestApp {
    router: axum::Router,
    pub store: Store,
    /// The north hospital's system: posts the test entries.
    pub hospital: Auth,
    /// A safeguarding lead (reads every child): the default reader.
    pub lead: Auth,
    _dir: tempfile::TempDir,
}

/// How a test request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Not at all.
    Anonymous,
    /// An agency API token.
    Token(String),
    /// A session cookie, and its CSRF token.
    Session { token: String, csrf: String },
}

impl Auth {
    fn apply(
        &self,
        mut builder: axum::http::request::Builder,
        unsafe_method: bool,
    ) -> axum::http::request::Builder {
        match self {
            Auth::Anonymous => {}
            Auth::Token(t) => {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"))
            }
            Auth::Session { token, csrf } => {
                builder = builder.header(header::COOKIE, format!("safeguard_session={token}"));
                if unsafe_method {
                    builder = builder.header("x-csrf-token", csrf);
                }
            }
        }
        builder
    }
}

pub const PASSWORD: &str = "a long test password";

pub struct TestResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `field` of each error in an error body.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["fields"]
            .as_array()
            .expect("an error body lists fields")
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(Config::default())
}

pub fn spawn_app_with(config: Config) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("api.db"))).unwrap();
    for (id, kind) in [
        ("north-hospital", AgencyKind::Hospital),
        ("north-police", AgencyKind::Police),
    ] {
        store
            .put_agency(&Agency {
                id: AgencyId::parse(id).unwrap(),
                name: format!("North {kind:?}"),
                kind,
            })
            .unwrap();
    }
    let hospital = Auth::Token(
        store
            .add_api_token("hospital-pas", &AgencyId::parse("north-hospital").unwrap())
            .unwrap(),
    );
    let app = TestApp {
        router: app(AppState::new(store.clone(), config)),
        store,
        hospital,
        lead: Auth::Anonymous,
        _dir: dir,
    };
    let lead = app.user("lead", "north-police", Role::SafeguardingLead);
    TestApp { lead, ..app }
}

impl TestApp {
    /// Adds a user and signs them in.
    pub fn user(&self, id: &str, agency: &str, role: Role) -> Auth {
        self.store
            .add_user(id, &AgencyId::parse(agency).unwrap(), id, &[role], PASSWORD)
            .unwrap();
        let (token, session) = self.store.sign_in(id, PASSWORD).unwrap().unwrap();
        Auth::Session {
            token,
            csrf: session.csrf_token,
        }
    }

    pub async fn get_as(&self, uri: &str, auth: &Auth) -> TestResponse {
        let request = auth
            .apply(Request::get(uri), false)
            .body(Body::empty())
            .unwrap();
        self.request(request).await
    }

    pub async fn post_as(
        &self,
        uri: &str,
        content_type: &str,
        body: impl Into<Body>,
        auth: &Auth,
    ) -> TestResponse {
        let request = auth
            .apply(Request::post(uri), true)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap();
        self.request(request).await
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            content_type,
            headers,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    /// A GET as the safeguarding lead.
    pub async fn get(&self, uri: &str) -> TestResponse {
        self.get_as(uri, &self.lead).await
    }

    /// Posts entries as the north hospital's system.
    pub async fn post_entries_raw(&self, body: impl Into<Body>) -> TestResponse {
        self.post_as("/api/v1/entries", "application/json", body, &self.hospital)
            .await
    }

    pub async fn post_entries(&self, body: &Value) -> TestResponse {
        self.post_entries_raw(body.to_string()).await
    }

    /// The person id of the first search hit.
    pub async fn find_person(&self, q: &str) -> String {
        let r = self.get(&format!("/api/v1/persons?q={q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["persons"][0]["id"]
            .as_str()
            .expect("a person is found")
            .to_owned()
    }
}

/// A hospital attendance for the child `C1`, seen with the adult `A1`.
pub fn entry(source_id: &str, occurred: &str) -> Value {
    json!({
        "agency": "north-hospital",
        "source": {"system": "pas", "id": source_id},
        "author": {"name": "Dr Example", "role": "Emergency doctor"},
        "occurred_at": occurred,
        "recorded_at": "2007-12-31T12:00:00Z",
        "persons": [
            {"role": "subject_child", "record": {"local_id": "C1",
                "name": {"given": ["Sam"], "family": "Example"}, "date_of_birth": "2006-06-14",
                "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]}},
            {"role": "other_adult_present", "record": {"local_id": "A1",
                "name": {"given": ["Daniel"], "family": "Other"}}}
        ],
        "summary": format!("attendance {source_id}"),
        "details": {"kind": "hospital_attendance", "department": "emergency"},
        "residences": [{"person": "C1", "address": {"lines": ["1 Example Road"], "postcode": "N17 6AA"},
                        "from": "2006-06-14", "strength": "verified"}]
    })
}
