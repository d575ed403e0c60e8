//! The access matrix: every API route × every role × (own agency involved, another agency
//! involved, nobody involved, broke glass, own agency recorded but unconfirmed), plus an agency
//! system and an anonymous caller.
//! The expected grid is written out by hand; a route in the OpenAPI document without a row
//! here fails the test.

use std::collections::BTreeSet;

use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind};
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, entry, spawn_app};

const ROLES: [Role; 7] = Role::ALL;

/// Per route, per scenario (own, other, none, glass, asked): one letter per role in `ROLES`
/// order, then the agency system: Y allowed, N refused. Rows run in order, so the status comes
/// before breaking glass; deciding an involvement comes last: it declines the school's request
/// of the `asked` scenario (which leaves its reads as they were) and finds nothing to decide in
/// the others.
const EXPECTED: &[(&str, [&str; 5])] = &[
    (
        "GET /healthz",
        ["YYYYYYYY", "YYYYYYYY", "YYYYYYYY", "YYYYYYYY", "YYYYYYYY"],
    ),
    (
        "POST /api/v1/entries",
        ["YYYYNNNY", "YYYYNNNY", "YYYYNNNY", "YYYYNNNY", "YYYYNNNY"],
    ),
    (
        "GET /api/v1/persons",
        ["YYYYYNNN", "YYYYYNNN", "YYYYYNNN", "YYYYYNNN", "YYYYYNNN"],
    ),
    (
        "GET /api/v1/persons/{id}",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "NNYNNNNN"],
    ),
    (
        "GET /api/v1/persons/{id}/chronology",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "YYYYNNNY"],
    ),
    (
        "POST /fhir/Bundle",
        ["NNNNNNNY", "NNNNNNNY", "NNNNNNNY", "NNNNNNNY", "NNNNNNNY"],
    ),
    (
        "GET /fhir/Patient/{id}/$everything",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "YYYYNNNY"],
    ),
    (
        "GET /api/v1/alerts",
        ["YYYYYYYN", "YYYYYYYN", "YYYYYYYN", "YYYYYYYN", "YYYYYYYN"],
    ),
    (
        "GET /api/v1/persons/{id}/flags",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "NNYNNNNN"],
    ),
    (
        "GET /api/v1/persons/{id}/household",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "NNYNNNNN"],
    ),
    (
        "GET /api/v1/persons/{id}/status",
        ["YYYYNNNY", "NNYNNNNN", "NNYNNNNN", "YYYYYNNN", "YYYYNNNY"],
    ),
    (
        "GET /api/v1/evaluation-failures",
        ["NNYNNNYN", "NNYNNNYN", "NNYNNNYN", "NNYNNNYN", "NNYNNNYN"],
    ),
    (
        "GET /api/v1/involvements",
        ["YYYYYYYN", "YYYYYYYN", "YYYYYYYN", "YYYYYYYN", "YYYYYYYN"],
    ),
    (
        "GET /api/v1/persons/{id}/access-log",
        ["NNYNNYNN", "NNYNNYNN", "NNYNNYNN", "NNYNNYNN", "NNYNNYNN"],
    ),
    (
        "POST /api/v1/persons/{id}/break-glass",
        ["YYYYYNNN", "YYYYYNNN", "YYYYYNNN", "YYYYYNNN", "YYYYYNNN"],
    ),
    (
        "GET /api/v1/link-reviews",
        ["NNYNNNNN", "NNYNNNNN", "NNYNNNNN", "NNYNNNNN", "NNYNNNNN"],
    ),
    (
        "POST /api/v1/link-decisions",
        ["NNYNNNNN", "NNYNNNNN", "NNYNNNNN", "NNYNNNNN", "NNYNNNNN"],
    ),
    (
        "POST /api/v1/persons/{id}/involvements",
        ["NNNNNNNN", "NNNNNNNN", "NNNNNNNN", "NNNNNNNN", "NNYNNNNN"],
    ),
];

const SCENARIOS: [&str; 5] = ["own", "other", "none", "glass", "asked"];

