//! Webhooks: an agency's system receives its alerts, signed, and a failed delivery waits.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use safeguard_core::access::Role;
use safeguard_core::{AgencyId, PersonId};
use safeguard_store::webhooks::sign;

use crate::helpers::{entry, spawn_app};

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a free local port that records every request.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/hook"), received)
}

#[tokio::test]
async fn an_alert_is_posted_to_the_agencys_webhook_with_a_valid_signature() {
    // Arrange
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let person: PersonId = app.find_person("sam").await.parse().unwrap();
    app.user("lead-pc", "north-police", Role::Practitioner);
    app.store.allocate(person, "lead-pc", true).unwrap();
    let (url, received) = receiver().await;
    let secret = app
        .store
        .set_webhook(&AgencyId::parse("north-police").unwrap(), &url)
        .unwrap();

    // Act
    app.post_entries(&entry("e2", "2007-02-01")).await;
    let delivered = safeguard_web::webhooks::deliver_due(&app.store)
        .await
        .unwrap();

    // Assert
    assert_eq!(delivered, 1);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(
        headers["x-safeguard-signature"],
        sign(&secret, body).as_str()
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["user"], "lead-pc");
    assert_eq!(json["person"], person.to_string());
    assert!(
        !body.contains("Sam") && !body.contains("Example"),
        "identifiers only, no names: {body}"
    );
    assert_eq!(app.store.pending_deliveries().unwrap(), 0);
    assert_eq!(
        safeguard_web::webhooks::deliver_due(&app.store)
            .await
            .unwrap(),
        0,
        "delivered once"
    );
}

#[tokio::test]
async fn a_failed_delivery_stays_queued_for_a_later_attempt() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let person: PersonId = app.find_person("sam").await.parse().unwrap();
    app.user("lead-pc", "north-police", Role::Practitioner);
    app.store.allocate(person, "lead-pc", true).unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    app.store
        .set_webhook(
            &AgencyId::parse("north-police").unwrap(),
            &format!("http://{closed}/hook"),
        )
        .unwrap();

    app.post_entries(&entry("e2", "2007-02-01")).await;
    assert_eq!(
        safeguard_web::webhooks::deliver_due(&app.store)
            .await
            .unwrap(),
        0
    );

    assert_eq!(app.store.pending_deliveries().unwrap(), 1);
    assert!(
        app.store.due_deliveries(10).unwrap().is_empty(),
        "not retried at once: it waits"
    );
    assert!(
        app.store
            .set_webhook(&AgencyId::parse("north-police").unwrap(), "ftp://x")
            .is_err()
    );
}
