//! Recording an entry on a page: the form, its errors, and the ways an insider might use it
//! to write about, or read, people they should not.

use axum::http::StatusCode;
use safeguard_core::PersonId;
use safeguard_core::access::Role;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, entry, spawn_app};

const FORM: &str = "application/x-www-form-urlencoded";

async fn post_form(
    app: &TestApp,
    child: &str,
    kind: &str,
    pairs: &[(&str, &str)],
    auth: &Auth,
) -> crate::helpers::TestResponse {
    app.post_as(
        &format!("/persons/{child}/record?kind={kind}"),
        FORM,
        serde_urlencoded::to_string(pairs).unwrap(),
        auth,
    )
    .await
}

async fn chronology(app: &TestApp, person: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/persons/{person}/chronology"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["entries"].as_array().unwrap().clone()
}

/// The form's own idempotency key, as the page sent it.
fn source_id_of(page: &str) -> String {
    let at = page
        .find(r#"name="source_id" value=""#)
        .expect("the form carries its source id")
        + r#"name="source_id" value=""#.len();
    page[at..at + 36].to_owned()
}

#[tokio::test]
async fn a_practitioner_records_a_visit_on_the_page_and_sees_it_with_its_concerns() {
    let app = spawn_app();
    app.post_entries(&json!([entry("e1", "2006-12-11T14:30")]))
        .await;
    let mut stranger = entry("s1", "2006-12-12");
    stranger["persons"] = json!([{"role": "subject_child", "record": {"local_id": "K1",
        "name": {"given": ["Kit"], "family": "Stranger"}, "date_of_birth": "2004-02-02"}}]);
    stranger["residences"] = json!([]);
    app.post_entries(&stranger).await;
    let child = app.find_person("sam").await;
    let daniel = app.find_person("daniel").await;
    let kit = app.find_person("stranger").await;
    let worker = app.user("worker", "north-police", Role::Practitioner);
    let id: PersonId = child.parse().unwrap();
    app.store.allocate(id, "worker", true).unwrap();

    let page = app.get_as(&format!("/persons/{child}"), &worker).await;
    assert!(
        page.text
            .contains(&format!(r#"href="/persons/{child}/record""#)),
        "a way to record"
    );
    let choose = app
        .get_as(&format!("/persons/{child}/record"), &worker)
        .await;
    assert_eq!(choose.status, StatusCode::OK);
    assert!(choose.text.contains("?kind=home_visit"));
    let form = app
        .get_as(&format!("/persons/{child}/record?kind=home_visit"), &worker)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(
        form.text.contains("Daniel Other"),
        "the household is offered"
    );
    assert!(!form.text.contains("Kit Stranger"), "nobody outside it");
    let source_id = source_id_of(&form.text);

    // Everything missing: every question named at once, and what was typed kept.
    let empty = post_form(
        &app,
        &child,
        "home_visit",
        &[("source_id", &source_id), ("occurred-year", "2007")],
        &worker,
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "The date it happened must be a real date",
        "Enter what happened",
        "Select the child seen",
    ] {
        assert!(empty.text.contains(message), "{message}: {}", empty.text);
    }
    assert!(empty.text.contains("<title>Error: "));
    assert!(
        empty.text.contains(r##"href="#details-child_seen""##),
        "linked to the field"
    );
    assert!(
        empty
            .text
            .contains(r#"name="occurred-year" type="text" inputmode="numeric" value="2007""#)
    );
    assert_eq!(chronology(&app, &child).await.len(), 1, "nothing stored");

    // Correct, with a stranger's identifier and another agency slipped in.
    let daniel_role = format!("person.{daniel}.role");
    let kit_role = format!("person.{kit}.role");
    let answers = [
        ("source_id", source_id.as_str()),
        ("agency", "north-hospital"),
        ("occurred", "2"),
        ("occurred-month", "1"),
        ("occurred-year", "2007"),
        ("occurred-time", "16:05"),
        ("summary", "No answer at the door; a man's voice inside."),
        (daniel_role.as_str(), "other_adult_present"),
        (kit_role.as_str(), "parent"),
        ("details.child_seen", "no"),
        ("details.child_seen_alone", "no"),
        ("details.outcome", "no_answer"),
    ];
    let done = post_form(&app, &child, "home_visit", &answers, &worker).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let location = done.headers["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/persons/{child}?recorded=")),
        "{location}"
    );

    let entries = chronology(&app, &child).await;
    assert_eq!(entries.len(), 2);
    let recorded = &entries[1];
    assert_eq!(
        recorded["entry"]["agency"], "north-police",
        "the recorder's agency, whatever the form says"
    );
    assert_eq!(recorded["entry"]["source"]["system"], "safeguard-web");
    assert_eq!(recorded["entry"]["occurred_at"], "2007-01-02T16:05");
    let details: safeguard_core::EntryDetails =
        serde_json::from_value(recorded["entry"]["details"].clone()).unwrap();
    let sent: safeguard_core::EntryDetails = serde_json::from_value(json!({"kind": "home_visit",
        "child_seen": false, "child_seen_alone": false, "outcome": "no_answer"}))
    .unwrap();
    assert_eq!(details, sent);
    let named: Vec<&str> = recorded["person_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        named,
        [child.as_str(), daniel.as_str()],
        "the child and the adult chosen, no one else"
    );
    assert_eq!(
        chronology(&app, &kit).await.len(),
        1,
        "the stranger's record is untouched"
    );

    // Sent twice (a double click, the back button): one entry.
    let again = post_form(&app, &child, "home_visit", &answers, &worker).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(chronology(&app, &child).await.len(), 2);

    let shown = app.get_as(&location, &worker).await;
    assert!(shown.text.contains("Home visit recorded"), "{}", shown.text);
    assert!(shown.text.contains("See it in the chronology"));
    // The same form, changed after it was stored, is not silently dropped.
    let mut changed = answers.to_vec();
    changed[6] = ("summary", "Something else");
    let conflict = post_form(&app, &child, "home_visit", &changed, &worker).await;
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(conflict.text.contains("This form was recorded already"));
}

#[tokio::test]
async fn an_agency_not_involved_records_about_the_child_alone_and_reads_only_its_own() {
    let app = spawn_app();
    app.post_entries(&json!([entry("e1", "2006-12-11T14:30")]))
        .await;
    let child = app.find_person("sam").await;
    let auditor = app.user("auditor", "north-police", Role::Auditor);
    let outsider = app.user("outsider", "north-police", Role::Practitioner);
    let answers = [
        ("source_id", "01234567-89ab-7def-8123-456789abcdef"),
        ("occurred", "2"),
        ("occurred-month", "1"),
        ("occurred-year", "2007"),
        ("summary", "A note"),
    ];

    let r = app
        .get_as(&format!("/persons/{child}/record?kind=case_note"), &auditor)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.content_type.starts_with("text/html"), "a page, not JSON");
    let r = post_form(&app, &child, "case_note", &answers, &auditor).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A practitioner with no part in the child's life may record about the child, as a
    // search offers, but the form shows nothing of the record: the child alone, named as
    // the search showed them, and nobody of the household.
    let found = app.get_as("/?q=sam+example", &outsider).await;
    assert!(
        found
            .text
            .contains(&format!(r#"href="/persons/{child}/record""#)),
        "the search offers to record: {}",
        found.text
    );
    let r = app
        .get_as(
            &format!("/persons/{child}/record?kind=case_note"),
            &outsider,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("does not yet share this child"),
        "{}",
        r.text
    );
    assert!(r.text.contains("Sam Example"));
    assert!(
        !r.text.contains("Daniel Other"),
        "the household is not shown"
    );
    assert!(!r.text.contains("2006-06-14") && !r.text.contains("14 June 2006"));
    let answers = [
        ("source_id", source_id_of(&r.text)),
        ("occurred", "2".into()),
        ("occurred-month", "1".into()),
        ("occurred-year", "2007".into()),
        ("summary", "Seen at the station with a bruise".into()),
    ];
    let answers: Vec<(&str, &str)> = answers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &child, "case_note", &answers, &outsider).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let entries = chronology(&app, &child).await;
    assert_eq!(entries.len(), 2, "the outsider's entry is the child's");
    let theirs = &entries[1]["entry"];
    assert_eq!(theirs["agency"], "north-police");
    assert_eq!(
        theirs["persons"][0]["record"]["date_of_birth"], "2006-06",
        "their entry holds the child's month of birth, as the search showed it"
    );
    // Recording did not open the record: their own entry only, the household refused.
    let own = app
        .get_as(&format!("/api/v1/persons/{child}/chronology"), &outsider)
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json()["entries"].as_array().unwrap().len(), 1);
    let household = app
        .get_as(&format!("/api/v1/persons/{child}/household"), &outsider)
        .await;
    assert_eq!(household.status, StatusCode::FORBIDDEN);
    let log = app.store.access_log(&child).unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "open_recording_form" && e.actor == "outsider"),
        "opening the form is audited"
    );

    // An agency system's token has no form to fill.
    let r = post_form(&app, &child, "case_note", &answers, &app.hospital).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        chronology(&app, &child).await.len(),
        2,
        "nothing more was stored"
    );
}

