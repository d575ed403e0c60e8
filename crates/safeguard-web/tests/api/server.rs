//! The server on a real socket: connections that never finish their headers are closed, too
//! many connections wait, and a caller past its rate gets 429.

use std::time::Duration;

use safeguard_store::{DatabaseUrl, Store};
use safeguard_web::{AppState, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(
    config: Config,
) -> (
    std::net::SocketAddr,
    tempfile::TempDir,
    tokio::task::JoinHandle<()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("server.db"))).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        safeguard_web::serve_connections(
            AppState::new(store, config),
            listener,
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    (address, dir, server)
}

/// The status line of a GET, or `None` when nothing came back in time.
async fn get(address: std::net::SocketAddr, path: &str, within: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut response)).await {
        Ok(Ok(_)) if !response.is_empty() => Some(
            String::from_utf8_lossy(&response)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => None,
    }
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let (address, _dir, server) = start(Config {
        header_timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;

    assert!(closed.is_ok(), "the server closed the connection");
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "and did not answer it"
    );
    assert_eq!(
        get(address, "/healthz", Duration::from_secs(5))
            .await
            .as_deref(),
        Some("HTTP/1.1 200 OK"),
        "others are served"
    );
    server.abort();
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let (address, _dir, server) = start(Config {
        max_connections: 2,
        ..Config::default()
    })
    .await;
    let held: Vec<TcpStream> = futures_connect(address, 2).await;

    let waiting = get(address, "/healthz", Duration::from_millis(500)).await;
    assert_eq!(
        waiting, None,
        "a third connection is not served while two are held"
    );
    drop(held);
    assert_eq!(
        get(address, "/healthz", Duration::from_secs(5))
            .await
            .as_deref(),
        Some("HTTP/1.1 200 OK")
    );
    server.abort();
}

async fn futures_connect(address: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(address).await.unwrap();
        // Half a request: the connection is accepted and held.
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    held
}
