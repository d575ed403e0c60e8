//! One test per hole an insider with a token or an account found (issue 13): each failed on
//! the code before it was closed.

use std::time::Instant;

use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind};
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, entry, spawn_app};

/// The police hold Sam (they recorded first) and a social worker leads; a school, with a token
/// and a practitioner, has never recorded about him.
struct Arranged {
    app: TestApp,
    child: String,
    school: Auth,
    teacher: Auth,
    lead_professional: Auth,
}

async fn arrange() -> Arranged {
    let app = spawn_app();
    for (id, kind) in [
        ("north-schools", AgencyKind::Education),
        ("north-childrens-services", AgencyKind::SocialCare),
    ] {
        app.store
            .put_agency(&Agency {
                id: AgencyId::parse(id).unwrap(),
                name: id.into(),
                kind,
            })
            .unwrap();
    }
    let police = Auth::Token(
        app.store
            .add_api_token("police-niche", &AgencyId::parse("north-police").unwrap())
            .unwrap(),
    );
    let mut held = entry("p1", "2007-01-01");
    held["agency"] = "north-police".into();
    held["summary"] = "Police call-out: the police's own account".into();
    let r = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            held.to_string(),
            &police,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let child = app.find_person("sam").await;
    let lead_professional = app.user("sw1", "north-childrens-services", Role::Practitioner);
    app.store
        .allocate(child.parse().unwrap(), "sw1", true)
        .unwrap();
    let school = Auth::Token(
        app.store
            .add_api_token("school-mis", &AgencyId::parse("north-schools").unwrap())
            .unwrap(),
    );
    let teacher = app.user("teacher", "north-schools", Role::Practitioner);
    Arranged {
        app,
        child,
        school,
        teacher,
        lead_professional,
    }
}

/// The school's entry naming the child by name, date of birth and address.
fn school_entry(source_id: &str) -> Value {
    let mut e = entry(source_id, "2007-02-01");
    e["agency"] = "north-schools".into();
    e["summary"] = format!("School concern {source_id}").into();
    e
}

async fn post(app: &TestApp, body: &Value, auth: &Auth) -> crate::helpers::TestResponse {
    app.post_as(
        "/api/v1/entries",
        "application/json",
        body.to_string(),
        auth,
    )
    .await
}

#[tokio::test]
async fn writing_about_a_child_does_not_open_the_other_agencies_entries() {
    let Arranged {
        app,
        child,
        school,
        teacher,
        lead_professional,
    } = arrange().await;

    // Act: the school records about the police's child.
    let r = post(&app, &school_entry("s1"), &school).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        app.find_person("sam").await,
        child,
        "the school's record joins the child"
    );

    // Assert: its own entries and the status, nothing else.
    for auth in [&school, &teacher] {
        let chronology = app
            .get_as(&format!("/api/v1/persons/{child}/chronology"), auth)
            .await;
        assert_eq!(chronology.status, 200, "{}", chronology.text);
        let summaries: Vec<String> = chronology.json()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entry"]["summary"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            summaries,
            ["School concern s1"],
            "only the school's own entry"
        );
        for route in ["", "/household", "/flags"] {
            let r = app
                .get_as(&format!("/api/v1/persons/{child}{route}"), auth)
                .await;
            assert_eq!(r.status, 403, "{route}: {}", r.text);
            assert_eq!(r.json()["error"], "involvement_unconfirmed", "{route}");
        }
        let status = app
            .get_as(&format!("/api/v1/persons/{child}/status"), auth)
            .await;
        assert_eq!(status.status, 200, "{}", status.text);
        let status = status.json();
        assert_eq!(status["lead_professional"]["name"], "sw1", "whom to call");
        assert_eq!(status["on_plan"], false);
    }
    // The child's page says so in words, names the lead and offers breaking glass; it shows
    // nothing of the record.
    let page = app.get_as(&format!("/persons/{child}"), &teacher).await;
    assert_eq!(page.status, 403);
    assert!(
        page.text.contains("waiting to be confirmed") && page.text.contains("<strong>sw1</strong>"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(&format!("href=\"/persons/{child}/break-glass\""))
    );
    assert!(!page.text.contains("Sam Example") && !page.text.contains("GET ."));

    // The request waits for the lead professional, who confirms it with a reason.
    let waiting = app
        .get_as("/api/v1/involvements", &lead_professional)
        .await
        .json();
    let requests = waiting["requests"].as_array().unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r["person"] == child.as_str() && r["agency"] == "north-schools"),
        "{waiting}"
    );
    assert!(
        app.get_as("/api/v1/involvements", &teacher).await.json()["requests"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the teacher leads no child"
    );
    let refused = app
        .post_as(
            &format!("/api/v1/persons/{child}/involvements"),
            "application/json",
            json!({"agency": "north-schools", "decision": "confirm",
                   "reason": "I confirm my own school's involvement"})
            .to_string(),
            &teacher,
        )
        .await;
    assert_eq!(refused.status, 403, "an agency cannot confirm itself");
    let decided = app
        .post_as(
            &format!("/api/v1/persons/{child}/involvements"),
            "application/json",
            json!({"agency": "north-schools", "decision": "confirm",
                   "reason": "Sam attends this school; head teacher spoken to"})
            .to_string(),
            &lead_professional,
        )
        .await;
    assert_eq!(decided.status, 204, "{}", decided.text);
    let chronology = app
        .get_as(&format!("/api/v1/persons/{child}/chronology"), &teacher)
        .await
        .json();
    assert_eq!(
        chronology["entries"].as_array().unwrap().len(),
        2,
        "confirmed: the whole multi-agency chronology"
    );
    let status = app
        .get_as(&format!("/api/v1/persons/{child}/status"), &teacher)
        .await
        .json();
    let school = status["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agency"] == "north-schools")
        .unwrap()
        .clone();
    assert_eq!(
        school["standing"], "confirmed",
        "the decision is shown to the agency"
    );
}