#[tokio::test]
async fn a_participant_chosen_in_the_details_must_be_in_the_entry() {
    let app = spawn_app();
    app.post_entries(&json!([entry("e1", "2006-12-11T14:30")]))
        .await;
    let child = app.find_person("sam").await;
    let daniel = app.find_person("daniel").await;
    let worker = app.user("worker", "north-police", Role::Practitioner);
    app.store
        .allocate(child.parse().unwrap(), "worker", true)
        .unwrap();
    let answers = [
        ("source_id", "01234567-89ab-7def-8123-456789abcdef"),
        ("occurred", "2"),
        ("occurred-month", "1"),
        ("occurred-year", "2007"),
        ("summary", "PNC check asked for"),
        ("details.subject", daniel.as_str()),
        ("details.status", "requested"),
    ];
    let r = post_form(&app, &child, "background_check", &answers, &worker).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains(r##"href="#details-subject""##),
        "{}",
        r.text
    );
    let role = format!("person.{daniel}.role");
    let mut with_daniel = answers.to_vec();
    with_daniel.push((role.as_str(), "other_adult_present"));
    let r = post_form(&app, &child, "background_check", &with_daniel, &worker).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let entries = chronology(&app, &daniel).await;
    assert_eq!(
        entries.last().unwrap()["entry"]["details"]["subject"],
        daniel.as_str()
    );
}

