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
    assert!(stdout.starts_with("Audit log verified: "), "{stdout}");
    let checkpoint = safeguard()
        .args(["audit", "checkpoint", "--database", &database])
        .output()
        .unwrap();
    assert!(checkpoint.status.success());
    let checkpoint = String::from_utf8(checkpoint.stdout).unwrap();
    let file = dir.path().join("checkpoint.txt");
    std::fs::write(&file, &checkpoint).unwrap();
    assert!(verify(&["--since", checkpoint.trim()]).status.success());
    assert!(
        verify(&["--since", file.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        !verify(&["--since", "safeguard-audit-checkpoint:v1:3:00:00"])
            .status
            .success()
    );
    assert!(
        dir.path().join("audit.db.audit-key").exists(),
        "the key is kept beside the database, not in it"
    );

    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    store
        .bare_write(|sql| {
            sql.execute_batch("DROP TRIGGER audit_log_no_update")?;
            sql.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 7", &[])
        })
        .unwrap();
    let tampered = verify(&[]);
    assert_eq!(tampered.status.code(), Some(1));
    let stderr = String::from_utf8(tampered.stderr).unwrap();
    assert!(stderr.contains("audit event 7 was changed"), "{stderr}");
}

/// One HTTP/1.1 request over a fresh connection: the status line, headers and body.
fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[String],
    body: &str,
) -> (String, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for h in headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_owned(), body.to_owned())
}

fn cookie_from(headers: &str, name: &str) -> String {
    headers
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie in {headers}"))
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 64].to_owned()
}

