//! Sign-in, sessions, CSRF and security headers, through the real router.

use axum::http::{StatusCode, header};
use safeguard_core::access::Role;

use crate::helpers::{Auth, PASSWORD, spawn_app};

fn set_cookie(r: &crate::helpers::TestResponse, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_session_cookie_and_signing_out_ends_it() {
    // Arrange
    let app = spawn_app();
    app.user("sw1", "north-hospital", Role::Practitioner);
    let form = app.get_as("/sign-in", &Auth::Anonymous).await;
    let csrf_cookie = set_cookie(&form, "safeguard_sign_in").expect("a sign-in CSRF cookie");
    let csrf = cookie_value(&csrf_cookie);
    assert!(form.text.contains(&csrf), "the form carries the same token");

    // Act
    let request = axum::http::Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("safeguard_sign_in={csrf}"))
        .body(axum::body::Body::from(format!(
            "csrf={csrf}&user=sw1&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let signed_in = app.request(request).await;

    // Assert
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    let session_cookie = set_cookie(&signed_in, "safeguard_session").expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"));
    assert!(session_cookie.contains("SameSite=Strict"));
    assert!(!session_cookie.contains("Secure"), "not over plain HTTP");
    let token = cookie_value(&session_cookie);
    let session = app.store.session(&token).unwrap().expect("a live session");
    let auth = Auth::Session {
        token: token.clone(),
        csrf: session.csrf_token.clone(),
    };
    assert_eq!(app.get_as("/", &auth).await.status, StatusCode::OK);

    let without_csrf = app
        .post_as(
            "/sign-out",
            "application/x-www-form-urlencoded",
            "",
            &Auth::Session {
                token: token.clone(),
                csrf: "wrong".into(),
            },
        )
        .await;
    assert_eq!(
        without_csrf.status,
        StatusCode::FORBIDDEN,
        "a form without the session's CSRF token is refused"
    );
    let form_request = axum::http::Request::post("/sign-out")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("safeguard_session={token}"))
        .body(axum::body::Body::from(format!(
            "csrf={}",
            session.csrf_token
        )))
        .unwrap();
    let signed_out = app.request(form_request).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert!(
        app.store.session(&token).unwrap().is_none(),
        "the session ended on the server"
    );
    let after = app.get_as("/", &auth).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "back to sign-in");
}

#[tokio::test]
async fn a_sign_in_without_its_csrf_cookie_is_refused() {
    let app = spawn_app();
    app.user("sw1", "north-hospital", Role::Practitioner);
    let r = app
        .post_as(
            "/sign-in",
            "application/x-www-form-urlencoded",
            format!("csrf=abc&user=sw1&password={PASSWORD}"),
            &Auth::Anonymous,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn api_writes_with_a_session_need_the_csrf_header() {
    let app = spawn_app();
    let Auth::Session { token, csrf } = app.user("sw1", "north-hospital", Role::Practitioner)
    else {
        panic!()
    };
    let body = crate::helpers::entry("e1", "2007-01-01").to_string();
    let forged = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            body.clone(),
            &Auth::Session {
                token: token.clone(),
                csrf: "forged".into(),
            },
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let genuine = app
        .post_as(
            "/api/v1/entries",
            "application/json",
            body,
            &Auth::Session { token, csrf },
        )
        .await;
    assert_eq!(genuine.status, StatusCode::CREATED, "{}", genuine.text);
}

#[tokio::test]
async fn a_guessed_account_waits_from_the_guessing_address_only_and_tells_nothing() {
    let app = spawn_app();
    app.user("sw1", "north-police", Role::Practitioner);
    let form = app.get_as("/sign-in", &Auth::Anonymous).await;
    let csrf = cookie_value(&set_cookie(&form, "safeguard_sign_in").unwrap());
    let attempt = |user: &'static str, password: &'static str, from: [u8; 4]| {
        let app = &app;
        let csrf = csrf.clone();
        async move {
            let mut request = axum::http::Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("safeguard_sign_in={csrf}"))
                .body(axum::body::Body::from(format!(
                    "csrf={csrf}&user={user}&password={password}"
                )))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((from, 40000)),
            ));
            app.request(request).await
        }
    };
    let guesser = [10, 0, 0, 66];
    let mut refusals = Vec::new();
    for _ in 0..safeguard_web::throttle::FREE_FAILURES_PER_ACCOUNT {
        let wrong = attempt("sw1", "wrong", guesser).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let unknown = attempt("nobody", "wrong", guesser).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        refusals.push((wrong.text, unknown.text));
    }
    for (wrong, unknown) in &refusals {
        // The form keeps the name typed, and nothing else differs.
        assert!(wrong.contains(r#"value="sw1""#));
        assert_eq!(
            wrong.replace("sw1", "NAME"),
            unknown.replace("nobody", "NAME"),
            "a wrong password reads as an unknown name"
        );
    }
    for name in ["sw1", "nobody"] {
        let waiting = attempt(name, "wrong", guesser).await;
        assert_eq!(waiting.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert_eq!(waiting.headers[header::RETRY_AFTER], "1", "{name}");
    }
    let real_user = attempt("sw1", PASSWORD, [10, 0, 0, 1]).await;
    assert_eq!(
        real_user.status,
        StatusCode::SEE_OTHER,
        "the real user, from their own computer, signs in: {}",
        real_user.text
    );
}

#[tokio::test]
async fn served_over_tls_every_response_asks_for_tls_next_time() {
    let app = crate::helpers::spawn_app_with(safeguard_web::Config {
        secure_cookies: true,
        ..safeguard_web::Config::default()
    });
    let r = app.get("/healthz").await;
    assert!(
        r.headers[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age="),
    );
    assert!(
        !spawn_app()
            .get("/healthz")
            .await
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY),
        "not over plain HTTP"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app();
    for uri in ["/healthz", "/sign-in", "/api/v1/persons?q=x", "/nowhere"] {
        let r = app.get(uri).await;
        let csp = r
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .expect("a CSP")
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{uri}");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(r.headers[header::REFERRER_POLICY], "no-referrer");
    }
}

#[tokio::test]
async fn a_refused_page_is_a_page_and_a_refused_api_call_is_json() {
    let app = spawn_app();
    let auditor = app.user("auditor", "north-police", Role::Auditor);
    let search = app.get_as("/?q=sam", &auditor).await;
    assert_eq!(
        search.status,
        StatusCode::SEE_OTHER,
        "sent to their own page"
    );
    assert_eq!(search.headers[header::LOCATION], "/audit");
    assert!(!search.text.contains("sam"), "and nothing searched");
    let landing = app.get_as("/audit", &auditor).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.text.contains("Both chains verify"));
    let page = app.get_as("/team", &auditor).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(page.text.contains("You cannot open this page"));
    let api = app.get_as("/api/v1/persons?q=sam", &auditor).await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.json()["error"], "forbidden");
    let anonymous = app.get_as("/", &Auth::Anonymous).await;
    assert_eq!(
        anonymous.status,
        StatusCode::SEE_OTHER,
        "people are sent to sign in"
    );
}

#[tokio::test]
async fn the_break_glass_form_asks_again_for_a_real_reason_then_opens_the_record() {
    let app = spawn_app();
    app.post_entries(&crate::helpers::entry("e1", "2007-01-01"))
        .await;
    let child = app.find_person("sam").await;
    let outsider = app.user("outsider", "north-police", Role::Practitioner);
    let Auth::Session { csrf, .. } = &outsider else {
        panic!()
    };

    let page = app.get_as(&format!("/persons/{child}"), &outsider).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers[header::LOCATION],
        format!("/persons/{child}/break-glass")
    );

    let form = |reason: &str| format!("csrf={csrf}&reason={}", reason.replace(' ', "+"));
    let short = app
        .post_as(
            &format!("/persons/{child}/break-glass"),
            "application/x-www-form-urlencoded",
            form("because"),
            &outsider,
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text.contains("There is a problem"), "{}", short.text);

    let granted = app
        .post_as(
            &format!("/persons/{child}/break-glass"),
            "application/x-www-form-urlencoded",
            form("Officer attending a call at the home tonight"),
            &outsider,
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_as(&format!("/persons/{child}"), &outsider)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn served_over_tls_the_session_cookie_is_secure() {
    let app = crate::helpers::spawn_app_with(safeguard_web::Config {
        secure_cookies: true,
        ..Default::default()
    });
    app.user("sw1", "north-hospital", Role::Practitioner);
    let form = app.get_as("/sign-in", &Auth::Anonymous).await;
    let csrf = cookie_value(&set_cookie(&form, "safeguard_sign_in").unwrap());
    assert!(
        set_cookie(&form, "safeguard_sign_in")
            .unwrap()
            .contains("Secure")
    );
    let request = axum::http::Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("safeguard_sign_in={csrf}"))
        .body(axum::body::Body::from(format!(
            "csrf={csrf}&user=sw1&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let signed_in = app.request(request).await;
    assert!(
        set_cookie(&signed_in, "safeguard_session")
            .unwrap()
            .contains("; Secure")
    );
}
