//! Flags: raised in the request that records the entry, served by the API and on the page.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{entry, spawn_app};

fn injury(source_id: &str, day: &str) -> serde_json::Value {
    let mut e = entry(source_id, day);
    e["details"] =
        json!({"kind": "injury_observed", "body_site": "left ear", "injury_type": "bruise"});
    e["recorded_at"] = format!("{day}T18:00:00Z").into();
    e
}

#[tokio::test]
async fn an_injury_to_a_young_baby_is_flagged_by_the_time_the_sender_hears_back() {
    let app = spawn_app();

    let r = app.post_entries(&injury("e1", "2006-12-11")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let entry_id = r.json()["results"][0]["id"].clone();
    let child = app.find_person("sam").await;
    let flags = app
        .get(&format!("/api/v1/persons/{child}/flags"))
        .await
        .json();

    let rules: Vec<&str> = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["injury_to_non_mobile_baby", "unverified_adult"],
        "the adult with the child (Daniel) has had no background check either"
    );
    let flag = &flags["flags"][0];
    assert_eq!(flag["entries"], json!([entry_id]));
    assert_eq!(flag["first_knowable"], "2006-12-11");
    assert_eq!(flag["severity"], "high");
    assert!(
        flag["sentence"]
            .as_str()
            .unwrap()
            .contains("under 6 months")
    );

    app.post_entries(&injury("e2", "2007-01-20")).await;
    let flags = app
        .get(&format!("/api/v1/persons/{child}/flags"))
        .await
        .json();
    let rules: Vec<&str> = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"repeated_injuries"), "{rules:?}");

    let page = app.get(&format!("/persons/{child}")).await;
    assert!(page.text.contains("Concerns"));
    assert!(
        page.text
            .contains("2 or more injuries were recorded within 90 days."),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("href=\"#entry-{}\"", entry_id.as_str().unwrap()))
    );
}