#[test]
fn a_full_demo_session_logs_no_name_date_of_birth_nhs_number_postcode_or_phone() {
    // Arrange: seed and serve the demo, logging at the level deployments use.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.db");
    let database = format!("sqlite:{}", path.display());
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut server = safeguard()
        .args([
            "demo",
            "--families",
            "40",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
        ])
        .env("SAFEGUARD_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(server.stdout.take().unwrap());
    let mut stdout = String::new();
    let (mut address, mut child) = (String::new(), String::new());
    while child.is_empty() {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the demo stopped: {stdout}"
        );
        if let Some(a) = line.trim().strip_prefix("Serving on http://") {
            address = a.trim_end_matches('/').to_owned();
        }
        if let Some(url) = line.trim().strip_prefix("Demo child: ") {
            child = url.rsplit('/').next().unwrap().to_owned();
        }
        stdout.push_str(&line);
    }

    // Act: a session a social worker might have, with names typed into search and sign-in.
    let (_, headers, form) = http(&address, "GET", "/sign-in", &[], "");
    let sign_in_cookie = format!(
        "Cookie: safeguard_sign_in={}",
        cookie_from(&headers, "safeguard_sign_in")
    );
    let csrf = hidden_csrf(&form);
    let (status, _, _) = http(
        &address,
        "POST",
        "/sign-in",
        std::slice::from_ref(&sign_in_cookie),
        &format!("csrf={csrf}&user=Kerry+Reeve&password=Joshua+Reeve+2006-06-14"),
    );
    assert!(status.contains("401"), "{status}");
    let (status, headers, _) = http(
        &address,
        "POST",
        "/sign-in",
        &[sign_in_cookie],
        &format!(
            "csrf={csrf}&user=practitioner%40northbury-childrens-services&password=safeguard-demo-2007"
        ),
    );
    assert!(status.contains("303"), "{status}");
    let session = format!(
        "Cookie: safeguard_session={}",
        cookie_from(&headers, "safeguard_session")
    );
    for path in [
        "/?q=Joshua+Reeve".to_owned(),
        "/?q=9992345675".to_owned(),
        "/?q=NB4+7QX+14%2F06%2F2006".to_owned(),
        format!("/persons/{child}"),
        format!("/api/v1/persons/{child}/chronology?limit=1000"),
        format!("/api/v1/persons/{child}/household?at=2007-06-04"),
        "/api/v1/persons?q=Danny+Marsh".to_owned(),
        format!("/persons/{child}/access-log"),
    ] {
        let (status, _, _) = http(&address, "GET", &path, std::slice::from_ref(&session), "");
        assert!(status.contains("200"), "{path}: {status}");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // Assert: nothing that identifies a person is in what the process wrote.
    let logs = std::fs::read_to_string(dir.path().join("server.log")).unwrap() + &stdout;
    assert!(logs.contains("request"), "the requests were logged: {logs}");
    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    let records = store
        .bare_read(|sql| sql.query("SELECT record FROM person_records", &[]))
        .unwrap();
    let words: std::collections::HashSet<String> = logs
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .collect();
    let mut checked = 0;
    for row in records {
        let record: serde_json::Value = serde_json::from_str(row.text(0).unwrap()).unwrap();
        let names = record["name"]["given"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                record["name"]["family"]
                    .as_str()
                    .map(serde_json::Value::from)
                    .iter(),
            )
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        for name in names.iter().filter(|n| n.len() >= 3) {
            assert!(
                !words.contains(&name.to_lowercase()),
                "the name {name:?} is in the logs"
            );
            checked += 1;
        }
        for field in ["date_of_birth", "nhs_number", "phone"] {
            if let Some(v) = record[field].as_str() {
                assert!(!logs.contains(v), "{field} {v:?} is in the logs");
                checked += 1;
            }
        }
        for address in record["addresses"].as_array().into_iter().flatten() {
            if let Some(p) = address["postcode"].as_str() {
                assert!(
                    !logs.contains(p) && !logs.contains(&p.replace(' ', "")),
                    "postcode {p} is in the logs"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} identifiers checked");
}

#[test]
fn agencies_users_and_tokens_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("admin.db").display());
    let run = |args: &[&str], stdin: &str| {
        let mut child = safeguard()
            .args(args)
            .args(["--database", &database])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        )
    };

    assert!(
        run(
            &[
                "agency",
                "add",
                "--id",
                "east-police",
                "--name",
                "East Police",
                "--kind",
                "police"
            ],
            ""
        )
        .0
    );
    let (ok, listed) = run(&["agency", "list"], "");
    assert!(
        ok && listed.contains("east-police") && listed.contains("East Police"),
        "{listed}"
    );
    let (ok, err) = run(
        &[
            "agency",
            "add",
            "--id",
            "East Police",
            "--name",
            "x",
            "--kind",
            "police",
        ],
        "",
    );
    assert!(!ok && err.contains("not an agency identifier"), "{err}");

    let (ok, out) = run(
        &[
            "user",
            "add",
            "--id",
            "dc1",
            "--agency",
            "east-police",
            "--name",
            "DC One",
            "--role",
            "practitioner",
        ],
        "a very long password\n",
    );
    assert!(ok, "{out}");
    let (ok, out) = run(
        &[
            "user",
            "add",
            "--id",
            "dc2",
            "--agency",
            "east-police",
            "--name",
            "DC Two",
            "--role",
            "auditor",
        ],
        "",
    );
    assert!(
        ok && out.contains("Password (shown once): "),
        "a password is generated when none is given: {out}"
    );
    let (ok, out) = run(
        &[
            "user",
            "add",
            "--id",
            "dc1",
            "--agency",
            "east-police",
            "--name",
            "again",
            "--role",
            "lawyer",
        ],
        "another long password\n",
    );
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = run(
        &[
            "user",
            "add",
            "--id",
            "dc3",
            "--agency",
            "east-police",
            "--name",
            "x",
            "--role",
            "wizard",
        ],
        "",
    );
    assert!(!ok && out.contains("unknown role"), "{out}");

    assert!(
        run(
            &[
                "user",
                "roles",
                "dc1",
                "--role",
                "team_manager",
                "--role",
                "lawyer"
            ],
            ""
        )
        .0
    );
    assert!(run(&["user", "disable", "dc2"], "").0);
    let (_, users) = run(&["user", "list"], "");
    let line = |id: &str| {
        users
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("dc1").contains("team_manager,lawyer") && line("dc1").contains("active"),
        "{users}"
    );
    assert!(line("dc2").contains("disabled"), "{users}");

    let (ok, out) = run(
        &["token", "add", "--name", "niche", "--agency", "east-police"],
        "",
    );
    assert!(ok && out.contains("(shown once): "), "{out}");
    assert!(run(&["token", "revoke", "niche"], "").0);
    assert!(
        !run(&["token", "revoke", "niche"], "").0,
        "a revoked token cannot be revoked again"
    );
}

#[test]
fn replay_shows_when_each_concern_could_first_have_been_known() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("replay.db").display());
    let child = child_id(&seed(&database));

    let out = safeguard()
        .args([
            "replay",
            "--person",
            &child.to_string(),
            "--at",
            "2007-08-03",
            "--database",
            &database,
        ])
        .output()
        .unwrap();

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let flagged = |date: &str, rule: &str| {
        text.lines()
            .any(|l| l.starts_with(date) && l.contains(rule))
    };
    assert!(flagged("2006-12-11", "injury_to_non_mobile_baby"), "{text}");
    // Identity resolution at work. St Anne's registered "Joshua Reeves", no NHS number: linked
    // online by date of birth, name and home, so April's injuries are in his chronology.
    assert!(
        flagged("2007-04-09", "injury_while_on_plan"),
        "St Anne's, under a misspelt name: {text}"
    );
    // The mother said "Dan" was only a friend and did not live there; police found "Danny
    // Marsh" living there as her boyfriend, recorded in the early hours of the 26th. The
    // engine proposed Dan and Danny Marsh (recorded with the same family), and a reviewer
    // confirmed them, so the claim meets the observation.
    assert!(
        flagged("2007-03-26", "claim_contradicted"),
        "the mother's claims about Dan against the police call-out: {text}"
    );
    assert!(
        flagged("2007-01-05", "statutory_timescale_missed"),
        "the initial conference came late: {text}"
    );
    // May's injuries, also on the plan, are more evidence of the same concern: one flag.
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(" injury_while_on_plan "))
            .count(),
        1,
        "the same concern is raised once: {text}"
    );
    assert!(
        flagged("2007-01-05", "new_unrelated_adult"),
        "\"Dan\", said to be only a friend: {text}"
    );
    assert!(
        flagged("2007-01-20", "unverified_adult"),
        "no check on \"Dan\" within 10 working days: {text}"
    );
    assert!(
        flagged("2007-06-21", "statutory_timescale_missed"),
        "the legal planning meeting came late: {text}"
    );
    assert!(
        flagged("2007-07-25", "legal_meeting_without_evidence"),
        "no medical report: {text}"
    );
    let lpm = text
        .lines()
        .find(|l| l.starts_with("2007-07-25") && l.contains("legal_meeting_without_evidence"))
        .unwrap();
    assert!(
        !lpm.contains("(0 days later)"),
        "the meeting is not its own escalation: {lpm}"
    );

    // A batch run over the whole store keeps the reviewer's decisions and moves nothing the
    // online matching placed.
    let relinked = safeguard()
        .args(["link", "--database", &database, "--at", "2007-08-03"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&relinked.stderr);
    assert!(relinked.status.success(), "{report}");
    assert!(
        report.contains("0 records moved, 0 persons merged, 5 decisions by reviewers kept"),
        "{report}"
    );

    let bad_rules = dir.path().join("rules.toml");
    std::fs::write(&bad_rules, "[[rule]]\nid = \"x\"\ntemplate = \"nope\"\nseverity = \"high\"\nsource = \"s\"\nsentence = \"s\"\n").unwrap();
    let refused = safeguard()
        .args([
            "replay",
            "--person",
            &child.to_string(),
            "--rules",
            bad_rules.to_str().unwrap(),
            "--database",
            &database,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        !refused.status.success() && stderr.contains("rule \"x\", field template"),
        "{stderr}"
    );
}

#[test]
fn link_generates_a_file_clusters_it_and_reports_bad_rows_without_stopping() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let people = dir.path().join("people.csv");
    let truth = dir.path().join("truth.csv");
    let clusters = dir.path().join("clusters.csv");
    let generated = safeguard()
        .args(["link", "generate", "--records", "3000", "--seed", "4"])
        .arg("--output")
        .arg(&people)
        .arg("--truth")
        .arg(&truth)
        .output()
        .expect("runs");
    assert!(generated.status.success());
    let mut text = std::fs::read_to_string(&people).expect("written");
    text.push_str("bad1,Ann,Other,31/02/1990,F,,,\n");
    // An adult known by a short form at the home of one with a compatible full name.
    text.push_str("kez1,Kez,Walsh,,M,ZZ1 1ZZ,1 Test Road,\n");
    text.push_str("kieran1,Kieran,Walsh,,M,ZZ1 1ZZ,1 Test Road,\n");
    std::fs::write(&people, &text).expect("appended");
    let review = dir.path().join("review.csv");

    let linked = safeguard()
        .arg("link")
        .arg("--input")
        .arg(&people)
        .arg("--output")
        .arg(&clusters)
        .arg("--review")
        .arg(&review)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&linked.stderr);
    assert!(linked.status.success(), "{stderr}");
    let bad_line = text.lines().count() - 2;
    assert!(
        stderr.contains(&format!("line {bad_line}, field date_of_birth")),
        "{stderr}"
    );

    let out = std::fs::read_to_string(&clusters).expect("written");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("id,cluster_id,match_probability"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let read = text.lines().count() - 1 - stderr.matches("row skipped").count();
    assert_eq!(rows.len(), read, "one row per record read");
    let truth_text = std::fs::read_to_string(&truth).expect("written");
    let person: std::collections::HashMap<&str, &str> = truth_text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .collect();
    let linked_pairs: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] != r[1]).collect();
    assert!(linked_pairs.len() > 500, "records were linked");
    let right = linked_pairs
        .iter()
        .filter(|r| person[r[0]] == person[r[1]])
        .count();
    assert!(
        right as f64 / linked_pairs.len() as f64 > 0.97,
        "{right} of {} linked to their own person",
        linked_pairs.len()
    );
    for r in &linked_pairs {
        let p: f64 = r[2].parse().expect("a probability");
        assert!((0.0..=1.0).contains(&p));
    }

    // The pairs left for review: in different clusters, most likely first, each with why and
    // how every field compared; the count per 1,000 records said.
    let cluster_of: std::collections::HashMap<&str, &str> =
        rows.iter().map(|r| (r[0], r[1])).collect();
    let reviewed = std::fs::read_to_string(&review).expect("written");
    let mut lines = reviewed.lines();
    assert_eq!(
        lines.next(),
        Some(
            "record_a,record_b,match_probability,reason,given_name,family_name,date_of_birth,sex,home,nhs_number"
        )
    );
    let mut reader = csv::Reader::from_reader(reviewed.as_bytes());
    let proposed: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert!(!proposed.is_empty());
    let mut last = 1.0;
    for p in &proposed {
        assert_ne!(cluster_of[&p[0]], cluster_of[&p[1]], "{p:?} were joined");
        let probability: f64 = p[2].parse().expect("a probability");
        assert!(probability <= last, "most likely first");
        last = probability;
        assert!(!p[3].is_empty());
    }
    let short_form = proposed
        .iter()
        .find(|p| [&p[0], &p[1]] == ["kez1", "kieran1"] || [&p[0], &p[1]] == ["kieran1", "kez1"])
        .expect("Kez and Kieran proposed");
    assert_eq!(
        &short_form[3],
        "a short form or initial of the name, at the same home"
    );
    assert_eq!(&short_form[6], "missing", "no date of birth");
    assert!(
        stderr.contains(&format!("{} pairs for review (", proposed.len())),
        "{stderr}"
    );
    assert!(stderr.contains("per 1,000 records"), "{stderr}");
}