/// Child `I` (involved): the police recorded about her first. Child `U` (uninvolved): only the
/// hospital recorded about him.
async fn children(app: &TestApp, police: &Auth) -> (String, String) {
    let mut involved = entry("i1", "2007-01-01");
    involved["agency"] = "north-police".into();
    involved["recorded_at"] = chrono::Utc::now().to_rfc3339().into();
    involved["persons"][0]["record"]["name"]["given"] = json!(["Ivy"]);
    let r = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            involved.to_string(),
            police,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut uninvolved = entry("u1", "2007-01-01");
    uninvolved["persons"][0]["record"]["name"]["given"] = json!(["Una"]);
    app.post_entries(&uninvolved).await;
    (app.find_person("ivy").await, app.find_person("una").await)
}

/// A request on `route` as `auth`, about `child`: its status.
async fn call(app: &TestApp, route: &str, child: &str, agency: &str, auth: &Auth, n: usize) -> u16 {
    let (method, path) = route.split_once(' ').unwrap();
    let path = path.replace("{id}", child);
    let r = match (method, path.as_str()) {
        ("POST", "/api/v1/entries") => {
            // A fresh person each time, so that writing does not change the involvement.
            let mut e: Value = entry(&format!("w{n}"), "2007-02-01");
            e["agency"] = agency.into();
            e["persons"][0]["record"]["local_id"] = format!("W{n}").into();
            e["residences"] = json!([]);
            app.post_as(&path, "application/json", e.to_string(), auth)
                .await
        }
        ("POST", "/fhir/Bundle") => {
            // A fresh child each time, as for entries.
            let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
                {"resource": {"resourceType": "Patient", "id": format!("W{n}"),
                    "name": [{"given": ["Wren"], "family": "Matrix"}], "birthDate": "2006-01-01"}},
                {"resource": {"resourceType": "Observation", "id": format!("o{n}"), "status": "final",
                    "code": {"text": "Note"}, "subject": {"reference": format!("Patient/W{n}")},
                    "effectiveDateTime": "2007-02-01", "valueString": "Matrix test note."}},
            ]});
            app.post_as(&path, "application/fhir+json", bundle.to_string(), auth)
                .await
        }
        ("POST", "/api/v1/link-decisions") => {
            // Ivy and Una are different people: a decision that changes nothing when repeated.
            let record = |name: &str| {
                app.store.search_persons(name, 1).unwrap()[0].records[0]
                    .id
                    .to_string()
            };
            let body = json!({"a": record("ivy"), "b": record("una"),
                "verdict": "different_people", "reason": "Matrix test: different children"});
            app.post_as(&path, "application/json", body.to_string(), auth)
                .await
        }
        ("POST", p) if p.ends_with("/involvements") => {
            let body = json!({"agency": "north-schools", "decision": "decline",
                "reason": "Matrix test: the school's request is declined"});
            app.post_as(&path, "application/json", body.to_string(), auth)
                .await
        }
        ("POST", _) => {
            let body = json!({"reason": "Matrix test: checking the break-glass route"}).to_string();
            app.post_as(&path, "application/json", body, auth).await
        }
        ("GET", "/api/v1/persons") => app.get_as("/api/v1/persons?q=ivy", auth).await,
        _ => app.get_as(&path, auth).await,
    };
    assert!(
        r.status.as_u16() < 500,
        "{route} answered {}: {}",
        r.status,
        r.text
    );
    r.status.as_u16()
}

