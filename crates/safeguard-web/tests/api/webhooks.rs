//! Webhooks: an agency's system receives its alerts, signed, over HTTPS or HTTP, and a failed
//! delivery waits.
//!
//! `tls/` holds a test certificate authority and a certificate it issued for `localhost` and
//! 127.0.0.1, valid until 2126 (made with `openssl`; the authority's key was thrown away).

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use safeguard_core::access::Role;
use safeguard_core::{AgencyId, PersonId};
use safeguard_store::webhooks::sign;
use safeguard_web::webhooks::{WebhookClient, deliver_due};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

use crate::helpers::{TestApp, entry, spawn_app};

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

/// An app holding a child ("Sam", entry `e1`) whose lead professional is in the police, and
/// the police's webhook at `url`: the app, the child and the webhook's signing secret.
async fn child_held_by_police(url: &str) -> (TestApp, PersonId, String) {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let person: PersonId = app.find_person("sam").await.parse().unwrap();
    app.user("lead-pc", "north-police", Role::Practitioner);
    app.store.allocate(person, "lead-pc", true).unwrap();
    let secret = app
        .store
        .set_webhook(&AgencyId::parse("north-police").unwrap(), url)
        .unwrap();
    (app, person, secret)
}

/// The one request received, its signature checked: its body as JSON, and as text.
fn the_one_delivery(received: &Received, secret: &str) -> (serde_json::Value, String) {
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(
        headers["x-safeguard-signature"],
        sign(secret, body).as_str()
    );
    (serde_json::from_str(body).unwrap(), body.clone())
}

fn tls_path(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/tls")
        .join(file)
}

/// A client trusting the system's authorities only.
fn client() -> WebhookClient {
    WebhookClient::new(None).unwrap()
}

/// An HTTPS receiver for `localhost` on a free port, answering 200 and recording each request.
async fn tls_receiver() -> (String, Received) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(tls_path("localhost.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_path("localhost.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue; // a client that does not trust us
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Headers, then as much body as Content-Length says.
            let (head, body) = loop {
                let n = tls.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap();
                    if body.len() >= length || n == 0 {
                        break (head.to_owned(), body.to_owned());
                    }
                }
            };
            let mut headers = HeaderMap::new();
            for line in head.lines().skip(1) {
                let (name, value) = line.split_once(": ").unwrap();
                headers.insert(
                    axum::http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                        .unwrap(),
                    value.parse().unwrap(),
                );
            }
            store.lock().unwrap().push((headers, body));
            tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await
                .unwrap();
            let _ = tls.shutdown().await;
        }
    });
    (format!("https://localhost:{port}/hook"), received)
}

#[tokio::test]
async fn an_alert_is_posted_over_https_to_a_receiver_the_deployment_trusts() {
    // Arrange: a child held by the police, whose webhook is an HTTPS URL.
    let (url, received) = tls_receiver().await;
    let (app, person, secret) = child_held_by_police(&url).await;
    app.post_entries(&entry("e2", "2007-02-01")).await;

    // Act and assert: a client that does not trust the test authority refuses the receiver,
    // and the delivery waits.
    assert_eq!(deliver_due(&app.store, &client()).await.unwrap(), 0);
    assert!(received.lock().unwrap().is_empty());
    assert_eq!(app.store.pending_deliveries().unwrap(), 1);

    // One that trusts it delivers, signed, once the wait is over.
    let trusting = WebhookClient::new(Some(&tls_path("ca.pem"))).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the first wait: 1 s
    assert_eq!(deliver_due(&app.store, &trusting).await.unwrap(), 1);
    let (json, _) = the_one_delivery(&received, &secret);
    assert_eq!(json["person"], person.to_string());
    assert_eq!(app.store.pending_deliveries().unwrap(), 0);
}

#[test]
fn a_webhook_ca_file_without_certificates_is_refused_by_name() {
    let err = WebhookClient::new(Some(&tls_path("localhost.key")))
        .err()
        .unwrap();
    assert!(err.contains("localhost.key"), "{err}");
    let err = WebhookClient::new(Some(&tls_path("missing.pem")))
        .err()
        .unwrap();
    assert!(err.contains("missing.pem"), "{err}");
}

#[tokio::test]
async fn an_alert_is_posted_to_the_agencys_webhook_with_a_valid_signature() {
    // Arrange
    let (url, received) = receiver().await;
    let (app, person, secret) = child_held_by_police(&url).await;

    // Act
    app.post_entries(&entry("e2", "2007-02-01")).await;
    let delivered = deliver_due(&app.store, &client()).await.unwrap();

    // Assert
    assert_eq!(delivered, 1);
    let (json, body) = the_one_delivery(&received, &secret);
    assert_eq!(json["user"], "lead-pc");
    assert_eq!(json["person"], person.to_string());
    assert!(
        !body.contains("Sam") && !body.contains("Example"),
        "identifiers only, no names: {body}"
    );
    assert_eq!(app.store.pending_deliveries().unwrap(), 0);
    assert_eq!(
        deliver_due(&app.store, &client()).await.unwrap(),
        0,
        "delivered once"
    );
}

#[tokio::test]
async fn a_failed_delivery_stays_queued_for_a_later_attempt() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (app, _, _) = child_held_by_police(&format!("http://{closed}/hook")).await;

    app.post_entries(&entry("e2", "2007-02-01")).await;
    assert_eq!(deliver_due(&app.store, &client()).await.unwrap(), 0);

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
