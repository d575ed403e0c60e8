//! Alerts: the lead professional hears of what other agencies record about their child.

use safeguard_core::PersonId;
use safeguard_core::access::Role;
use serde_json::json;

use crate::helpers::{Auth, entry, spawn_app};

#[tokio::test]
async fn the_lead_professional_is_alerted_when_another_agency_records_an_entry() {
    // Arrange: a police worker leads the child; a police colleague is allocated too.
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    let person: PersonId = child.parse().unwrap();
    let lead = app.user("lead-pc", "north-police", Role::Practitioner);
    let colleague = app.user("other-pc", "north-police", Role::Practitioner);
    app.store.allocate(person, "lead-pc", true).unwrap();
    app.store.allocate(person, "other-pc", false).unwrap();
    let alerts = |auth: &Auth| {
        let app = &app;
        let auth = auth.clone();
        async move {
            app.get_as("/api/v1/alerts", &auth).await.json()["alerts"]
                .as_array()
                .unwrap()
                .clone()
        }
    };

    // Act: the hospital records another attendance.
    let r = app.post_entries(&entry("e2", "2007-02-01")).await;
    let entry_id = r.json()["results"][0]["id"].clone();

    // Assert: stored before the hospital heard back.
    let lead_alerts = alerts(&lead).await;
    assert_eq!(lead_alerts.len(), 1);
    assert_eq!(lead_alerts[0]["entry"], entry_id);
    assert_eq!(lead_alerts[0]["agency"], "north-hospital");
    assert_eq!(lead_alerts[0]["read"], false);
    assert!(
        alerts(&colleague).await.is_empty(),
        "not the lead, and the child is not on a plan"
    );

    // On a plan, every allocated worker of another agency hears.
    let mut plan = entry("e3", "2007-03-01");
    plan["details"] = json!({"kind": "plan_start", "category": "neglect"});
    app.post_entries(&plan).await;
    app.post_entries(&entry("e4", "2007-03-05")).await;
    assert_eq!(
        alerts(&colleague).await.len(),
        2,
        "the plan and the attendance after it"
    );

    // Opening the record marks them read.
    app.get_as(&format!("/persons/{child}"), &lead).await;
    assert!(alerts(&lead).await.iter().all(|a| a["read"] == true));
    let page = app.get_as("/alerts", &lead).await;
    assert!(page.text.contains("Sam Example"), "the child by name");
    assert!(
        page.text.contains("North Hospital"),
        "the agency by its name"
    );
    assert!(page.text.contains("Hospital attendance"), "what happened");
    let read: Vec<String> = app
        .store
        .access_log(&child)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "read_alerts")
        .map(|e| e.actor)
        .collect();
    assert_eq!(read, ["lead-pc"], "the page named the child: audited");
}

#[tokio::test]
async fn an_agency_is_not_alerted_about_its_own_entries() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let person: PersonId = app.find_person("sam").await.parse().unwrap();
    let doctor = app.user("doctor", "north-hospital", Role::Practitioner);
    app.store.allocate(person, "doctor", true).unwrap();
    app.post_entries(&entry("e2", "2007-02-01")).await;
    let r = app.get_as("/api/v1/alerts", &doctor).await;
    assert_eq!(r.json()["alerts"], json!([]));
}