#[tokio::test]
async fn every_route_allows_exactly_the_expected_callers() {
    // Arrange
    let app = spawn_app();
    app.store
        .put_agency(&Agency {
            id: AgencyId::parse("north-schools").unwrap(),
            name: "Schools".into(),
            kind: AgencyKind::Education,
        })
        .unwrap();
    let police = Auth::Token(
        app.store
            .add_api_token("police", &AgencyId::parse("north-police").unwrap())
            .unwrap(),
    );
    let (involved, uninvolved) = children(&app, &police).await;

    let doc = app.get("/api/openapi.json").await.json();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let covered: BTreeSet<String> = EXPECTED.iter().map(|(r, _)| (*r).to_owned()).collect();
    assert_eq!(
        documented, covered,
        "every documented route has a row in the matrix, and no more"
    );

    // Act and assert, scenario by scenario.
    let mut failures = Vec::new();
    let mut n = 0;
    for (s, scenario) in SCENARIOS.iter().enumerate() {
        let (agency, child) = match *scenario {
            "own" => ("north-police", &involved),
            "other" | "glass" | "asked" => ("north-schools", &involved),
            _ => ("north-police", &uninvolved),
        };
        if *scenario == "asked" {
            // The school records about the police's child: it asks to be involved.
            let school = Auth::Token(
                app.store
                    .add_api_token("school-mis", &AgencyId::parse("north-schools").unwrap())
                    .unwrap(),
            );
            let mut asked = entry("s1", "2007-01-03");
            asked["agency"] = "north-schools".into();
            asked["persons"][0]["record"]["name"]["given"] = json!(["Ivy"]);
            let r = app
                .post_as(
                    "/api/v1/entries",
                    "application/json",
                    asked.to_string(),
                    &school,
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            assert_eq!(
                app.find_person("ivy").await,
                involved,
                "the school's record joins Ivy"
            );
        }
        let mut callers: Vec<Auth> = Vec::new();
        for role in ROLES {
            let user = app.user(&format!("{}-{scenario}", role.as_str()), agency, role);
            if *scenario == "glass" {
                let body = json!({"reason": "Urgent: child brought to A&E"}).to_string();
                app.post_as(
                    &format!("/api/v1/persons/{child}/break-glass"),
                    "application/json",
                    body,
                    &user,
                )
                .await;
            }
            callers.push(user);
        }
        callers.push(Auth::Token(
            app.store
                .add_api_token(
                    &format!("system-{scenario}"),
                    &AgencyId::parse(agency).unwrap(),
                )
                .unwrap(),
        ));
        for (route, grid) in EXPECTED {
            for (c, caller) in callers.iter().enumerate() {
                n += 1;
                let status = call(&app, route, child, agency, caller, n).await;
                let allowed = (200..300).contains(&status);
                let expected = grid[s].as_bytes()[c] == b'Y';
                if allowed != expected {
                    let who = ROLES.get(c).map_or("agency system", |r| r.as_str());
                    failures.push(format!(
                        "{route} as {who} ({scenario}): {status}, expected {}",
                        if expected { "allowed" } else { "refused" }
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Anonymous callers reach only what is public.
    for (route, _) in EXPECTED {
        let status = call(&app, route, &involved, "north-police", &Auth::Anonymous, 0).await;
        let expected = if *route == "GET /healthz" { 200 } else { 401 };
        assert_eq!(status, expected, "{route} anonymously");
    }
}

#[tokio::test]
async fn an_allowed_read_is_audited_and_a_refused_one_is_audited_as_refused() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    let outsider = app.user("outsider", "north-police", Role::Practitioner);
    let auditor = app.user("auditor", "north-police", Role::Auditor);

    let refused = app
        .get_as(&format!("/api/v1/persons/{child}/chronology"), &outsider)
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.json()["error"], "break_glass_required");
    app.get(&format!("/api/v1/persons/{child}/chronology"))
        .await;

    let log = app
        .get_as(&format!("/api/v1/persons/{child}/access-log"), &auditor)
        .await
        .json();
    let events = log["events"].as_array().unwrap();
    let reads: Vec<&str> = events
        .iter()
        .filter(|e| e["action"] == "read_chronology")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(reads, ["lead"], "only the allowed read is logged as a read");
    let refusals: Vec<&str> = events
        .iter()
        .filter(|e| e["action"] == "access_denied")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        refusals,
        ["outsider"],
        "the refused read is logged as refused"
    );
    assert_eq!(
        events
            .iter()
            .find(|e| e["action"] == "read_chronology")
            .unwrap()["role"],
        "safeguarding_lead"
    );
}

#[tokio::test]
async fn a_break_glass_read_is_reported_to_the_readers_lead_and_the_lead_of_the_childs_agency() {
    let app = spawn_app();
    app.store
        .put_agency(&Agency {
            id: AgencyId::parse("north-schools").unwrap(),
            name: "Schools".into(),
            kind: AgencyKind::Education,
        })
        .unwrap();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    let outsider = app.user("outsider", "north-police", Role::Practitioner);
    let police_lead = app.user("police-lead", "north-police", Role::SafeguardingLead);
    let hospital_lead = app.user("hospital-lead", "north-hospital", Role::SafeguardingLead);
    let school_lead = app.user("school-lead", "north-schools", Role::SafeguardingLead);

    let body = json!({"reason": "Child seen in A&E with a head injury"}).to_string();
    let r = app
        .post_as(
            &format!("/api/v1/persons/{child}/break-glass"),
            "application/json",
            body,
            &outsider,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let read = app
        .get_as(&format!("/api/v1/persons/{child}/chronology"), &outsider)
        .await;
    assert_eq!(read.status, 200, "glass broken, the record opens");

    for lead in [&police_lead, &hospital_lead] {
        let report = app.get_as("/break-glass", lead).await;
        assert_eq!(report.status, 200);
        assert!(
            report
                .text
                .contains("Child seen in A&amp;E with a head injury"),
            "{}",
            report.text
        );
        assert!(report.text.contains("outsider"));
    }
    let other = app.get_as("/break-glass", &school_lead).await;
    assert!(
        !other.text.contains("outsider"),
        "an agency neither reading nor holding the child does not see it"
    );
    let not_a_lead = app.get_as("/break-glass", &outsider).await;
    assert_eq!(not_a_lead.status, 403);
}

#[tokio::test]
async fn a_review_panel_reads_a_child_under_review_without_breaking_glass_and_no_other() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    add_council(&app);
    let council = Auth::Token(
        app.store
            .add_api_token(
                "council-case-system",
                &AgencyId::parse("north-childrens-services").unwrap(),
            )
            .unwrap(),
    );
    let panel = app.user("panel", "north-police", Role::ReviewPanel);
    let outsider = app.user("pc", "north-police", Role::Practitioner);
    let incident = |id: &str, day: &str, details: Value| {
        let mut e = entry(id, day);
        e["agency"] = "north-childrens-services".into();
        e["details"] = details;
        e
    };
    let reads = |auth: Auth| {
        let app = &app;
        let path = format!("/api/v1/persons/{child}/chronology");
        async move { app.get_as(&path, &auth).await.status }
    };
    assert_eq!(
        reads(panel.clone()).await,
        403,
        "no review yet: break glass"
    );

    // Another agency saying a review is open does not open it.
    let mut claimed = entry("si-h", "2007-08-04");
    claimed["details"] = json!({"kind": "serious_incident", "stage": "notified"});
    app.post_entries(&claimed).await;
    assert_eq!(
        reads(panel.clone()).await,
        403,
        "only the local authority's record opens a review"
    );
    let listed = app.get_as("/reviews", &panel).await;
    assert!(listed.text.contains("No practice review is open"));

    let notified = incident(
        "si-1",
        "2007-08-06",
        json!({"kind": "serious_incident", "stage": "notified"}),
    );
    let r = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            notified.to_string(),
            &council,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        reads(panel.clone()).await,
        200,
        "under review: the panel reads"
    );
    assert_eq!(reads(outsider.clone()).await, 403, "and nobody else does");
    let listed = app.get_as("/reviews", &panel).await;
    assert!(listed.text.contains("Sam Example"), "{}", listed.text);
    assert!(listed.text.contains("rapid review to follow"));
    assert_eq!(app.get_as("/reviews", &outsider).await.status, 403);
    // The panel takes the review's chronology, pseudonymised, from its page.
    assert!(listed.text.contains(&format!("/reviews/{child}?format=md")));
    let chronology = app
        .get_as(&format!("/reviews/{child}?format=md"), &panel)
        .await;
    assert_eq!(chronology.status, 200, "{}", chronology.text);
    assert!(chronology.content_type.starts_with("text/markdown"));
    assert!(chronology.text.contains("Child A"), "{}", chronology.text);
    // The review stands on the record's latest day, not today: the rapid review notified on
    // 6 August 2007 is open then, not nineteen years overdue.
    assert!(
        chronology
            .text
            .contains("Rapid review held after the notification"),
        "{}",
        chronology.text
    );
    assert!(!chronology.text.contains("overdue"), "{}", chronology.text);
    for name in ["Sam", "Example", "Daniel", "9434765919"] {
        assert!(!chronology.text.contains(name), "{name} in the review");
    }
    let html = app
        .get_as(&format!("/reviews/{child}?format=html"), &panel)
        .await;
    assert!(html.text.contains("<svg role=\"img\""));
    let bad = app
        .get_as(&format!("/reviews/{child}?format=pdf"), &panel)
        .await;
    assert_eq!(bad.status, 400);
    // The command's options from the page: the summary keeps the findings, not the narrative.
    assert!(
        chronology.text.contains("attendance e1"),
        "{}",
        chronology.text
    );
    let summary = app
        .get_as(
            &format!("/reviews/{child}?format=md&level=summary&narrow_dates=yes"),
            &panel,
        )
        .await;
    assert_eq!(summary.status, 200, "{}", summary.text);
    assert!(summary.text.contains("Child A"));
    assert!(!summary.text.contains("attendance e1"), "{}", summary.text);
    let ranged = app
        .get_as(
            &format!("/reviews/{child}?format=md&from=2007-08-01"),
            &panel,
        )
        .await;
    assert!(
        !ranged.text.contains("attendance e1"),
        "an entry before the range"
    );
    for wrong in [
        "level=brief",
        "from=2007-13-01",
        "from=2007-08-02&to=2007-08-01",
        "narrow_dates=maybe",
    ] {
        let r = app
            .get_as(&format!("/reviews/{child}?format=md&{wrong}"), &panel)
            .await;
        assert_eq!(r.status, 400, "{wrong}: {}", r.text);
    }
    let refused = app
        .get_as(&format!("/reviews/{child}?format=md"), &outsider)
        .await;
    assert_ne!(refused.status, 200, "the record's rule first");
    assert!(!refused.text.contains("Child A"));

    let log: Vec<(String, String)> = app
        .store
        .access_log(&child)
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == "panel")
        .map(|e| (e.action, e.reason.unwrap_or_default()))
        .collect();
    assert!(
        log.contains(&("read_chronology".into(), String::new())),
        "{log:?}"
    );
    assert!(log.iter().any(|(a, _)| a == "read_reviews"));
    assert!(log.iter().any(|(a, _)| a == "export_review"));

    // The lead names the panel: only its members read by the review from then on.
    let named = incident(
        "si-1b",
        "2007-08-07",
        json!({"kind": "serious_incident", "stage": "notified", "panel": ["panel2"]}),
    );
    let r = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            named.to_string(),
            &council,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let member = app.user("panel2", "north-police", Role::ReviewPanel);
    assert_eq!(reads(member.clone()).await, 200, "a named member reads");
    assert_eq!(
        reads(panel.clone()).await,
        403,
        "a panel member not named breaks glass like anyone else"
    );
    assert_eq!(reads(member.clone()).await, 200);
    let listed = app.get_as("/reviews", &panel).await;
    assert!(!listed.text.contains("Sam Example"), "not theirs to review");
    let listed = app.get_as("/reviews", &member).await;
    assert!(listed.text.contains("Sam Example"));

    // The rapid review decides that no local review follows: the record closes to the panel.
    let ruled_out = incident(
        "si-2",
        "2007-08-20",
        json!({"kind": "serious_incident", "stage": "rapid_review", "local_review": false}),
    );
    app.post_as(
        "/api/v1/entries",
        "application/json",
        ruled_out.to_string(),
        &council,
    )
    .await;
    assert_eq!(reads(panel.clone()).await, 403);
    assert!(
        app.get_as("/reviews", &panel)
            .await
            .text
            .contains("No practice review is open")
    );
}

/// A safeguarding lead of children's social care runs a review from the child's page: the
/// incident, the notification naming the panel, the rapid review, the publication; each step
/// a serious incident entry that opens, hands over and closes the record to the named panel.
#[tokio::test]
async fn a_safeguarding_lead_runs_a_practice_review_from_its_page_step_by_step() {
    // Arrange
    let app = spawn_app();
    let mut attended = entry("e1", "2024-07-01");
    attended["recorded_at"] = "2024-07-01T12:00:00Z".into();
    let r = app.post_entries(&attended).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let child = app.find_person("sam").await;
    add_council(&app);
    let council_lead = app.user(
        "council-lead",
        "north-childrens-services",
        Role::SafeguardingLead,
    );
    let police_lead = app.user("police-lead", "north-police", Role::SafeguardingLead);
    let social_worker = app.user("sw", "north-childrens-services", Role::Practitioner);
    let ann = app.user("ann", "north-police", Role::ReviewPanel);
    let raj = app.user("raj", "north-hospital", Role::ReviewPanel);
    let path = format!("/persons/{child}/practice-review");
    let reads = |auth: &Auth| {
        let (app, path) = (&app, format!("/api/v1/persons/{child}/chronology"));
        let auth = auth.clone();
        async move { app.get_as(&path, &auth).await.status }
    };
    let send = |pairs: Vec<(String, String)>| {
        let (app, path, lead) = (&app, path.clone(), council_lead.clone());
        async move {
            let page = app.get_as(&path, &lead).await;
            let source_id = between(&page.text, r#"name="source_id" value=""#, "\"");
            let step = between(&page.text, r#"name="step" value=""#, "\"");
            let mut form = vec![
                ("source_id".to_owned(), source_id),
                ("step".to_owned(), step),
            ];
            form.extend(pairs);
            app.post_as(
                &path,
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string(&form).unwrap(),
                &lead,
            )
            .await
        }
    };
    let date = |field: &str, d: &str, m: &str, y: &str| {
        form(&[
            (field, d),
            (&format!("{field}-month"), m),
            (&format!("{field}-year"), y),
        ])
    };

    // Act and assert: only the local authority's safeguarding lead runs it.
    for (who, auth) in [
        ("police lead", &police_lead),
        ("social worker", &social_worker),
        ("panel", &ann),
    ] {
        // Refused, or sent to break glass where the record itself is not theirs to read.
        let refused = app.get_as(&path, auth).await;
        assert!(
            [403, 303].contains(&refused.status.as_u16()),
            "{who}: {}",
            refused.text
        );
        assert!(!refused.text.contains("serious incident"), "{who}");
    }
    let first = app.get_as(&path, &council_lead).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.text.contains("Record a serious incident"));
    assert!(first.text.contains("Not open"));
    let record_page = app
        .get_as(&format!("/persons/{child}"), &council_lead)
        .await;
    assert!(
        record_page.text.contains(&path),
        "the child's page links to it"
    );
    let police_page = app.get_as(&format!("/persons/{child}"), &police_lead).await;
    assert!(!police_page.text.contains(&path));
    // Side doors: the recording form, and the API with a social worker's session.
    let generic = app
        .get_as(
            &format!("/persons/{child}/record?kind=serious_incident"),
            &council_lead,
        )
        .await;
    assert_eq!(
        generic.status, 403,
        "the practice review's page is the one way"
    );
    let mut by_hand = entry("si-sw", "2024-08-05");
    by_hand["agency"] = "north-childrens-services".into();
    by_hand["recorded_at"] = "2024-08-05T12:00:00Z".into();
    by_hand["details"] = json!({"kind": "serious_incident", "stage": "notified", "panel": ["ann"]});
    let refused = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            by_hand.to_string(),
            &social_worker,
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(refused.text.contains("details.kind"), "{}", refused.text);
    assert_eq!(reads(&ann).await, 403, "a social worker opens no review");

    // Wrong input: no date, a date in the future, notification before learning of it.
    let wrong = send(
        [
            date("known", "12", "8", "2024"),
            date("notified", "9", "8", "2024"),
        ]
        .concat(),
    )
    .await;
    assert_eq!(wrong.status, 422, "{}", wrong.text);
    assert!(
        wrong
            .text
            .contains("The notification cannot be before learning of the incident"),
        "{}",
        wrong.text
    );
    assert!(wrong.text.contains("Enter what happened to the child"));
    let future = send([date("known", "1", "1", "2999"), form(&[("notes", "x")])].concat()).await;
    assert!(
        future.text.contains("must be today or in the past"),
        "{}",
        future.text
    );
    let stranger = send(
        [
            date("known", "5", "8", "2024"),
            form(&[("notes", "x"), ("panel", "sw")]),
        ]
        .concat(),
    )
    .await;
    assert!(
        stranger
            .text
            .contains("Choose the panel&#39;s members from the list")
            || stranger
                .text
                .contains("Choose the panel's members from the list"),
        "{}",
        stranger.text
    );
    assert_eq!(reads(&ann).await, 403, "nothing was recorded");

    // Learned of it and notified the national panel, naming Ann alone.
    let opened = send(
        [
            date("known", "5", "8", "2024"),
            date("notified", "7", "8", "2024"),
            form(&[
                ("notes", "Serious head injury to the child"),
                ("panel", "ann"),
            ]),
        ]
        .concat(),
    )
    .await;
    assert_eq!(opened.status, 303, "{}", opened.text);
    let stands = app
        .get_as(&format!("{path}?recorded=1"), &council_lead)
        .await;
    assert!(stands.text.contains("Recorded in the child"));
    assert!(stands.text.contains("7 August 2024"));
    assert!(stands.text.contains("Record the rapid review"));
    // Notified within 5 working days of learning of it; the rapid review is due 15 working
    // days after the notification (Wednesday 7 August 2024 + 15 = Thursday 29 August: the
    // August bank holiday, the 26th, not counted).
    assert!(stands.text.contains("Met"), "{}", stands.text);
    assert!(stands.text.contains("29 August 2024"), "{}", stands.text);
    assert_eq!(reads(&ann).await, 200, "the named member reads");
    assert_eq!(reads(&raj).await, 403, "a member not named breaks glass");
    let log = app.store.access_log(&child).unwrap();
    assert!(
        log.iter()
            .any(|e| e.actor == "council-lead" && e.action == "read_practice_review")
    );

    // The rapid review: a local review follows, with Raj on its panel.
    let rapid = send(
        [
            date("rapid_review", "20", "8", "2024"),
            form(&[("local_review", "yes"), ("panel", "raj")]),
        ]
        .concat(),
    )
    .await;
    assert_eq!(rapid.status, 303, "{}", rapid.text);
    assert_eq!(reads(&raj).await, 200);
    assert_eq!(reads(&ann).await, 403, "the panel changed hands");
    let stands = app.get_as(&path, &council_lead).await;
    assert!(stands.text.contains("a local review follows"));
    assert!(
        stands.text.contains("Record the review&#39;s publication")
            || stands.text.contains("Record the review's publication")
    );

    // A form left open at the rapid review is not recorded over the next step.
    let stale = app
        .post_as(
            &path,
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string([
                ("source_id", uuid::Uuid::now_v7().to_string()),
                ("step", "rapid_review".to_owned()),
                ("rapid_review", "21".to_owned()),
                ("rapid_review-month", "8".to_owned()),
                ("rapid_review-year", "2024".to_owned()),
                ("local_review", "no".to_owned()),
            ])
            .unwrap(),
            &council_lead,
        )
        .await;
    assert_eq!(stale.status, 422);
    assert!(
        stale
            .text
            .contains("recorded this step of the review meanwhile")
    );
    assert_eq!(reads(&raj).await, 200, "still open");

    // Published: the record closes to the panel.
    let published = send(date("published", "3", "12", "2024")).await;
    assert_eq!(published.status, 303, "{}", published.text);
    assert_eq!(reads(&raj).await, 403);
    let stands = app.get_as(&path, &council_lead).await;
    assert!(stands.text.contains("Closed"));
    assert!(
        stands.text.contains("Record a serious incident"),
        "another incident may follow"
    );
    let kinds: Vec<Value> = app
        .get(&format!("/api/v1/persons/{child}/chronology"))
        .await
        .json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entry"]["details"]["kind"] == "serious_incident")
        .map(|e| e["entry"]["details"]["stage"].clone())
        .collect();
    assert_eq!(
        kinds,
        ["known", "notified", "rapid_review", "review_published"]
    );
}

/// The text between `start` and the next `end` after it.
fn between(text: &str, start: &str, end: &str) -> String {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        + start.len();
    text[at..].split(end).next().unwrap().to_owned()
}

/// A form's fields as owned pairs.
fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Adds the local authority's children's social care, whose record opens a review.
fn add_council(app: &TestApp) {
    app.store
        .put_agency(&Agency {
            id: AgencyId::parse("north-childrens-services").unwrap(),
            name: "North Children's Services".into(),
            kind: AgencyKind::SocialCare,
        })
        .unwrap();
}
