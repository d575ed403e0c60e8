//! POST /api/v1/entries: storing, idempotent re-sending, and refusing bad input with its field.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{entry, spawn_app};

#[tokio::test]
async fn an_entry_is_stored_once_however_often_it_is_sent() {
    // Arrange
    let app = spawn_app();

    // Act
    let first = app.post_entries(&entry("e1", "2006-12-11T14:30")).await;
    let again = app.post_entries(&entry("e1", "2006-12-11T14:30")).await;

    // Assert
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json()["results"][0]["outcome"], "created");
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["results"][0]["outcome"], "already_recorded");
    assert_eq!(
        again.json()["results"][0]["id"],
        first.json()["results"][0]["id"]
    );
    assert_eq!(app.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn a_batch_reports_each_entry_in_order() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2006-12-11")).await;

    let r = app
        .post_entries(&json!([
            entry("e1", "2006-12-11"),
            entry("e2", "2006-12-12")
        ]))
        .await;

    assert_eq!(r.status, StatusCode::CREATED);
    let outcomes: Vec<_> = r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("already_recorded"), json!("created")]);
}

#[tokio::test]
async fn every_bad_entry_of_a_batch_is_named_and_nothing_is_written() {
    let app = spawn_app();
    let mut bad_nhs = entry("e2", "2006-12-12");
    bad_nhs["persons"][0]["record"]["nhs_number"] = "9434765918".into();
    let mut bad_kind = entry("e3", "2006-12-13");
    bad_kind["details"]["kind"] = "teleportation".into();
    let mut no_summary = entry("e4", "2006-12-14");
    no_summary.as_object_mut().unwrap().remove("summary");

    let r = app
        .post_entries(&json!([
            entry("e1", "2006-12-11"),
            bad_nhs,
            bad_kind,
            no_summary
        ]))
        .await;

    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.error_fields(),
        [
            "[1].persons[0].record.nhs_number",
            "[2].details.kind",
            "[3].summary"
        ]
    );
    assert!(
        r.json()["fields"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    assert_eq!(
        app.store.entry_count().unwrap(),
        0,
        "the good entry was not written either"
    );
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_a_json_body_never_a_5xx() {
    let app = spawn_app();
    let mut unknown_agency = entry("e1", "2006-12-11");
    unknown_agency["agency"] = "south-police".into();
    let mut bad_date = entry("e1", "2006-12-11");
    bad_date["occurred_at"] = "11/12/2006".into();
    let mut bad_postcode = entry("e1", "2006-12-11");
    bad_postcode["persons"][0]["record"]["addresses"][0]["postcode"] = "N17".into();
    let mut bad_reference = entry("e1", "2006-12-11");
    bad_reference["residences"][0]["person"] = "nobody".into();
    let mut unknown_field = entry("e1", "2006-12-11");
    unknown_field["colour"] = "blue".into();
    let mut bad_supersedes = entry("e1", "2006-12-11");
    bad_supersedes["supersedes"] = "never-sent".into();

    let other_agency = app.post_entries(&unknown_agency).await;
    assert_eq!(
        other_agency.status,
        StatusCode::FORBIDDEN,
        "the hospital's token writes only the hospital's entries"
    );
    assert_eq!(other_agency.json()["error"], "forbidden");
    let cases = [
        (
            bad_date.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "occurred_at",
        ),
        (
            bad_postcode.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "persons[0].record.addresses[0].postcode",
        ),
        (
            bad_reference.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "residences[0].person",
        ),
        (
            unknown_field.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
        (
            bad_supersedes.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "supersedes",
        ),
        ("{not json".to_owned(), StatusCode::BAD_REQUEST, ""),
        (
            "\"a string\"".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        ("[]".to_owned(), StatusCode::UNPROCESSABLE_ENTITY, ""),
    ];
    for (body, status, field) in cases {
        let r = app.post_entries_raw(body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.content_type.starts_with("application/json"));
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    assert_eq!(app.store.entry_count().unwrap(), 0);
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let app = spawn_app();
    let huge = vec![b' '; 17 * 1024 * 1024];
    let r = app.post_entries_raw(huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"], "too_large");
}

#[tokio::test]
async fn process_entries_whose_fields_contradict_each_other_are_refused_naming_the_field() {
    let app = spawn_app();
    let cases: [(serde_json::Value, &str); 6] = [
        (
            json!({"kind": "home_visit", "child_seen": true, "child_seen_alone": false, "outcome": "doorstep_only"}),
            "details.outcome",
        ),
        (
            json!({"kind": "assessment", "stage": "completed"}),
            "details.child_seen",
        ),
        (
            json!({"kind": "assessment", "stage": "started", "factors": ["99"]}),
            "details.factors[0]",
        ),
        (
            json!({"kind": "police_call_out", "children_present": [], "children_seen": ["C1"]}),
            "details.children_seen[0]",
        ),
        (
            json!({"kind": "section47_enquiry", "stage": "started", "icpc_required": false}),
            "details.icpc_required",
        ),
        (
            json!({"kind": "case_closure", "reason": "RC10"}),
            "details.reason",
        ),
    ];
    for (details, field) in cases {
        let mut e = entry("p1", "2007-01-01");
        e["details"] = details.clone();

        let r = app.post_entries(&e).await;

        assert_eq!(r.status, 422, "{details}: {}", r.text);
        assert_eq!(r.error_fields(), [field], "{details}");
    }
    assert_eq!(app.store.entry_count().unwrap(), 0, "nothing was written");
    // The side door: a completed assessment sent as census history, which is not asked
    // whether the child was seen.
    let mut history = entry("p1", "2007-01-01");
    history["details"] = json!({"kind": "assessment", "stage": "completed"});
    history["source"]["system"] = json!("cin-census-return");
    let r = app.post_entries(&history).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("source.system: "),
        "{}",
        r.text
    );
    assert_eq!(app.store.entry_count().unwrap(), 0);
    let mut fine = entry("p1", "2007-01-01");
    fine["details"] = json!({"kind": "contact", "referral_source": "9"});
    assert_eq!(
        app.post_entries(&fine).await.status,
        201,
        "an anonymous contact"
    );
}
