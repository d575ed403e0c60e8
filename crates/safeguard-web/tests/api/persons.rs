//! The persons resource: search, a person, their chronology and their household.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{entry, spawn_app};

#[tokio::test]
async fn the_chronology_comes_back_in_time_order_with_the_people_linked() {
    let app = spawn_app();
    app.post_entries(&json!([
        entry("late", "2007-04-10"),
        entry("early", "2006-12-11T09:00")
    ]))
    .await;
    let child = app.find_person("sam").await;

    let r = app
        .get(&format!("/api/v1/persons/{child}/chronology"))
        .await;

    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    let ids: Vec<_> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["source"]["id"].clone())
        .collect();
    assert_eq!(ids, [json!("early"), json!("late")]);
    assert_eq!(body["entries"][0]["person_ids"][0], json!(child));
    assert!(body["next"].is_null());
}

#[tokio::test]
async fn chronology_pages_chain_through_next() {
    let app = spawn_app();
    let batch: Vec<_> = (1..=5)
        .map(|d| entry(&format!("e{d}"), &format!("2007-01-0{d}")))
        .collect();
    app.post_entries(&json!(batch)).await;
    let child = app.find_person("sam").await;

    let first = app
        .get(&format!("/api/v1/persons/{child}/chronology?limit=3"))
        .await
        .json();
    let next = first["next"].as_str().expect("a second page");
    let second = app
        .get(&format!(
            "/api/v1/persons/{child}/chronology?limit=3&after={next}"
        ))
        .await
        .json();

    assert_eq!(first["entries"].as_array().unwrap().len(), 3);
    assert_eq!(second["entries"].as_array().unwrap().len(), 2);
    assert_eq!(second["entries"][0]["entry"]["source"]["id"], "e4");
    assert!(second["next"].is_null());
}

#[tokio::test]
async fn chronology_filters_are_applied() {
    let app = spawn_app();
    app.post_entries(&json!([
        entry("e1", "2007-01-01"),
        entry("e2", "2007-02-01")
    ]))
    .await;
    let child = app.find_person("sam").await;
    let count = |uri: String| {
        let app = &app;
        async move {
            app.get(&uri).await.json()["entries"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(
        count(format!(
            "/api/v1/persons/{child}/chronology?from=2007-01-15"
        ))
        .await,
        1
    );
    assert_eq!(
        count(format!("/api/v1/persons/{child}/chronology?to=2007-01-01")).await,
        1
    );
    assert_eq!(
        count(format!(
            "/api/v1/persons/{child}/chronology?agency=north-police"
        ))
        .await,
        0
    );
    assert_eq!(
        count(format!(
            "/api/v1/persons/{child}/chronology?kind=hospital_attendance,home_visit"
        ))
        .await,
        2
    );
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=lots", "limit"),
        ("kind=teleportation", "kind"),
        ("from=yesterday", "from"),
        ("from=2007-02-01&to=2007-01-01", "to"),
        ("after=garbage", "after"),
        ("agency=Not%20An%20Agency", "agency"),
        ("include_superseded=maybe", "include_superseded"),
    ] {
        let r = app
            .get(&format!("/api/v1/persons/{child}/chronology?{query}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.error_fields(), [field], "{query}");
    }
    let r = app.get("/api/v1/persons/not-a-uuid").await;
    assert_eq!(
        (r.status, r.error_fields()),
        (StatusCode::BAD_REQUEST, vec!["id".to_owned()])
    );
    let r = app
        .get(&format!("/api/v1/persons/{child}/household?at=June"))
        .await;
    assert_eq!(
        (r.status, r.error_fields()),
        (StatusCode::BAD_REQUEST, vec!["at".to_owned()])
    );
    let r = app
        .get(&format!("/api/v1/persons/{child}/household?around_days=0"))
        .await;
    assert_eq!(r.error_fields(), ["around_days"]);
}

#[tokio::test]
async fn malformed_query_strings_and_unknown_paths_answer_in_the_error_shape() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;

    let repeated = app
        .get(&format!(
            "/api/v1/persons/{child}/chronology?limit=1&limit=2"
        ))
        .await;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert_eq!(repeated.error_fields(), ["query"]);

    // Bytes that are not UTF-8 are read leniently: a search for nothing in particular.
    let bad_encoding = app.get("/api/v1/persons?q=%FF%FE").await;
    assert_eq!(bad_encoding.status, StatusCode::OK);
    assert_eq!(bad_encoding.json()["persons"], serde_json::json!([]));

    let nowhere = app.get("/api/v1/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.json()["error"], "not_found");
}

#[tokio::test]
async fn an_unknown_person_is_not_found() {
    let app = spawn_app();
    let nobody = "00000000-0000-0000-0000-000000000000";
    for uri in [
        format!("/api/v1/persons/{nobody}"),
        format!("/api/v1/persons/{nobody}/chronology"),
        format!("/api/v1/persons/{nobody}/household?at=2007-01-01"),
    ] {
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.json()["error"], "not_found");
    }
}

#[tokio::test]
async fn a_person_shows_every_record_and_search_finds_by_each_identifier() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("Sam%20Example").await;
    assert_eq!(app.find_person("N17%206AA").await, child);
    assert_eq!(app.find_person("14%2F06%2F2006").await, child);

    let person = app.get(&format!("/api/v1/persons/{child}")).await.json();
    assert_eq!(person["records"][0]["agency"], "north-hospital");
    assert_eq!(person["records"][0]["record"]["name"]["given"][0], "Sam");

    let none = app.get("/api/v1/persons?q=nobody").await.json();
    assert_eq!(none["persons"], json!([]));
}

#[tokio::test]
async fn the_household_at_a_date_lists_who_lived_there() {
    let app = spawn_app();
    let mut e = entry("e1", "2007-01-01");
    e["residences"]
        .as_array_mut()
        .unwrap()
        .push(json!({"person": "A1",
        "address": {"lines": ["1 Example Road"], "postcode": "N17 6AA"}, "strength": "observed"}));
    app.post_entries(&e).await;
    let child = app.find_person("sam").await;
    let adult = app.find_person("daniel").await;

    let before = app
        .get(&format!("/api/v1/persons/{child}/household?at=2006-12-31"))
        .await
        .json();
    let after = app
        .get(&format!("/api/v1/persons/{child}/household?at=2007-01-01"))
        .await
        .json();

    assert_eq!(before["members"], json!([]));
    assert_eq!(after["members"][0]["person"], json!(adult));
    assert_eq!(after["members"][0]["strength"], "observed");
}

#[tokio::test]
async fn health_reports_the_engine() {
    let app = spawn_app();
    let r = app.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"status": "ok", "engine": "sqlite"}));
}
