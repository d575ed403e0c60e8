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
    assert!(
        r.text
            .contains(r#"<h1 class="govuk-heading-l app-wrap">Sam Example</h1>"#),
        "{}",
        r.text
    );
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

/// The child's page opens on an overview: age, where the case stands, the household with the
/// adult nobody has checked, the concerns with their evidence named, and the timeline drawn.
/// A bad filter is an error summary on the same page, with the record still beneath it.
#[tokio::test]
async fn a_childs_page_opens_on_an_overview_with_a_timeline() {
    let app = spawn_app();
    let mut injury = entry("e1", "2006-12-11T14:30");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "left ear", "injury_type": "bruise"});
    injury["summary"] = "Bruise to the left ear".into();
    app.post_entries(&json!([injury, entry("e2", "2007-01-05")]))
        .await;
    let child = app.find_person("sam").await;
    app.user(
        "worker",
        "north-police",
        safeguard_core::access::Role::Practitioner,
    );
    app.user(
        "second",
        "north-hospital",
        safeguard_core::access::Role::Practitioner,
    );
    let id: safeguard_core::PersonId = child.parse().unwrap();
    app.store.allocate(id, "second", false).unwrap();
    app.store.allocate(id, "worker", true).unwrap();

    let r = app.get(&format!("/persons/{child}")).await;

    assert_eq!(r.status, StatusCode::OK);
    let page = &r.text;
    let lead = page
        .find("<li>worker, ")
        .expect("the lead professional among the workers");
    assert!(
        page[lead..].starts_with("<li>worker, ") && page[lead..lead + 80].contains("(lead)"),
        "{}",
        &page[lead..lead + 80]
    );
    let other = page
        .find("<li>second, ")
        .expect("the other allocated worker");
    assert!(lead < other, "the lead first");
    // Born 14 June 2006: the age today, in whole years.
    let today = chrono::Local::now().date_naive();
    use chrono::Datelike;
    let years = today.year() - 2006 - i32::from((today.month(), today.day()) < (6, 14));
    assert!(
        page.contains(&format!(">{years} years<")),
        "the age now, {years} years: {page}"
    );
    assert!(
        page.contains("6 months at the latest entry, 5 January 2007"),
        "and at the latest entry: {page}"
    );
    assert!(page.contains("Not on a plan"));
    assert!(page.contains("Lives at <strong>1 Example Road"), "{page}");
    assert!(page.contains("Daniel Other"));
    assert!(
        page.contains("Identity not checked"),
        "the adult seen with the child, never checked"
    );
    assert!(
        page.contains("Injury observed, 11 December 2006"),
        "a concern's evidence is named by kind and date"
    );
    assert_eq!(
        page.matches("app-timeline__mark--injury").count(),
        2,
        "one mark, one key"
    );
    assert!(page.contains(r#"<svg class="app-timeline""#));
    assert!(
        page.contains("2 entries from 1 agency"),
        "the timeline in words"
    );

    let bad = app.get(&format!("/persons/{child}?from=2007-13-45")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.content_type.starts_with("text/html"));
    assert!(bad.text.contains("govuk-error-summary"));
    assert!(
        bad.text.contains(r##"href="#from""##),
        "the summary links to the field"
    );
    assert!(bad.text.contains("<title>Error: "));
    assert!(
        bad.text.contains("11 Dec 2006 14:30"),
        "the record is still shown"
    );

    // The filter form's dates come day, month and year apart, as people write them.
    let later = app
        .get(&format!(
            "/persons/{child}?from-day=1&from-month=1&from-year=2007"
        ))
        .await;
    assert_eq!(later.status, StatusCode::OK);
    assert!(
        !later.text.contains("11 Dec 2006 14:30"),
        "the entry before 1 January 2007 is filtered out"
    );
    assert!(
        later.text.contains(
            r#"id="from-year" name="from-year" type="text" inputmode="numeric" value="2007""#
        ),
        "what was typed is kept"
    );
    let no_day = app
        .get(&format!(
            "/persons/{child}?from-day=30&from-month=2&from-year=2007"
        ))
        .await;
    assert_eq!(no_day.status, StatusCode::BAD_REQUEST);
    assert!(
        no_day
            .text
            .contains("From must be a real date, like 27 3 2007")
    );
    assert!(no_day.text.contains(r##"href="#from""##));
    // A whole date in a link fills the three boxes.
    let linked = app.get(&format!("/persons/{child}?to=2007-03-05")).await;
    assert!(
        linked
            .text
            .contains(r#"id="to" name="to-day" type="text" inputmode="numeric" value="5""#)
    );
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
}

/// GOV.UK Frontend is served from the binary: the stylesheet, its JavaScript and the module
/// that starts it, cacheable, with nothing fetched from elsewhere.
#[tokio::test]
async fn pages_use_gov_uk_frontend_served_from_the_binary() {
    let app = spawn_app();
    let page = app.get("/sign-in").await;
    for asset in [
        "/assets/safeguard.css",
        "/assets/app.mjs",
        "/assets/favicon.svg",
    ] {
        assert!(page.text.contains(asset), "the page links {asset}");
    }
    assert!(page.text.contains(r#"class="govuk-template""#));
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "nothing is loaded from another site"
    );
    let css = app.get("/assets/safeguard.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.content_type.starts_with("text/css"));
    assert!(
        css.text.contains(".govuk-header"),
        "GOV.UK Frontend's styles"
    );
    assert!(
        css.text.contains(".app-table--stacked"),
        "and Safeguard's own"
    );
    assert!(
        !css.text.contains("GDS Transport"),
        "the GOV.UK-only typeface is not used off GOV.UK"
    );
    let cache_control = |r: &crate::helpers::TestResponse| {
        r.headers
            .get(axum::http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        cache_control(&css).contains("max-age"),
        "{}",
        cache_control(&css)
    );
    let js = app.get("/assets/govuk-frontend.min.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.content_type.starts_with("text/javascript"));
    assert!(js.text.contains("initAll"));
    let start = app.get("/assets/app.mjs").await;
    assert!(start.text.contains("import { initAll }"));
    assert_eq!(cache_control(&page), "no-store", "pages are never cached");
}

/// Every page route answers errors as pages with the signed-in header and a way on; the API
/// keeps its JSON.
#[tokio::test]
async fn errors_on_pages_are_pages_and_on_the_api_json() {
    use safeguard_core::access::Role;
    let app = spawn_app();
    let worker = app.user("worker", "north-police", Role::Practitioner);
    let unknown = app.get_as("/no-such-page", &worker).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.content_type.starts_with("text/html"),
        "{}",
        unknown.content_type
    );
    assert!(unknown.text.contains("Page not found"));
    assert!(unknown.text.contains("Sign out"), "the signed-in header");
    assert!(unknown.text.contains(r#"href="/""#), "a way on");
    let nobody = app
        .get_as("/persons/00000000-0000-4000-8000-000000000001", &app.lead)
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert!(nobody.text.contains("Page not found"), "{}", nobody.text);
    let malformed = app.get_as("/persons/not-an-id", &worker).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.content_type.starts_with("text/html"));
    assert!(
        malformed
            .text
            .contains("There is a problem with the web address")
    );
    let refused = app.get_as("/evaluation-failures", &worker).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.content_type.starts_with("text/html"));
    assert!(refused.text.contains("You cannot open this page"));
    assert!(refused.text.contains("Sign out"), "the signed-in header");
    let api = app.get_as("/api/v1/no-such-thing", &worker).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.content_type.starts_with("application/json"));
    let anonymous = app
        .get_as("/no-such-page", &crate::helpers::Auth::Anonymous)
        .await;
    assert!(anonymous.content_type.starts_with("text/html"));
    assert!(!anonymous.text.contains("Sign out"));
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

/// A team manager sees their workers' children and the children their agency holds with
/// nobody allocated, with the concerns open on them; nobody else opens the page.
#[tokio::test]
async fn a_team_manager_sees_the_teams_caseload() {
    use safeguard_core::access::Role;
    let app = spawn_app();
    let mut injury = entry("e1", "2006-12-11T14:30");
    injury["details"] =
        json!({"kind": "injury_observed", "body_site": "left ear", "injury_type": "bruise"});
    app.post_entries(&json!([injury])).await;
    let child: safeguard_core::PersonId = app.find_person("sam").await.parse().unwrap();
    // The hospital recorded first, so it holds the child; nobody there is allocated.
    let hospital_manager = app.user("hm", "north-hospital", Role::TeamManager);
    let held = app.get_as("/team", &hospital_manager).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.text);
    let unallocated = held.text.find("Children with nobody allocated").unwrap();
    assert!(
        held.text[unallocated..].contains("Sam Example"),
        "{}",
        held.text
    );
    // The police allocate a worker: the child is theirs, under the worker, not unallocated.
    let police_manager = app.user("pm", "north-police", Role::TeamManager);
    let worker = app.user("pw", "north-police", Role::Practitioner);
    app.store.allocate(child, "pw", true).unwrap();
    let team = app.get_as("/team", &police_manager).await;
    assert_eq!(team.status, StatusCode::OK);
    let unallocated = team.text.find("Children with nobody allocated").unwrap();
    assert!(!team.text[unallocated..].contains("Sam Example"));
    assert!(team.text.contains("Children allocated to each worker"));
    assert!(
        team.text.contains("pw: 1"),
        "the chart in words: {}",
        team.text
    );
    let high = app
        .store
        .flags(child)
        .unwrap()
        .iter()
        .filter(|f| f.flag.severity == safeguard_core::rules::Severity::High)
        .count();
    assert!(high > 0, "the baby's injury is a high concern");
    assert!(
        team.text.contains(&format!("High: {high}")),
        "every high concern on the child is counted: {}",
        team.text
    );
    let refused = app.get_as("/team", &worker).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let log = app.store.access_log(&child.to_string()).unwrap();
    assert!(
        log.iter().any(|e| e.action == "read_caseload"),
        "the manager's view is in the child's access log"
    );
}
