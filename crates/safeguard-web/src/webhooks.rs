//! Delivering agencies' webhooks: a worker posts queued alerts, signed, to each agency's URL,
//! twice a second, over HTTPS (or plain HTTP inside a trusted network).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use safeguard_store::Store;
use safeguard_store::webhooks::{Delivery, SIGNATURE_HEADER, sign};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::rustls;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How deliveries reach agencies: HTTPS trusting the system's certificate authorities and any
/// the deployment adds (an agency network's own authority), or plain HTTP.
#[derive(Clone)]
pub struct WebhookClient {
    tls: Arc<rustls::ClientConfig>,
}

impl WebhookClient {
    /// Trusts the system's certificate authorities and, if given, those in `extra_roots` (a
    /// PEM file). Fails on a file that cannot be read or holds no certificate.
    pub fn new(extra_roots: Option<&Path>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        // A system without a certificate store still delivers to the authorities added here.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(path) = extra_roots {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let pem = std::fs::read(path)
                .map_err(|e| format!("webhook CA file {}: {e}", path.display()))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("webhook CA file {}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "webhook CA file {}: holds no usable certificate",
                    path.display()
                ));
            }
        }
        if roots.is_empty() {
            tracing::warn!(
                "no certificate authorities to trust: https:// webhooks will fail until some are added"
            );
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { tls: Arc::new(tls) })
    }
}

/// Posts every delivery due now; returns how many were accepted.
pub async fn deliver_due(
    store: &Store,
    client: &WebhookClient,
) -> Result<usize, safeguard_store::StoreError> {
    let pending = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.due_deliveries(100))
            .await
            .map_err(|e| safeguard_store::StoreError::Database(e.to_string()))??
    };
    let mut accepted = 0;
    for delivery in pending {
        let outcome = match tokio::time::timeout(TIMEOUT, post(client, &delivery)).await {
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
pub fn spawn_worker(store: Store, client: WebhookClient) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&store, &client).await {
                tracing::error!(error = %e, "webhook delivery failed");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}

/// Where a webhook URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target<'a> {
    secure: bool,
    /// As written, for the `Host` header.
    authority: &'a str,
    /// For connecting and for TLS: a name or an address, an IPv6 one without brackets.
    host: &'a str,
    port: u16,
    path: &'a str,
}

fn target(url: &str) -> Result<Target<'_>, String> {
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("a webhook URL starts with http:// or https://".to_owned());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    // An IPv6 address is bracketed, and holds colons of its own.
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("{authority:?}: an IPv6 address is not closed"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("{port:?} is not a port"))?,
        None if secure => 443,
        None => 80,
    };
    if host.is_empty() {
        return Err(format!("{url:?} names no host"));
    }
    Ok(Target {
        secure,
        authority,
        host,
        port,
        path,
    })
}

/// One HTTP/1.1 POST; `Ok` when the agency answered 2xx.
async fn post(client: &WebhookClient, delivery: &Delivery) -> Result<(), String> {
    let Target {
        secure,
        authority,
        host,
        port,
        path,
    } = target(&delivery.url)?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         {SIGNATURE_HEADER}: {}\r\nx-safeguard-delivery: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        sign(&delivery.secret, &delivery.body),
        delivery.id,
        delivery.body.len(),
        delivery.body
    );
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if secure {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?}: {e}"))?;
        let mut stream = tokio_rustls::TlsConnector::from(client.tls.clone())
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        exchange(&mut stream, request.as_bytes()).await
    } else {
        let mut stream = stream;
        exchange(&mut stream, request.as_bytes()).await
    }
}

/// Sends the request and reads the answer's status line.
async fn exchange(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    request: &[u8],
) -> Result<(), String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("send: {e}"))?;
    stream.flush().await.map_err(|e| format!("send: {e}"))?;
    // The status line is all that is needed; reading no further spares waiting for the close
    // (and a TLS peer's close_notify, which many servers omit).
    let mut response = Vec::new();
    let mut buffer = [0u8; 1024];
    while !response.windows(2).any(|w| w == b"\r\n") {
        let n = stream
            .read(&mut buffer)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..n]);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_url_gives_its_host_port_and_path() {
        let t = |url| target(url).map(|t| (t.secure, t.host, t.port, t.path, t.authority));
        assert_eq!(
            t("https://alerts.police.example/safeguard"),
            Ok((
                true,
                "alerts.police.example",
                443,
                "/safeguard",
                "alerts.police.example"
            ))
        );
        assert_eq!(
            t("http://10.0.0.7:8080"),
            Ok((false, "10.0.0.7", 8080, "/", "10.0.0.7:8080"))
        );
        assert_eq!(
            t("https://[::1]:8443/hook"),
            Ok((true, "::1", 8443, "/hook", "[::1]:8443"))
        );
        assert_eq!(
            t("https://[fd00::7]/hook"),
            Ok((true, "fd00::7", 443, "/hook", "[fd00::7]"))
        );
        assert!(t("https://host:port/").unwrap_err().contains("not a port"));
        assert!(t("https://[::1/").unwrap_err().contains("not closed"));
        assert!(t("https:///hook").unwrap_err().contains("no host"));
        assert!(t("ftp://host/").is_err());
    }
}