#[tokio::test]
async fn someone_known_but_not_in_the_household_is_found_by_a_search_on_the_form() {
    let app = spawn_app();
    app.post_entries(&json!([entry("e1", "2006-12-11T14:30")]))
        .await;
    let mut stranger = entry("s1", "2006-12-12");
    stranger["persons"] = json!([{"role": "subject_child", "record": {"local_id": "K1",
        "name": {"given": ["Kit"], "family": "Stranger"}, "date_of_birth": "2004-02-02"}}]);
    stranger["residences"] = json!([]);
    app.post_entries(&stranger).await;
    let child = app.find_person("sam").await;
    let kit = app.find_person("stranger").await;
    let worker = app.user("worker", "north-police", Role::Practitioner);
    app.store
        .allocate(child.parse().unwrap(), "worker", true)
        .unwrap();
    let form = app
        .get_as(&format!("/persons/{child}/record?kind=case_note"), &worker)
        .await;
    assert!(!form.text.contains("Kit Stranger"), "not offered unasked");
    let source_id = source_id_of(&form.text);
    let base = [
        ("source_id", source_id.as_str()),
        ("occurred", "2"),
        ("occurred-month", "1"),
        ("occurred-year", "2007"),
        ("summary", "Kit was at the house."),
    ];

    // Act: search on the form, with a typo.
    let mut finding = base.to_vec();
    finding.extend([("find.q", "Kit Stranjer"), ("find", "1")]);
    let found = post_form(&app, &child, "case_note", &finding, &worker).await;

    // Assert: the form again, answers kept, Kit offered; nothing stored yet.
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert!(found.text.contains("Kit Stranger"), "{}", found.text);
    assert!(found.text.contains("1 found for"));
    assert!(found.text.contains("Kit was at the house."));
    assert!(
        found
            .text
            .contains(&format!(r#"name="found" value="{kit}""#))
    );
    assert_eq!(chronology(&app, &child).await.len(), 1);
    let log = app.store.access_log(&kit).unwrap();
    assert!(
        log.iter().any(|e| e.action == "search_result"),
        "the search is audited"
    );

    // Recorded with Kit's part: the entry names Kit, as the search showed Kit.
    let kit_role = format!("person.{kit}.role");
    let mut sending = base.to_vec();
    sending.extend([
        ("found", kit.as_str()),
        (kit_role.as_str(), "other_child"),
        ("find.q", ""),
        ("find", "1"),
    ]);
    let done = post_form(&app, &child, "case_note", &sending, &worker).await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "Enter with nothing to find sends the form: {}",
        done.text
    );
    let entries = chronology(&app, &child).await;
    let recorded = &entries[1];
    assert_eq!(recorded["person_ids"], json!([child, kit]));
    assert_eq!(recorded["entry"]["persons"][1]["role"], "other_child");
    assert_eq!(
        recorded["entry"]["persons"][1]["record"]["date_of_birth"], "2004-02",
        "no more of Kit than the search showed"
    );
    assert_eq!(
        chronology(&app, &kit).await.len(),
        2,
        "in Kit's chronology too"
    );
}

#[tokio::test]
async fn an_entry_recorded_on_the_page_is_corrected_there_by_its_agency_only() {
    let app = spawn_app();
    app.post_entries(&json!([entry("e1", "2006-12-11T14:30")]))
        .await;
    let child = app.find_person("sam").await;
    let daniel = app.find_person("daniel").await;
    let worker = app.user("worker", "north-police", Role::Practitioner);
    let colleague = app.user("colleague", "north-police", Role::Practitioner);
    let nurse = app.user("nurse", "north-hospital", Role::Practitioner);
    app.store
        .allocate(child.parse().unwrap(), "worker", true)
        .unwrap();
    let form = app
        .get_as(&format!("/persons/{child}/record?kind=case_note"), &worker)
        .await;
    let daniel_role = format!("person.{daniel}.role");
    let sent = [
        ("source_id", source_id_of(&form.text)),
        ("occurred", "2".into()),
        ("occurred-month", "1".into()),
        ("occurred-year", "2007".into()),
        ("occurred-time", "09:15".into()),
        (
            "summary",
            "Sam was seen with a bruise on the left cheek.".into(),
        ),
        (daniel_role.as_str(), "other_adult_present".into()),
    ];
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &child, "case_note", &sent, &worker).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let entries = chronology(&app, &child).await;
    let original = entries[1]["id"].as_str().unwrap().to_owned();

    // The page offers a correction of the page's entry only, to its agency only.
    let page = app.get_as(&format!("/persons/{child}"), &worker).await;
    let correct = format!("/persons/{child}/record?kind=case_note&amp;corrects={original}");
    assert!(page.text.contains(&correct), "{}", page.text);
    assert_eq!(
        page.text.matches("&amp;corrects=").count(),
        1,
        "not the system's entry"
    );
    let nurse_page = app.get_as(&format!("/persons/{child}"), &nurse).await;
    assert!(!nurse_page.text.contains("&amp;corrects="));

    // The form comes back filled in as it was sent.
    let form = app
        .get_as(
            &format!("/persons/{child}/record?kind=case_note&corrects={original}"),
            &colleague,
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Correct this case note"));
    assert!(
        form.text
            .contains("Sam was seen with a bruise on the left cheek.")
    );
    assert!(form.text.contains(r#"value="09:15""#));
    assert!(
        form.text
            .contains(&format!(r#"name="corrects" value="{original}""#))
    );
    assert!(
        form.text
            .contains(r#"<option value="other_adult_present" selected>"#),
        "Daniel's part is kept"
    );

    // Act: corrected by a colleague of the same agency.
    let mut fixing = [
        ("source_id", source_id_of(&form.text)),
        ("corrects", original.clone()),
        ("occurred", "2".into()),
        ("occurred-month", "1".into()),
        ("occurred-year", "2007".into()),
        ("occurred-time", "09:15".into()),
        (
            "summary",
            "Sam was seen with a bruise on the right cheek.".into(),
        ),
        (daniel_role.as_str(), "other_adult_present".into()),
    ];
    let pairs: Vec<(&str, &str)> = fixing.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &child, "case_note", &pairs, &colleague).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    // Assert: the correction stands in the original's place; the original is kept, marked.
    let entries = chronology(&app, &child).await;
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1]["entry"]["summary"],
        "Sam was seen with a bruise on the right cheek."
    );
    assert_eq!(entries[1]["person_ids"], json!([child, daniel]));
    let all = app
        .get(&format!(
            "/api/v1/persons/{child}/chronology?include_superseded=true"
        ))
        .await
        .json();
    let kept = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == original.as_str())
        .expect("the original is kept");
    assert_eq!(kept["superseded_by"], entries[1]["id"]);

    // The original cannot be corrected again, nor by another agency, nor a system's entry.
    let again = app
        .get_as(
            &format!("/persons/{child}/record?kind=case_note&corrects={original}"),
            &worker,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let correction = entries[1]["id"].as_str().unwrap();
    let r = app
        .get_as(
            &format!("/persons/{child}/record?kind=case_note&corrects={correction}"),
            &nurse,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let system_entry = entries[0]["id"].as_str().unwrap();
    let r = app
        .get_as(
            &format!("/persons/{child}/record?kind=case_note&corrects={system_entry}"),
            &worker,
        )
        .await;
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.status
    );
    // A crafted correction of someone else's entry is refused on sending too.
    fixing[0].1 = uuid::Uuid::now_v7().to_string();
    fixing[1].1 = system_entry.to_owned();
    let pairs: Vec<(&str, &str)> = fixing.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&app, &child, "case_note", &pairs, &worker).await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND);
    assert_eq!(chronology(&app, &child).await.len(), 2);
}