#[test]
fn bench_online_reports_the_placement_p99_against_the_lookup_baseline() {
    let out = safeguard()
        .args(["bench", "online", "--records", "3000", "--queries", "100"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let (row, numbers) = bench_row(&text, "placement ");
    assert_eq!(numbers.len(), 3, "p50, p99, max: {row}");
    assert!(
        numbers[0] <= numbers[1] && numbers[1] <= numbers[2],
        "{row}"
    );
    assert!(text.contains("x the lookup's"), "{text}");
}

/// A referral followed by silence: nobody records anything more, and still the assessment goes
/// overdue, found by the daily tick as of the day after it was due (and not before).
#[test]
fn rules_tick_finds_an_assessment_overdue_when_nothing_was_recorded_after_the_referral() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tick.db");
    let database = format!("sqlite:{}", path.display());
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    store
        .put_agency(&safeguard_core::Agency {
            id: safeguard_core::AgencyId::parse("north-childrens-services").unwrap(),
            name: "North Children's Services".into(),
            kind: safeguard_core::AgencyKind::SocialCare,
        })
        .unwrap();
    let referral: safeguard_core::Entry = serde_json::from_value(serde_json::json!({
        "agency": "north-childrens-services",
        "source": {"system": "carefirst", "id": "R1"},
        "author": {"name": "Duty Worker", "role": "Social worker"},
        "occurred_at": "2024-01-08",
        "recorded_at": "2024-01-08T16:00:00Z",
        "persons": [{"role": "subject_child", "record": {"local_id": "C1",
            "name": {"given": ["Ruby"], "family": "Quiet"}, "date_of_birth": "2019-02-02"}}],
        "summary": "Referral from the health visitor: home conditions poor.",
        "details": {"kind": "referral", "reason": "neglect"}
    }))
    .unwrap();
    store
        .append(&safeguard_store::Actor::system("test"), &[referral])
        .unwrap();
    let child = store.search_persons("ruby quiet", 1).unwrap()[0].id;
    drop(store);
    let tick = |at: &str| {
        let out = safeguard()
            .args(["rules", "tick", "--database", &database, "--at", at])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let overdue = |store: &Store| {
        store.flags(child).unwrap().iter().any(|f| {
            f.flag.about.as_deref() == Some("assessment_completed")
                && f.flag.rule == "statutory_timescale_missed"
        })
    };

    // 8 Jan + 45 working days = 11 March 2024: still in time on the 11th.
    tick("2024-03-11");
    assert!(!overdue(
        &Store::open(&DatabaseUrl::Sqlite(path.clone())).unwrap()
    ));
    let first = tick("2024-03-12");
    let again = tick("2024-03-12");

    assert!(overdue(&Store::open(&DatabaseUrl::Sqlite(path)).unwrap()));
    assert!(first.contains("flags raised"), "{first}");
    assert!(
        again.contains(": 0 flags raised, 0 updated, 0 resolved"),
        "a second tick on the same day changes nothing: {again}"
    );
}

/// `safeguard bench ARGS`, which must succeed; its standard output.
fn bench(args: &[&str]) -> String {
    let out = safeguard()
        .arg("bench")
        .args(args)
        .env("SAFEGUARD_LOG", "warn")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A benchmark's row starting with `label`, and the numbers in it (a ratio's `x` dropped).
fn bench_row(text: &str, label: &str) -> (String, Vec<f64>) {
    let row = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} row: {text}"))
        .to_owned();
    let numbers = row
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('x').parse().ok())
        .collect();
    (row, numbers)
}

