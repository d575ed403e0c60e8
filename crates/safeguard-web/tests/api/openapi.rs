//! The OpenAPI document: served, and covering every API route.

use axum::http::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_document_describes_every_api_route() {
    let app = spawn_app();
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/api/v1/alerts",
            "/api/v1/entries",
            "/api/v1/evaluation-failures",
            "/api/v1/involvements",
            "/api/v1/link-decisions",
            "/api/v1/link-reviews",
            "/api/v1/persons",
            "/api/v1/persons/{id}",
            "/api/v1/persons/{id}/access-log",
            "/api/v1/persons/{id}/break-glass",
            "/api/v1/persons/{id}/chronology",
            "/api/v1/persons/{id}/flags",
            "/api/v1/persons/{id}/household",
            "/api/v1/persons/{id}/involvements",
            "/api/v1/persons/{id}/status",
            "/fhir/Bundle",
            "/fhir/Patient/{id}/$everything",
            "/healthz",
        ]
    );
    for schema in [
        "Entry",
        "EntryDetails",
        "Person",
        "Household",
        "ErrorBody",
        "ChronologyResponse",
        "LinkReview",
        "LinkDecision",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} is missing"
        );
    }
}
