//! The command line as a user runs it: seed the demo, read the child's chronology back, serve it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use safeguard_core::PersonId;
use safeguard_store::{ChronologyQuery, DatabaseUrl, Store};

fn safeguard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_safeguard"))
}

fn seed(database: &str) -> String {
    let out = safeguard()
        .args([
            "demo",
            "--seed-only",
            "--families",
            "40",
            "--database",
            database,
        ])
        .output()
        .expect("run safeguard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn child_id(stdout: &str) -> PersonId {
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Demo child: "))
        .unwrap_or_else(|| panic!("no child URL in {stdout}"));
    assert!(url.starts_with("http://127.0.0.1:8080/persons/"), "{url}");
    url.rsplit('/')
        .next()
        .unwrap()
        .parse()
        .expect("a person id")
}

#[test]
fn the_demo_seeds_a_child_whose_chronology_spans_the_agencies_and_reseeding_adds_nothing() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let database = format!("sqlite:{}", path.display());

    // Act
    let first = seed(&database);
    let again = seed(&database);

    // Assert
    let child = child_id(&first);
    assert_eq!(child_id(&again), child, "the same child after re-seeding");
    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    let count_after_first = first
        .split(" entries in all")
        .next()
        .unwrap()
        .rsplit('(')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        store.entry_count().unwrap().to_string(),
        count_after_first,
        "re-seeding stored nothing new"
    );
    let page = store
        .chronology(
            child,
            &ChronologyQuery {
                limit: 1000,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    let agencies: std::collections::BTreeSet<_> = page
        .entries
        .iter()
        .map(|e| e.entry.decode().unwrap().agency.as_str().to_owned())
        .collect();
    assert!(page.entries.len() >= 40, "{} entries", page.entries.len());
    assert!(agencies.len() >= 5, "{agencies:?}");
    let dates: Vec<_> = page
        .entries
        .iter()
        .map(|e| e.entry.decode().unwrap().occurred_at.start())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "time order");
    let person = store.person(child).unwrap().unwrap();
    assert_eq!(person.display_name(), "Joshua Reeve");
}

#[test]
fn the_server_answers_with_the_childs_chronology() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("serve.db").display());
    let child = child_id(&seed(&database));
    let token_out = safeguard()
        .args([
            "token",
            "add",
            "--name",
            "carefirst",
            "--agency",
            "northbury-childrens-services",
            "--database",
            &database,
        ])
        .output()
        .unwrap();
    assert!(
        token_out.status.success(),
        "{}",
        String::from_utf8_lossy(&token_out.stderr)
    );
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let mut server = safeguard()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &database])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("Serving on http://")
        .unwrap()
        .trim_end_matches('/')
        .to_owned();

    let get = |auth: &str| {
        let mut stream = TcpStream::connect(&address).unwrap();
        write!(stream, "GET /api/v1/persons/{child}/chronology?limit=5 HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let anonymous = get("");
    let response = get(&format!("Authorization: Bearer {token}\r\n"));
    server.kill().unwrap();
    server.wait().unwrap();

    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 5);
    assert!(json["next"].is_string());
}

#[test]
fn audit_verify_passes_an_intact_log_and_names_a_changed_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let database = format!("sqlite:{}", path.display());
    seed(&database);
    let verify = |extra: &[&str]| {
        safeguard()
            .args(["audit", "verify", "--database", &database])
            .args(extra)
            .output()
            .unwrap()
    };

    let intact = verify(&[]);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    let stdout = String::from_utf8(intact.stdout).unwrap();
    let head = stdout.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(stdout.starts_with("Audit log verified: "), "{stdout}");
    assert!(verify(&["--expect-head", &head]).status.success());
    assert!(!verify(&["--expect-head", "0123"]).status.success());

    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    store
        .bare_write(|sql| sql.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 7", &[]))
        .unwrap();
    let tampered = verify(&[]);
    assert_eq!(tampered.status.code(), Some(1));
    let stderr = String::from_utf8(tampered.stderr).unwrap();
    assert!(stderr.contains("audit event 7 was changed"), "{stderr}");
}