/// The load benchmark runs end to end on a small scale: every phase reads, appends are
/// stored without error, the 10,000-person entry is refused and each sign-in case is timed.
#[test]
fn bench_load_reports_each_phase_against_reads_alone() {
    let text = bench(&[
        "load",
        "--engine",
        "sqlite",
        "--seconds",
        "1",
        "--clients",
        "4",
        "--families",
        "20",
    ]);
    for phase in [
        "reads alone (baseline)",
        "reads with appends",
        "reads with the largest request",
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(phase) && l.contains(" ms"))
            .unwrap_or_else(|| panic!("no row for {phase}: {text}"));
        let columns: Vec<&str> = row.split_whitespace().collect();
        let (reads, writes, errors) = (
            columns[columns.len() - 9],
            columns[columns.len() - 2],
            columns[columns.len() - 1],
        );
        assert!(reads.parse::<usize>().unwrap() > 0, "{row}");
        assert_eq!(errors, "0", "{row}");
        if phase != "reads alone (baseline)" {
            assert!(writes.parse::<usize>().unwrap() > 0, "{row}");
        }
    }
    assert!(text.contains("an entry naming 10,000 people"), "{text}");
    for case in ["unknown name", "wrong password", "disabled account"] {
        assert!(text.contains(&format!("sign-in, {case}")), "{text}");
    }
}

/// The pages benchmark runs end to end on a small scale: each page answers and is timed
/// against the API's chronology.
#[test]
fn bench_pages_times_each_page_against_the_chronology_as_json() {
    let text = bench(&[
        "pages",
        "--engine",
        "sqlite",
        "--iterations",
        "3",
        "--families",
        "10",
        "--long-entries",
        "80",
    ]);
    for page in [
        "the demo child's page",
        "a 80-entry child's page",
        "the dashboard, a team of 30",
    ] {
        let row = text
            .lines()
            .find(|l| l.contains(page))
            .unwrap_or_else(|| panic!("no row for {page}: {text}"));
        assert!(row.contains("goal p95 <= 50 ms"), "{row}");
        assert!(
            row.matches(" ms").count() >= 3,
            "p50, p95 and the baseline: {row}"
        );
    }
}

/// The review benchmark builds whole reviews of a grown chronology and reports them against
/// reading it, with how many people it names.
#[test]
fn bench_review_times_whole_reviews_against_the_chronology_read() {
    let text = bench(&[
        "review",
        "--iterations",
        "2",
        "--entries",
        "120",
        "--people",
        "20",
    ]);
    let (row, numbers) = bench_row(&text, "sqlite");
    assert!(numbers[0] >= 20.0, "at least 20 people named: {row}");
    assert!(numbers[1] <= numbers[2], "p50 at most the max: {row}");
    assert!(row.contains("goal <= 1000 ms"), "{row}");
}

