//! The review queue: proposed links with their evidence, and safeguarding leads' decisions.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, entry, spawn_app};

/// Sam Example as registered (date of birth, address), and again as "C7" with no date of
/// birth at the same address: perhaps Sam, perhaps another Sam of that home.
async fn two_registrations(app: &TestApp) -> (String, String) {
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let mut again = entry("e2", "2007-02-01");
    again["persons"][0]["record"] = json!({"local_id": "C7",
        "name": {"given": ["Sam"], "family": "Example"},
        "addresses": [{"lines": ["1 Example Road"], "postcode": "N17 6AA"}]});
    again["residences"] = json!([]);
    let r = app.post_entries(&again).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let queue = app.get("/api/v1/link-reviews").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let reviews = queue.json()["reviews"].as_array().unwrap().clone();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    let ids = |r: &Value| {
        (
            r["a"]["record"].as_str().unwrap().to_owned(),
            r["b"]["record"].as_str().unwrap().to_owned(),
        )
    };
    ids(&reviews[0])
}

#[tokio::test]
async fn the_queue_explains_each_pair_and_a_decision_joins_the_chronologies() {
    let app = spawn_app();
    let (a, b) = two_registrations(&app).await;
    let review = &app.get("/api/v1/link-reviews").await.json()["reviews"][0];
    let evidence = review["evidence"].as_array().unwrap();
    let level = |c: &str| {
        evidence.iter().find(|e| e["comparison"] == c).unwrap()["level"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(level("given name"), "exact");
    assert_eq!(level("date of birth"), "missing");
    assert_eq!(level("home"), "same address");
    let total: f64 = review["prior_against_unrelated"].as_f64().unwrap()
        + evidence
            .iter()
            .map(|e| e["against_unrelated"].as_f64().unwrap())
            .sum::<f64>();
    assert!((total - review["total_against_unrelated"].as_f64().unwrap()).abs() < 1e-9);

    let page = app.get("/link-reviews").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Possible matches to review"));
    assert!(page.text.contains("same address"), "the evidence is shown");
    assert!(page.text.contains("North Hospital"), "agencies by name");
    assert!(
        page.text.contains(&format!("value=\"{a}\"")),
        "a form per pair"
    );

    // Unexplained: refused, named.
    let bad = app
        .post_as(
            "/api/v1/link-decisions",
            "application/json",
            json!({"a": a, "b": b, "verdict": "same_person", "reason": ""}).to_string(),
            &app.lead,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["reason"]);

    let decided = app
        .post_as(
            "/api/v1/link-decisions",
            "application/json",
            json!({"a": a, "b": b, "verdict": "same_person",
                   "reason": "Same child: the ward confirmed the registration"})
            .to_string(),
            &app.lead,
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    let body = decided.json();
    assert_eq!(body["persons"].as_array().unwrap().len(), 1);
    assert_eq!(body["merged"].as_array().unwrap().len(), 1);
    let person = body["persons"][0].as_str().unwrap();
    let chronology = app
        .get(&format!("/api/v1/persons/{person}/chronology"))
        .await
        .json();
    assert_eq!(
        chronology["entries"].as_array().unwrap().len(),
        2,
        "both registrations' entries in one chronology"
    );
    let queue = app.get("/api/v1/link-reviews").await.json();
    assert!(queue["reviews"].as_array().unwrap().is_empty());

    // The retired person's address leads to the survivor.
    let retired = body["merged"][0].as_str().unwrap();
    let page = app.get(&format!("/persons/{retired}")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], format!("/persons/{person}"));
    let api = app.get(&format!("/api/v1/persons/{retired}")).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.json()["message"].as_str().unwrap().contains(person));
}

#[tokio::test]
async fn the_page_decides_and_names_what_is_missing() {
    let app = spawn_app();
    let (a, b) = two_registrations(&app).await;
    // The session's CSRF token travels in the header (see the helpers).
    let form = |verdict: &str, reason: &str| {
        serde_urlencoded::to_string([
            ("a", a.as_str()),
            ("b", b.as_str()),
            ("verdict", verdict),
            ("reason", reason),
        ])
        .unwrap()
    };
    let urlencoded = "application/x-www-form-urlencoded";
    let no_choice = app
        .post_as("/link-reviews", urlencoded, form("", "checked"), &app.lead)
        .await;
    assert_eq!(no_choice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_choice
            .text
            .contains("Choose the same person or different people")
    );

    let saved = app
        .post_as(
            "/link-reviews",
            urlencoded,
            form("different_people", "Twins: the other is Sam's brother"),
            &app.lead,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = app.get("/link-reviews").await;
    assert!(page.text.contains("Nothing is waiting for a decision."));

    let practitioner = app.user(
        "worker",
        "north-hospital",
        safeguard_core::access::Role::Practitioner,
    );
    assert_eq!(
        app.get_as("/link-reviews", &practitioner).await.status,
        StatusCode::FORBIDDEN,
        "only safeguarding leads decide who is who"
    );
}
