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