/// The search benchmark runs end to end on a small scale: searches are timed against the
/// exact lookup, and nearly every person with a name of their own is found among the first
/// ten, however it was typed.
#[test]
fn bench_search_times_forgiving_searches_and_finds_the_people_typed() {
    let text = bench(&[
        "search",
        "--engine",
        "sqlite",
        "--records",
        "3000",
        "--queries",
        "80",
    ]);
    assert!(text.contains("goal p95 <= 50 ms"), "{text}");
    let share = text
        .lines()
        .find(|l| l.contains("where at most 3 records share the name"))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split('%').next())
        .and_then(|p| p.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no share found: {text}"));
    assert!(share >= 90.0, "{text}");
    for kind in ["one letter wrong", "surname first", "a nickname"] {
        assert!(text.contains(&format!("typed {kind}")), "{text}");
    }
}

/// A practice review of the demo child: written pseudonymised in each format, with none of
/// the names or identifiers held on the people in it; and refused, with nothing written and
/// no value shown, when an identifier the rewriting cannot remove is left in a note.
/// Plants a hospital case note about the demo child (by NHS number) with one more person and a
/// summary that identifies them, then closes the store: what the exports must refuse.
fn plant_case_note(store: Store, nhs: &str, other: serde_json::Value, summary: &str) {
    let note: safeguard_core::Entry = serde_json::from_value(serde_json::json!({
        "agency": "north-general-hospital",
        "source": {"system": "test", "id": "planted"},
        "author": {"name": "Ward Clerk", "role": "Clerk"},
        "occurred_at": "2007-07-30",
        "recorded_at": "2007-07-30T12:00:00Z",
        "persons": [
            {"role": "subject_child", "record": {"local_id": "P1",
                "name": {"given": ["Joshua"], "family": "Reeve"}, "nhs_number": nhs}},
            other
        ],
        "summary": summary,
        "details": {"kind": "case_note"}
    }))
    .unwrap();
    store
        .append(&safeguard_store::Actor::system("test"), &[note])
        .unwrap();
}

#[test]
fn review_exports_the_chronology_pseudonymised_and_refuses_one_that_still_identifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.db");
    let database = format!("sqlite:{}", path.display());
    let child = child_id(&seed(&database));
    let review = |format: &str, out: &std::path::Path| {
        safeguard()
            .args([
                "review",
                "--database",
                &database,
                "--person",
                &child.to_string(),
            ])
            .args([
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
                "--to",
                "2007-08-03",
            ])
            .output()
            .unwrap()
    };
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    let page = store
        .chronology(
            child,
            &ChronologyQuery {
                limit: 1000,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    let mut people: Vec<PersonId> = page
        .entries
        .iter()
        .flat_map(|e| e.person_ids.clone())
        .collect();
    people.sort();
    people.dedup();
    let persons = store.persons(&people).unwrap();
    drop(store);

    for format in ["md", "html", "json"] {
        let out = dir.path().join(format!("review.{format}"));
        let run = review(format, &out);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("Child A") && text.contains("Ms A"), "{text}");
        assert!(text.contains("missed"), "missed opportunities are marked");
        assert!(text.contains("late"), "how late each stage was");
        for person in &persons {
            for record in &person.records {
                let r = &record.record;
                // First names and family names (a middle name may be a hospital's: St Anne's).
                for name in r.name.given.first().into_iter().chain(&r.name.family) {
                    assert!(
                        !text.contains(name.as_str()),
                        "{name} in the {format} review"
                    );
                }
                if let Some(n) = &r.nhs_number {
                    assert!(
                        !text.contains(n.as_str()),
                        "an NHS number in the {format} review"
                    );
                }
                if let Some(safeguard_core::PartialDate::Day(d)) = r.date_of_birth {
                    assert!(
                        !text.contains(&d.to_string()),
                        "a date of birth in the {format} review"
                    );
                }
            }
        }
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["subject"], "Child A");
            let schema: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../schemas/review.schema.json"
                ))
                .unwrap(),
            )
            .unwrap();
            let validator = jsonschema::validator_for(&schema).expect("a valid schema");
            let faults: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(faults.is_empty(), "{faults:?}");
            // The schema can fail: a document without its version, or with an unknown field.
            let mut wrong = json.clone();
            wrong.as_object_mut().unwrap().remove("version");
            wrong["surprise"] = true.into();
            assert_eq!(validator.iter_errors(&wrong).count(), 2);
        }
    }

    // A telephone number written without its area code is not one the rewriting removes;
    // the check still knows it.
    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    let nhs = persons
        .iter()
        .find(|p| p.id == child)
        .and_then(|p| p.records.iter().find_map(|r| r.record.nhs_number.clone()))
        .expect("the demo child has an NHS number");
    plant_case_note(
        store,
        nhs.as_str(),
        serde_json::json!({"role": "parent", "record": {"local_id": "P2",
            "name": {"given": ["Kerry"], "family": "Reeve"}, "phone": "020 7946 0000"}}),
        "Mother asked to be called back on 7946 0000.",
    );
    let out = dir.path().join("refused.md");
    let run = review("md", &out);
    assert!(!run.status.success());
    let message = String::from_utf8_lossy(&run.stderr);
    assert!(message.contains("a telephone number"), "{message}");
    assert!(message.contains("2007-07"), "where: {message}");
    assert!(!message.contains("7946"), "never the value: {message}");
    assert!(!out.exists(), "nothing written");
    assert!(!out.with_extension("partial").exists());
}

