//! Acting on a concern from the child's page: acknowledging it with what is being done,
//! assigning it to a worker, and the ways an insider might act on a concern they should not.

use axum::http::StatusCode;
use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind, PersonId};
use serde_json::json;

use crate::helpers::{Auth, TestApp, entry, spawn_app};

const FORM: &str = "application/x-www-form-urlencoded";

async fn act(
    app: &TestApp,
    child: &str,
    pairs: &[(&str, &str)],
    auth: &Auth,
) -> crate::helpers::TestResponse {
    app.post_as(
        &format!("/persons/{child}/concerns"),
        FORM,
        serde_urlencoded::to_string(pairs).unwrap(),
        auth,
    )
    .await
}

fn location(r: &crate::helpers::TestResponse) -> String {
    r.headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_manager_acknowledges_and_assigns_a_concern_and_the_page_shows_who_did_what() {
    let app = spawn_app();
    let mut injury = entry("e1", "2006-12-11T14:30");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise"});
    app.post_entries(&injury).await;
    let child = app.find_person("sam").await;
    let id: PersonId = child.parse().unwrap();
    let manager = app.user("manager", "north-police", Role::TeamManager);
    let officer = app.user("officer", "north-police", Role::Practitioner);
    let nurse = app.user("nurse", "north-hospital", Role::Practitioner);
    app.store.allocate(id, "manager", true).unwrap();
    let key = app
        .store
        .flags(id)
        .unwrap()
        .into_iter()
        .find(|f| f.flag.rule == "injury_to_non_mobile_baby")
        .expect("the injury raised a concern")
        .flag
        .key();
    let concern = format!(
        "/persons/{child}/concerns?{}",
        serde_urlencoded::to_string([("flag", &key)]).unwrap()
    );

    let page = app.get_as(&format!("/persons/{child}"), &manager).await;
    assert!(
        page.text.contains("Acknowledge or assign"),
        "a way to act from the concern"
    );
    let form = app.get_as(&concern, &manager).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("Assign it to a worker"));
    assert!(
        form.text.contains(r#"value="officer""#),
        "a worker of the manager's agency"
    );
    assert!(
        !form.text.contains(r#"value="nurse""#),
        "not another agency's"
    );

    // Every mistake is shown on the page, and nothing is kept.
    let empty = act(
        &app,
        &child,
        &[("flag", &key), ("action", "acknowledge"), ("reason", "")],
        &manager,
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text.contains("<title>Error:"));
    assert!(empty.text.contains(r##"href="#reason""##));
    let nothing = act(&app, &child, &[("flag", &key)], &manager).await;
    assert_eq!(
        nothing.status,
        StatusCode::BAD_REQUEST,
        "not a form this service made"
    );
    let nobody = act(
        &app,
        &child,
        &[("flag", &key), ("action", "assign"), ("assignee", "")],
        &manager,
    )
    .await;
    assert!(nobody.text.contains(r##"href="#assignee""##));
    let elsewhere = act(
        &app,
        &child,
        &[("flag", &key), ("action", "assign"), ("assignee", "nurse")],
        &manager,
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(elsewhere.text.contains(r##"href="#assignee""##));
    assert!(app.store.flag_actions(id).unwrap().is_empty());

    let reason = "Discussed at the strategy meeting; a skeletal survey is booked for Friday.";
    let done = act(
        &app,
        &child,
        &[
            ("flag", &key),
            ("action", "acknowledge"),
            ("reason", reason),
        ],
        &manager,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let shown = app.get_as(&location(&done), &manager).await;
    assert!(
        shown.text.contains("Concern acknowledged"),
        "the page confirms it"
    );
    assert!(
        shown.text.contains(reason),
        "and shows the reason with the concern"
    );
    let assigned = act(
        &app,
        &child,
        &[
            ("flag", &key),
            ("action", "assign"),
            ("assignee", "officer"),
        ],
        &manager,
    )
    .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER);
    let shown = app.get_as(&location(&assigned), &manager).await;
    assert!(shown.text.contains("Concern assigned to officer"));

    // A practitioner acknowledges but does not assign; another agency's acknowledges too.
    let theirs = app.get_as(&concern, &officer).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(!theirs.text.contains("Assign it to a worker"));
    let assigning = act(
        &app,
        &child,
        &[
            ("flag", &key),
            ("action", "assign"),
            ("assignee", "officer"),
        ],
        &officer,
    )
    .await;
    assert_eq!(assigning.status, StatusCode::FORBIDDEN);
    let by_nurse = act(
        &app,
        &child,
        &[
            ("flag", &key),
            ("action", "acknowledge"),
            (
                "reason",
                "Seen in the emergency department and photographed.",
            ),
        ],
        &nurse,
    )
    .await;
    assert_eq!(by_nurse.status, StatusCode::SEE_OTHER);

    let log: Vec<String> = app
        .store
        .access_log(&child)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("flag_a"))
        .collect();
    assert_eq!(
        log,
        ["flag_acknowledged", "flag_assigned", "flag_acknowledged"],
        "newest first"
    );
}

#[tokio::test]
async fn nobody_acts_on_a_concern_they_may_not_read_or_that_is_not_the_childs() {
    let app = spawn_app();
    let mut injury = entry("e1", "2006-12-11T14:30");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "face", "injury_type": "bruise"});
    app.post_entries(&injury).await;
    let mut other = entry("o1", "2007-01-05");
    other["persons"] = json!([{"role": "subject_child", "record": {"local_id": "K1",
        "name": {"given": ["Kit"], "family": "Stranger"}, "date_of_birth": "2006-11-02"}}]);
    other["residences"] = json!([]);
    other["details"] =
        json!({"kind": "injury_observed", "body_site": "arm", "injury_type": "bruise"});
    app.post_entries(&other).await;
    let child = app.find_person("sam").await;
    let kit = app.find_person("stranger").await;
    let id: PersonId = child.parse().unwrap();
    let key = app.store.flags(id).unwrap()[0].flag.key();
    let kits_key = app.store.flags(kit.parse().unwrap()).unwrap()[0].flag.key();
    assert_ne!(key, kits_key);
    app.store
        .put_agency(&Agency {
            id: AgencyId::parse("north-school").unwrap(),
            name: "North School".into(),
            kind: AgencyKind::Education,
        })
        .unwrap();
    let teacher = app.user("teacher", "north-school", Role::Practitioner);
    let auditor = app.user("auditor", "north-hospital", Role::Auditor);
    let nurse = app.user("nurse", "north-hospital", Role::Practitioner);
    let reason = (
        "reason",
        "Seen in the emergency department and photographed.",
    );

    // Not involved: sent to break glass, not let act. An auditor reads no records. An agency's
    // system is not a person who has seen the concern.
    let outsider = act(
        &app,
        &child,
        &[("flag", &key), ("action", "acknowledge"), reason],
        &teacher,
    )
    .await;
    assert!(
        location(&outsider).ends_with("/break-glass"),
        "{}",
        outsider.status
    );
    let auditing = act(
        &app,
        &child,
        &[("flag", &key), ("action", "acknowledge"), reason],
        &auditor,
    )
    .await;
    assert_eq!(auditing.status, StatusCode::FORBIDDEN);
    let system = act(
        &app,
        &child,
        &[("flag", &key), ("action", "acknowledge"), reason],
        &app.hospital,
    )
    .await;
    assert_eq!(system.status, StatusCode::FORBIDDEN);
    // Another child's concern, through this child's address: not found here.
    let crossed = act(
        &app,
        &child,
        &[("flag", &kits_key), ("action", "acknowledge"), reason],
        &nurse,
    )
    .await;
    assert_eq!(crossed.status, StatusCode::NOT_FOUND);
    assert!(
        crossed.content_type.starts_with("text/html"),
        "a page, not JSON"
    );
    assert!(app.store.flag_actions(id).unwrap().is_empty());
    assert!(
        app.store
            .flag_actions(kit.parse().unwrap())
            .unwrap()
            .is_empty()
    );
    // Whoever may act sees the way to, beside the concern.
    let page = app.get_as(&format!("/persons/{child}"), &nurse).await;
    assert!(page.text.contains("Acknowledge or assign"));
}