#[tokio::test]
async fn an_entry_recorded_in_the_future_is_refused_and_opens_nothing() {
    let Arranged {
        app, child, school, ..
    } = arrange().await;
    let mut future = school_entry("s1");
    future["recorded_at"] = "2099-01-01T00:00:00Z".into();

    let r = post(&app, &future, &school).await;

    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.error_fields(), ["recorded_at"]);
    let read = app
        .get_as(&format!("/api/v1/persons/{child}/chronology"), &school)
        .await;
    assert_eq!(read.status, 403);
}

#[tokio::test]
async fn a_resend_with_other_content_is_a_conflict_naming_the_field() {
    let Arranged { app, school, .. } = arrange().await;
    assert_eq!(post(&app, &school_entry("s1"), &school).await.status, 201);
    let mut changed = school_entry("s1");
    changed["summary"] = "Quietly rewritten".into();

    let r = post(&app, &changed, &school).await;

    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json()["error"], "conflict");
    assert_eq!(r.error_fields(), ["summary"]);
    assert_eq!(
        post(&app, &school_entry("s1"), &school).await.status,
        200,
        "the same again is fine"
    );
}

#[tokio::test]
async fn an_entry_naming_ten_thousand_people_is_refused_at_once() {
    let Arranged { app, school, .. } = arrange().await;
    let mut crowd = school_entry("s1");
    let mut persons = vec![crowd["persons"][0].clone()];
    persons.extend((0..10_000).map(|i| {
        json!({"role": "other_adult_present", "record": {"local_id": format!("X{i}"),
            "name": {"given": [format!("Given{i}")], "family": "Crowd"}}})
    }));
    crowd["persons"] = persons.into();
    let body = crowd.to_string();
    assert!(body.len() > 1_000_000);

    let started = Instant::now();
    let r = app
        .post_as("/api/v1/entries", "application/json", body, &school)
        .await;
    let took = started.elapsed();

    assert_eq!(r.status, 422, "{}", &r.text[..r.text.len().min(300)]);
    assert_eq!(r.error_fields(), ["persons"]);
    eprintln!("refused a 10,001-person entry in {took:?} (debug build)");
    assert_eq!(app.store.entry_count().unwrap(), 1, "nothing written");
}

#[tokio::test]
async fn a_batch_too_large_is_refused_whole() {
    let Arranged { app, school, .. } = arrange().await;
    let batch: Vec<Value> = (0..201).map(|i| school_entry(&format!("s{i}"))).collect();

    let r = post(&app, &Value::Array(batch), &school).await;

    assert_eq!(r.status, 422, "{}", &r.text[..r.text.len().min(300)]);
    assert!(r.text.contains("at most 200"), "{}", r.text);
    assert_eq!(app.store.entry_count().unwrap(), 1);
}

#[tokio::test]
async fn hidden_characters_and_implausible_dates_are_refused_naming_the_field() {
    let Arranged { app, school, .. } = arrange().await;
    let cases: [(&str, Value, &str); 5] = [
        ("persons[0].record.name.given[0]", json!("Sa\u{0}m"), "NUL"),
        (
            "persons[0].record.name.given[0]",
            json!("Sa\u{202E}m"),
            "reorders",
        ),
        (
            "persons[0].record.name.family",
            json!("Exa\u{200B}mple"),
            "hides",
        ),
        (
            "persons[0].record.date_of_birth",
            json!("2090-01-01"),
            "after today",
        ),
        ("summary", json!("Seen \u{202E}today"), "reorders"),
    ];
    for (field, value, why) in cases {
        let mut e = school_entry("s1");
        match field {
            "summary" => e["summary"] = value,
            "persons[0].record.date_of_birth" => e["persons"][0]["record"]["date_of_birth"] = value,
            "persons[0].record.name.family" => e["persons"][0]["record"]["name"]["family"] = value,
            _ => e["persons"][0]["record"]["name"]["given"][0] = value,
        }

        let r = post(&app, &e, &school).await;

        assert_eq!(r.status, 422, "{field}: {}", r.text);
        assert_eq!(r.error_fields(), [field]);
        assert!(r.text.contains(why), "{field}: {}", r.text);
    }
    let mut ancient = school_entry("s1");
    ancient["recorded_at"] = "0001-01-01T00:00:00Z".into();
    ancient["occurred_at"] = "0001-01-01".into();
    assert_eq!(post(&app, &ancient, &school).await.status, 422);
}