/// A subject access request for the demo child: their own records and identifiers as they are,
/// every other person by alias with nothing identifying them, the export audited; refused
/// with nothing written when a third party's identifier is left in a note.
#[test]
fn sar_exports_what_is_held_on_the_person_with_third_parties_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sar.db");
    let database = format!("sqlite:{}", path.display());
    let child = child_id(&seed(&database));
    let sar = |format: &str, out: &std::path::Path| {
        safeguard()
            .args([
                "sar",
                "--database",
                &database,
                "--person",
                &child.to_string(),
            ])
            .args(["--format", format, "--out", out.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    let own = store.person(child).unwrap().unwrap();
    let nhs = own
        .records
        .iter()
        .find_map(|r| r.record.nhs_number.clone())
        .expect("the demo child has an NHS number");
    let page = store
        .chronology(
            child,
            &ChronologyQuery {
                limit: 1000,
                ..ChronologyQuery::default()
            },
        )
        .unwrap();
    let mut others: Vec<PersonId> = page
        .entries
        .iter()
        .flat_map(|e| e.person_ids.clone())
        .filter(|p| *p != child)
        .collect();
    others.sort();
    others.dedup();
    let others = store.persons(&others).unwrap();
    drop(store);

    let out = dir.path().join("sar.json");
    let run = sar("json", &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["entries"].as_array().unwrap().len(),
        page.entries.len()
    );
    assert!(text.contains(nhs.as_str()), "their own NHS number");
    assert!(text.contains("Ms A"), "the mother by alias");
    for other in &others {
        for record in &other.records {
            let r = &record.record;
            if let Some(given) = r.name.given.first() {
                assert!(
                    !text.contains(given.as_str()),
                    "a third party's name: {given}"
                );
            }
            if let Some(n) = &r.nhs_number {
                assert!(!text.contains(n.as_str()), "a third party's NHS number");
            }
        }
    }
    let html = dir.path().join("sar.html");
    assert!(sar("html", &html).status.success());
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("Every entry naming you")
    );
    let store = Store::open(&DatabaseUrl::Sqlite(path)).unwrap();
    assert!(
        store
            .access_log(&child.to_string())
            .unwrap()
            .iter()
            .any(|e| e.action == "subject_access_export"),
        "audited"
    );

    plant_case_note(
        store,
        nhs.as_str(),
        serde_json::json!({"role": "other_adult_present", "record": {"local_id": "P3",
            "name": {"given": ["Wendell"], "family": "Okoro"}, "phone": "020 7946 0111"}}),
        "A neighbour, reachable on 7946 0111, brought him in.",
    );
    let refused = dir.path().join("refused.json");
    let run = sar("json", &refused);
    assert!(!run.status.success());
    let message = String::from_utf8_lossy(&run.stderr);
    assert!(message.contains("a telephone number"), "{message}");
    assert!(!message.contains("7946"), "{message}");
    assert!(!refused.exists());
}

/// Runs `safeguard import` of a sample into `database`: its exit, stdout and stderr.
fn import(
    database: &str,
    agency: &str,
    sample: &str,
    input: &std::path::Path,
    extra: &[&str],
) -> (bool, String, String) {
    let mappings = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mappings/");
    let mapping = format!("{mappings}{sample}.toml");
    let input = input.to_str().unwrap();
    let mut args = vec![
        "import",
        "--agency",
        agency,
        "--mapping",
        &mapping,
        "--input",
        input,
    ];
    args.extend_from_slice(extra);
    run_on(database, &args)
}

/// A fresh SQLite store in `dir` knowing `agencies`: its `--database` argument and the store.
fn store_knowing(
    dir: &std::path::Path,
    agencies: &[(&str, safeguard_core::AgencyKind)],
) -> (String, Store) {
    let path = dir.join("import.db");
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    for (id, kind) in agencies {
        store
            .put_agency(&safeguard_core::Agency {
                id: safeguard_core::AgencyId::parse(id).unwrap(),
                name: (*id).into(),
                kind: *kind,
            })
            .unwrap();
    }
    (format!("sqlite:{}", path.display()), store)
}

#[test]
fn import_stores_an_agencys_export_whole_or_not_at_all_and_again_changes_nothing() {
    // Arrange: a store knowing the three sample agencies.
    let dir = tempfile::tempdir().unwrap();
    let (database, store) = store_knowing(
        dir.path(),
        &[
            ("elm-road-surgery", safeguard_core::AgencyKind::Gp),
            (
                "north-general-hospital",
                safeguard_core::AgencyKind::Hospital,
            ),
            ("northbury-police", safeguard_core::AgencyKind::Police),
        ],
    );
    let mappings =
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mappings"));
    let sample = |name: &str| mappings.join(format!("{name}.csv"));

    // Act and assert: each sample whole, then again.
    for (agency, name, rows) in [
        ("elm-road-surgery", "gp-consultations", 4),
        ("north-general-hospital", "ed-attendances", 3),
        ("northbury-police", "police-incidents", 2),
    ] {
        let (ok, out, err) = import(&database, agency, name, &sample(name), &[]);
        assert!(ok, "{err}");
        assert!(
            out.contains(&format!(
                "Imported {rows} rows: {rows} entries stored, 0 already"
            )),
            "{out}"
        );
        let (ok, out, _) = import(&database, agency, name, &sample(name), &[]);
        assert!(ok);
        assert!(
            out.contains(&format!(
                "0 entries stored, {rows} already imported unchanged"
            )),
            "{out}"
        );
    }
    assert_eq!(store.entry_count().unwrap(), 9);
    // The hospital's and the police's records of Tyler Brennan meet the GP's: one child.
    let tyler = store.search_persons("tyler brennan", 5).unwrap();
    assert_eq!(tyler.len(), 1, "{tyler:?}");
    assert_eq!(
        tyler[0]
            .records
            .iter()
            .map(|r| r.agency.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3
    );

    // A file with faults: nothing stored, every fault named by line and column, no value shown.
    let gp = std::fs::read_to_string(sample("gp-consultations")).unwrap();
    let mut lines: Vec<String> = gp.lines().map(str::to_owned).collect();
    let template = lines[4].clone();
    lines.truncate(1);
    lines.push(template.replace("C-1004", "C-2001"));
    lines.push(
        template
            .replace("C-1004", "C-2002")
            .replace("22/01/2024", "31/02/2024"),
    );
    lines.push(
        template
            .replace("C-1004", "C-2003")
            .replace(",CONS,", ",XRAY,"),
    );
    lines.push(template.replace("C-1004", "C-2004"));
    let faulty = dir.path().join("faulty.csv");
    std::fs::write(&faulty, lines.join("\n") + "\n").unwrap();
    let (ok, _, err) = import(
        &database,
        "elm-road-surgery",
        "gp-consultations",
        &faulty,
        &[],
    );
    assert!(!ok);
    assert!(err.contains("nothing was imported: 2 of 4 rows"), "{err}");
    assert!(
        err.contains("line 3, column \"ConsultationDate\" (occurred_at)"),
        "{err}"
    );
    assert!(
        err.contains("line 4, column \"Type\" (details.kind)"),
        "{err}"
    );
    for value in ["31/02/2024", "XRAY", "Amira", "Haddad"] {
        assert!(!err.contains(value), "{value} in {err}");
    }
    assert_eq!(store.entry_count().unwrap(), 9, "all or nothing");

    // --partial: the good rows stored, the faulty written with why.
    let rejected = dir.path().join("rejected.csv");
    let partial = ["--partial", "--rejected", rejected.to_str().unwrap()];
    let (ok, out, err) = import(
        &database,
        "elm-road-surgery",
        "gp-consultations",
        &faulty,
        &partial,
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("2 entries stored, 0 already imported unchanged, 2 rejected"),
        "{out}"
    );
    assert_eq!(store.entry_count().unwrap(), 11);
    let mut back = csv::Reader::from_path(&rejected).unwrap();
    assert_eq!(
        back.headers().unwrap().iter().next_back(),
        Some("rejected_because")
    );
    let kept: Vec<(String, String)> = back
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r.iter().next_back().unwrap().to_owned())
        })
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].0, "C-2002");
    assert!(kept[1].1.contains("details.kind"), "{kept:?}");

    // A row changed since it was imported: reported, never stored over the first.
    let changed = dir.path().join("changed.csv");
    std::fs::write(
        &changed,
        gp.replace("chest clear.", "chest clear; review in a week.")
            .replace("inhaler technique good.", "inhaler technique poor."),
    )
    .unwrap();
    let (ok, _, err) = import(
        &database,
        "elm-road-surgery",
        "gp-consultations",
        &changed,
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("line 2 (summary): changed since it was imported"),
        "{err}"
    );
    assert!(
        err.contains("line 5 (summary)"),
        "every changed row is listed: {err}"
    );
    let (ok, out, _) = import(
        &database,
        "elm-road-surgery",
        "gp-consultations",
        &changed,
        &partial,
    );
    assert!(ok);
    assert!(
        out.contains("0 entries stored, 2 already imported unchanged, 2 rejected"),
        "{out}"
    );
    assert_eq!(store.entry_count().unwrap(), 11);
    assert!(store.verify_audit().unwrap().is_ok());
}

