//! HTML pages: search and a child's chronology.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{entry, spawn_app};

#[tokio::test]
async fn a_childs_page_shows_the_chronology_with_text_escaped() {
    let app = spawn_app();
    let mut e = entry("e1", "2006-12-11T14:30");
    e["summary"] = "Bruise <script>alert(1)</script> to the ear".into();
    app.post_entries(&json!([e, entry("e2", "2007-01-05")]))
        .await;
    let child = app.find_person("sam").await;

    let r = app.get(&format!("/persons/{child}")).await;

    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/html"));
    assert!(r.text.contains("<h1>Sam Example</h1>"), "{}", r.text);
    assert!(r.text.contains("11 Dec 2006 14:30"));
    assert!(
        r.text.contains("14 June 2006"),
        "the date of birth as people write it"
    );
    assert!(r.text.contains("&lt;script&gt;"), "summaries are escaped");
    assert!(!r.text.contains("<script>"));
    let first = r.text.find("11 Dec 2006").unwrap();
    let second = r.text.find("5 Jan 2007").unwrap();
    assert!(first < second, "oldest first");
    assert!(r.text.contains("Daniel Other"), "the other adult is listed");
}

#[tokio::test]
async fn search_lists_matching_persons_with_links() {
    let app = spawn_app();
    app.post_entries(&entry("e1", "2007-01-01")).await;
    let child = app.find_person("sam").await;
    let r = app.get("/?q=sam").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(&format!("href=\"/persons/{child}\"")));
    assert!(r.text.contains("1 person found"));
    let css = app.get("/assets/app.css").await;
    assert!(css.content_type.starts_with("text/css"));
}

/// An administrator sees which children could not be evaluated, and why; a practitioner is
/// refused the page, and the header links to it only for those who may open it.
#[tokio::test]
async fn administrators_see_the_children_whose_rules_could_not_be_evaluated() {
    use safeguard_core::access::Role;
    use safeguard_core::calendar::Calendar;
    use safeguard_core::rules::RuleBook;
    let app = spawn_app();
    let admin = app.user("admin", "north-police", Role::Administrator);
    let worker = app.user("worker", "north-police", Role::Practitioner);
    let empty = app.get_as("/evaluation-failures", &admin).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text.contains("rules and clocks were evaluated"));
    assert!(empty.text.contains("href=\"/evaluation-failures\""));

    let mut discussion = entry("e1", "2007-01-02");
    discussion["details"] = json!({"kind": "strategy_discussion", "section47_decided": true});
    app.post_entries(&json!([discussion])).await;
    let child: safeguard_core::PersonId = app.find_person("sam").await.parse().unwrap();
    let lacking = RuleBook {
        calendar: Calendar::from_csv("date,title\n2006-12-25,Christmas Day\n").unwrap(),
        ..RuleBook::shipped()
    };
    let actor = safeguard_store::Actor::system("test");
    let day = chrono::NaiveDate::from_ymd_opt(2008, 1, 24).unwrap();
    app.store
        .refresh_flags(&actor, child, &lacking, day)
        .unwrap();

    let listed = app.get_as("/evaluation-failures", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.text.contains(&child.to_string()), "{}", listed.text);
    assert!(listed.text.contains("2007"), "the reason names the year");
    assert!(
        !listed.text.contains("Z</td>"),
        "times as people read them, not RFC 3339"
    );

    let refused = app.get_as("/evaluation-failures", &worker).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let elsewhere = app.get_as("/alerts", &worker).await;
    assert!(!elsewhere.text.contains("href=\"/evaluation-failures\""));
}
