//! FHIR R4: an agency system's Bundle in, a child's record out, under the same rule and audit.

use safeguard_core::access::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, entry, spawn_app};

const SAMPLE: &str = include_str!("../../../../data/fhir/ed-attendance-bundle.json");

async fn post_bundle(app: &TestApp, body: &str) -> crate::helpers::TestResponse {
    app.post_as(
        "/fhir/Bundle",
        "application/fhir+json",
        body.to_owned(),
        &app.hospital,
    )
    .await
}

#[tokio::test]
async fn a_hospital_bundle_is_stored_once_and_its_record_comes_back_as_the_same_bundle() {
    let app = spawn_app();

    // A transaction Bundle from the hospital's system: three entries, then nothing new.
    let r = post_bundle(&app, SAMPLE).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.content_type.starts_with("application/fhir+json"));
    let statuses: Vec<Value> = r.json()["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("201 Created"); 3]);
    assert_eq!(app.store.entry_count().unwrap(), 3);
    let again = post_bundle(&app, SAMPLE).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(app.store.entry_count().unwrap(), 3);

    // The child's record as FHIR, read by the hospital, audited.
    let child = app.find_person("leo").await;
    let r = app
        .get_as(&format!("/fhir/Patient/{child}/$everything"), &app.hospital)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type.starts_with("application/fhir+json"));
    let bundle = r.json();
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Patient",
            "RelatedPerson",
            "RelatedPerson",
            "Encounter",
            "Condition",
            "Observation"
        ]
    );
    assert_eq!(
        bundle["entry"][0]["fullUrl"],
        format!("http://localhost/fhir/Patient/{child}")
    );
    let log = app.store.access_log(&child).unwrap();
    assert!(
        log.iter().any(|e| e.action == "read_fhir_everything"),
        "{log:?}"
    );

    // Sent back by the hospital, it is what is already held.
    let back = post_bundle(&app, &bundle.to_string()).await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(app.store.entry_count().unwrap(), 3);
}

#[tokio::test]
async fn a_bundle_is_refused_whole_naming_each_resource_and_element() {
    let app = spawn_app();
    let mut bundle: Value = serde_json::from_str(SAMPLE).unwrap();
    bundle["entry"][3]["resource"]["class"]["code"] = json!("VR");
    bundle["entry"][5]["resource"]["identifier"] =
        json!([{"system": "urn:safeguard:entry:north-police:niche", "value": "P-1"}]);
    let r = post_bundle(&app, &bundle.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.error_fields(),
        [
            "Encounter/ed-20240614-1.class",
            "Observation/obs-20240614-1.identifier"
        ]
    );
    assert_eq!(app.store.entry_count().unwrap(), 0, "nothing was stored");
    let r = post_bundle(&app, "{ not json").await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn only_an_agency_system_sends_a_bundle_and_a_stranger_reads_no_record() {
    let app = spawn_app();
    let worker = app.user("worker", "north-hospital", Role::Practitioner);
    let r = app
        .post_as(
            "/fhir/Bundle",
            "application/fhir+json",
            SAMPLE.to_owned(),
            &worker,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.store.entry_count().unwrap(), 0);

    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    let stranger = app.user("stranger", "north-police", Role::Practitioner);
    let r = app
        .get_as(&format!("/fhir/Patient/{child}/$everything"), &stranger)
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!r.text.contains("Sam"), "{}", r.text);
    let log = app.store.access_log(&child).unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "access_denied"
                && e.reason.as_deref() == Some("read_fhir_everything")),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_resource_changed_since_it_was_sent_is_refused_never_stored_over() {
    let app = spawn_app();
    assert_eq!(post_bundle(&app, SAMPLE).await.status, 201);
    let changed = SAMPLE.replace("rolled off the sofa", "fell from the changing table");
    let r = post_bundle(&app, &changed).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(!r.text.contains("changing table"), "{}", r.text);
    assert_eq!(app.store.entry_count().unwrap(), 3);
    let child = app.find_person("leo").await;
    let bundle = app
        .get_as(&format!("/fhir/Patient/{child}/$everything"), &app.hospital)
        .await
        .text;
    assert!(bundle.contains("rolled off the sofa"), "the first is kept");
}
