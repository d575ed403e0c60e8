//! Delivering agencies' webhooks: a worker posts queued alerts, signed, to each agency's URL,
//! twice a second. Plain `http://` only for now: an agency receiving over TLS puts a relay in
//! front (the delivery fails, and is retried, until one is there).

use std::time::Duration;

use safeguard_store::Store;
use safeguard_store::webhooks::{Delivery, SIGNATURE_HEADER, sign};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Posts every delivery due now; returns how many were accepted.
pub async fn deliver_due(store: &Store) -> Result<usize, safeguard_store::StoreError> {
    let pending = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.due_deliveries(100))
            .await
            .map_err(|e| safeguard_store::StoreError::Database(e.to_string()))??
    };
    let mut accepted = 0;
    for delivery in pending {
        let outcome = match tokio::time::timeout(TIMEOUT, post(&delivery)).await {
            Ok(result) => result,
            Err(_) => Err("timed out".to_owned()),
        };
        accepted += usize::from(outcome.is_ok());
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.delivery_attempted(&delivery, outcome))
            .await
            .map_err(|e| safeguard_store::StoreError::Database(e.to_string()))??;
    }
    Ok(accepted)
}

/// Runs [`deliver_due`] twice a second until the process ends.
pub fn spawn_worker(store: Store) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&store).await {
                tracing::error!(error = %e, "webhook delivery failed");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

/// One HTTP/1.1 POST; `Ok` when the agency answered 2xx.
async fn post(delivery: &Delivery) -> Result<(), String> {
    let rest = delivery.url.strip_prefix("http://").ok_or_else(|| {
        "only http:// webhooks are delivered directly; put a TLS relay in front".to_owned()
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let address = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         {SIGNATURE_HEADER}: {}\r\nx-safeguard-delivery: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        sign(&delivery.secret, &delivery.body),
        delivery.id,
        delivery.body.len(),
        delivery.body
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let status_line = String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    match status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
    {
        Some(code) if (200..300).contains(&code) => Ok(()),
        _ => Err(format!("the agency answered {status_line:?}")),
    }
}