#[tokio::test]
async fn a_household_date_out_of_range_is_a_bad_request_not_a_panic() {
    let Arranged { app, child, .. } = arrange().await;
    for at in ["-262143-01-01", "+262143-12-31", "99999-01-01"] {
        let r = app
            .get(&format!("/api/v1/persons/{child}/household?at={at}"))
            .await;
        assert_eq!(r.status, 400, "{at}: {}", r.text);
    }
}

#[tokio::test]
async fn break_glass_needs_a_sentence_and_does_not_tell_who_exists() {
    let Arranged {
        app,
        child,
        teacher,
        ..
    } = arrange().await;
    let glass = |id: String, reason: String| {
        let app = &app;
        let teacher = &teacher;
        async move {
            app.post_as(
                &format!("/api/v1/persons/{id}/break-glass"),
                "application/json",
                json!({ "reason": reason }).to_string(),
                teacher,
            )
            .await
        }
    };
    for bad in ["aaaaaaaaaa".to_owned(), "x ".repeat(100_000)] {
        let r = glass(child.clone(), bad).await;
        assert_eq!(r.status, 422, "{}", &r.text[..r.text.len().min(200)]);
        assert_eq!(r.error_fields(), ["reason"]);
    }
    let reason = "Child disclosed harm at school this morning".to_owned();
    let known = glass(child.clone(), reason.clone()).await;
    let unknown = glass(uuid_like(), reason).await;
    assert_eq!(known.status, 204, "{}", known.text);
    assert_eq!(
        unknown.status, known.status,
        "an unknown person is answered alike"
    );
    assert_eq!(unknown.text, known.text);
}

fn uuid_like() -> String {
    "0190f4a2-8a1c-7c3e-9d5e-2f3b4c5d6e7f".to_owned()
}

#[tokio::test]
async fn search_shows_an_outsider_only_what_tells_people_apart_and_is_audited_per_person() {
    let Arranged {
        app,
        child,
        teacher,
        ..
    } = arrange().await;

    let found = app.get_as("/api/v1/persons?q=2006-06-14", &teacher).await;

    assert_eq!(found.status, 200, "{}", found.text);
    let hits = found.json()["persons"].as_array().unwrap().clone();
    let hit = hits
        .iter()
        .find(|h| h["id"] == child.as_str())
        .expect("the child is found");
    assert_eq!(hit["name"], "Sam Example");
    assert_eq!(hit["born"], "2006-06");
    assert_eq!(hit["may_read"], false);
    assert!(hit["person"].is_null(), "{hit}");
    for secret in [
        "9434765919",
        "N17 6AA",
        "Example Road",
        "north-police",
        "2006-06-14\"",
    ] {
        assert!(
            !found.text.contains(secret),
            "{secret} leaked: {}",
            found.text
        );
    }
    // The lead reads everything, and the child's access log names both searches.
    let lead = app.get("/api/v1/persons?q=2006-06-14").await.json();
    let full = lead["persons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == child.as_str())
        .unwrap()
        .clone();
    assert_eq!(full["may_read"], true);
    assert_eq!(full["person"]["records"].as_array().unwrap().len(), 1);
    let log = app
        .get(&format!("/api/v1/persons/{child}/access-log"))
        .await
        .json();
    let searchers: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "search_result")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        searchers,
        ["lead", "teacher", "lead"],
        "newest first; arranging found him too"
    );
    // Opening the result goes through the same gate.
    let open = app
        .get_as(&format!("/api/v1/persons/{child}"), &teacher)
        .await;
    assert_eq!(open.status, 403);
}

#[tokio::test]
async fn a_caller_past_its_rate_is_told_when_to_retry_and_others_are_not_slowed() {
    let app = crate::helpers::spawn_app_with(safeguard_web::Config {
        requests_per_minute: 60,
        ..safeguard_web::Config::default()
    });
    let other = app.user("other", "north-police", Role::Practitioner);
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(app.get_as("/api/v1/alerts", &app.lead).await);
    }
    let last = statuses.pop().unwrap();
    assert!(
        statuses.iter().all(|r| r.status == 200),
        "the burst is served"
    );
    assert_eq!(last.status, 429, "{}", last.text);
    assert_eq!(last.json()["error"], "rate_limited");
    assert!(last.headers.contains_key("retry-after"));
    assert_eq!(app.get_as("/api/v1/alerts", &other).await.status, 200);
}