/// The import benchmark runs end to end on a small scale: every generated row is stored, and
/// the import is timed against appending the same entries.
#[test]
fn bench_import_times_an_export_against_ingesting_its_entries() {
    let text = bench(&["import", "--rows", "300", "--engine", "sqlite"]);
    let (row, numbers) = bench_row(&text, "sqlite");
    assert_eq!(numbers[..2], [300.0, 300.0], "every row stored: {row}");
    assert!(
        numbers[2] > 0.0 && numbers[3] > 0.0 && numbers[4] > 0.0,
        "{row}"
    );
}

/// Runs `safeguard` with `args` on `database`: its exit, stdout and stderr.
fn run_on(database: &str, args: &[&str]) -> (bool, String, String) {
    let out = safeguard()
        .args(args)
        .args(["--database", database])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_census_return_imported_into_an_empty_store_is_made_again_the_same() {
    // Arrange: children's social care, and a police force that makes no return.
    let dir = tempfile::tempdir().unwrap();
    let (database, store) = store_knowing(
        dir.path(),
        &[
            ("north-csc", safeguard_core::AgencyKind::SocialCare),
            ("north-police", safeguard_core::AgencyKind::Police),
        ],
    );
    let golden_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../safeguard-interop/tests/golden/cin-census-2023-24.xml"
    );
    let golden = std::fs::read_to_string(golden_path).unwrap();
    let import = |file: &str, extra: &[&str]| {
        let mut args = vec!["import", "--agency", "north-csc", "--cin", file];
        args.extend_from_slice(extra);
        run_on(&database, &args)
    };

    // Act: import the return, then again; make the return of the same year.
    let (ok, out, err) = import(golden_path, &[]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Imported 2 children: 19 entries stored, 0 already"),
        "{out}"
    );
    let (ok, out, _) = import(golden_path, &[]);
    assert!(ok);
    assert!(
        out.contains("0 entries stored, 19 already imported unchanged"),
        "{out}"
    );
    let made = dir.path().join("cin.xml");
    let census = |year: &str, lea: &str| {
        run_on(
            &database,
            &[
                "census",
                "cin",
                "--year",
                year,
                "--lea",
                lea,
                "--out",
                made.to_str().unwrap(),
            ],
        )
    };
    let (ok, out, err) = census("2023-24", "201");

    // Assert: the same file, byte for byte, and its reading audited.
    assert!(ok, "{err}");
    assert!(out.contains("2 children"), "{out}");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), golden);
    assert!(store.verify_audit().unwrap().is_ok());
    // Annex A of the last six months of the year, from the same entries.
    let workbook = dir.path().join("annex-a.xlsx");
    let (ok, out, err) = run_on(
        &database,
        &[
            "census",
            "annex-a",
            "--from",
            "2023-10-01",
            "--to",
            "2024-03-31",
            "--out",
            workbook.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(
            "list 1 0, list 2 0, list 3 2, list 4 1, list 5 1, list 6 3, list 7 2, list 8 0"
        ),
        "{out}"
    );
    assert!(
        std::fs::read(&workbook).unwrap().starts_with(b"PK"),
        "a workbook"
    );
    let (ok, _, err) = census("2019-20", "201");
    assert!(!ok);
    assert!(err.contains("there is no return to make"), "{err}");
    let (ok, _, err) = census("2023-24", "20A");
    assert!(!ok);
    assert!(err.contains("--lea"), "{err}");

    // A return is children's social care's.
    let (ok, _, err) = run_on(
        &database,
        &["import", "--agency", "north-police", "--cin", golden_path],
    );
    assert!(!ok);
    assert!(err.contains("children's social care"), "{err}");

    // A malformed child: nothing stored by default, every fault by path, no value shown.
    let entries = store.entry_count().unwrap();
    let faulty = dir.path().join("faulty.xml");
    std::fs::write(
        &faulty,
        golden
            .replace(
                "<UPN>A123456789012</UPN>",
                "<UPN>A123456789012</UPN><Nickname>Benny</Nickname>",
            )
            .replace(
                "<CINreferralDate>2024-01-08<",
                "<CINreferralDate>2024-01-32<",
            )
            .replace("2023-05-03", "2023-05-02"),
    )
    .unwrap();
    let (ok, _, err) = import(faulty.to_str().unwrap(), &[]);
    assert!(!ok);
    assert!(
        err.contains("nothing was imported: 1 of 2 children"),
        "{err}"
    );
    assert!(
        err.contains("/Message/Children/Child[2]/ChildIdentifiers/Nickname: is not an element"),
        "{err}"
    );
    assert!(
        err.contains("/Message/Children/Child[2]/CINdetails[2]/CINreferralDate: is not a date"),
        "{err}"
    );
    for value in ["Benny", "2024-01-32", "LA-0002"] {
        assert!(!err.contains(value), "{value} in {err}");
    }
    assert_eq!(store.entry_count().unwrap(), entries, "all or nothing");

    // --partial: the good child stored (its referral moved a day: new entries under new
    // source ids), the faulty one listed with its faults.
    let rejected = dir.path().join("rejected.txt");
    let (ok, out, err) = import(
        faulty.to_str().unwrap(),
        &["--partial", "--rejected", rejected.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(out.contains("1 rejected"), "{out}");
    let listed = std::fs::read_to_string(&rejected).unwrap();
    assert!(
        listed.contains("Child[2]/ChildIdentifiers/Nickname"),
        "{listed}"
    );
    assert!(store.entry_count().unwrap() > entries);

    // A child changed since it was imported is reported, never stored over the first.
    let changed = dir.path().join("changed.xml");
    std::fs::write(
        &changed,
        golden.replace("<PrimaryNeedCode>N1<", "<PrimaryNeedCode>N4<"),
    )
    .unwrap();
    let before = store.entry_count().unwrap();
    let (ok, _, err) = import(changed.to_str().unwrap(), &[]);
    assert!(!ok);
    assert!(
        err.contains(
            "/Message/Children/Child[1] (details.primary_need): changed since it was imported"
        ),
        "{err}"
    );
    assert_eq!(store.entry_count().unwrap(), before);
}

#[test]
fn a_fhir_bundle_imports_whole_or_not_at_all_and_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (database, store) = store_knowing(
        dir.path(),
        &[(
            "north-general-hospital",
            safeguard_core::AgencyKind::Hospital,
        )],
    );
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/fhir/ed-attendance-bundle.json"
    );
    let import = |file: &str| {
        run_on(
            &database,
            &[
                "import",
                "--agency",
                "north-general-hospital",
                "--fhir",
                file,
            ],
        )
    };
    let (ok, out, err) = import(sample);
    assert!(ok, "{err}");
    assert!(out.contains("Imported 1 bundle: 3 entries stored"), "{out}");
    let (ok, out, _) = import(sample);
    assert!(ok);
    assert!(
        out.contains("0 entries stored, 3 already imported unchanged"),
        "{out}"
    );

    let faulty = dir.path().join("faulty.json");
    std::fs::write(
        &faulty,
        std::fs::read_to_string(sample)
            .unwrap()
            .replace("\"code\": \"EMER\"", "\"code\": \"VR\"")
            .replace("ED-20240614-0031", "ED-20240614-0099"),
    )
    .unwrap();
    let (ok, _, err) = import(faulty.to_str().unwrap());
    assert!(!ok);
    assert!(err.contains("nothing was imported: 1 of 1 bundle"), "{err}");
    assert!(
        err.contains("Encounter/ed-20240614-1 (class): is not AMB"),
        "{err}"
    );
    assert!(!err.contains("Brennan"), "{err}");
    assert_eq!(store.entry_count().unwrap(), 3);
}
