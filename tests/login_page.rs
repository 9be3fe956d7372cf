//! The login page as a browser meets it: CSRF, generic failures, equal cost for
//! unknown users, cookies and security headers.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

async fn setup() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    (server, browser)
}

async fn login_page(server: &TestServer, browser: &Browser) -> String {
    let (status, html) = browser
        .get(&authorize_url(server, "app", "&login_hint=alice"))
        .await
        .page();
    assert_eq!(status, 200);
    html
}

#[tokio::test]
async fn page_has_the_right_fields_and_headers() {
    let (server, browser) = setup().await;
    let response = browser
        .http
        .get(authorize_url(&server, "app", "&login_hint=alice"))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let response = browser
        .http
        .get(server.url(&location))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Scripts only from our own files: the passkey script, no inline code.
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csrf_cookie = h["set-cookie"].to_str().unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));
    assert!(
        !csrf_cookie.contains("Secure"),
        "http issuer: no Secure flag"
    );

    let html = response.text().await.unwrap();
    let form = Form::parse(&html);
    assert!(form.get("csrf").is_some_and(|v| v.len() == 43));
    assert!(form.get("request_id").is_some());
    assert_eq!(form.get("username"), Some("alice"), "login_hint pre-fills");
    // Passkeys in the username field's autofill (WebAuthn conditional mediation).
    assert!(html.contains("autocomplete=\"username webauthn\""));
    assert!(html.contains("autocomplete=\"current-password\""));
    assert!(html.contains("app app"), "the client's name is shown");

    let css = reqwest::get(server.url("/static/gatehouse.css"))
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let script = reqwest::get(server.url("/static/passkey.js"))
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("navigator.credentials.get"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let (server, browser) = setup().await;
    let page = login_page(&server, &browser).await;
    let (status, wrong) = browser
        .login(&page, "alice", "not the password")
        .await
        .page();
    assert_eq!(status, 401);
    assert!(wrong.contains("Incorrect username or password."));
    let (status, unknown) = browser
        .login(&wrong, "mallory", "whatever-pass")
        .await
        .page();
    assert_eq!(status, 401);
    assert!(unknown.contains("Incorrect username or password."));
    // The form comes back ready for another try, and the right password then works.
    let back = browser.login(&unknown, "alice", PASSWORD).await.redirect();
    assert!(param(&back, "code").is_some());
}

#[tokio::test]
async fn unknown_user_costs_a_password_hash_too() {
    let (server, browser) = setup().await;
    let page = login_page(&server, &browser).await;
    // Warm-up: the dummy hash is computed once.
    browser.login(&page, "nobody", "x-password").await;
    let time = |user: &'static str| {
        let browser = &browser;
        let page = page.clone();
        async move {
            let mut samples = Vec::new();
            for _ in 0..3 {
                let start = Instant::now();
                let (status, _) = browser.login(&page, user, "wrong-password").await.page();
                assert_eq!(status, 401);
                samples.push(start.elapsed());
            }
            samples.sort();
            samples[1]
        }
    };
    let wrong_password = time("alice").await;
    let unknown_user = time("nobody").await;
    // Without the dummy hash an unknown user answers ~20x faster; allow wide noise.
    assert!(
        unknown_user * 3 > wrong_password,
        "unknown user {unknown_user:?} vs wrong password {wrong_password:?}"
    );
    assert!(wrong_password > Duration::from_millis(1));
}

#[tokio::test]
async fn forms_without_a_matching_csrf_token_are_refused() {
    let (server, browser) = setup().await;
    let page = login_page(&server, &browser).await;
    let mut form = Form::parse(&page);
    form.set("username", "alice").set("password", PASSWORD);
    form.set("csrf", "forged-token-forged-token-forged-token-1234");
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 403);

    // A browser without the cookie (a cross-site post) is refused too.
    let fresh = Browser::new(&server);
    let form = {
        let mut f = Form::parse(&page);
        f.set("username", "alice").set("password", PASSWORD);
        f
    };
    let (status, _) = fresh.submit(&form).await.page();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn session_cookie_is_http_only_and_lax() {
    let (server, browser) = setup().await;
    let page = login_page(&server, &browser).await;
    let mut form = Form::parse(&page);
    form.set("username", "alice").set("password", PASSWORD);
    let response = browser
        .http
        .post(server.url("/login"))
        .form(&form.fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("gatehouse_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"));
}

#[tokio::test]
async fn https_issuer_makes_cookies_secure() {
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |c| c.issuer = "https://id.example.com".into()).await;
    server.add_client("app", false, true).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(authorize_url(&server, "app", ""))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    // The cookie binding the request to this browser.
    let binding = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        binding.starts_with("__Host-gatehouse_browser="),
        "{binding}"
    );
    assert!(
        binding.contains("; HttpOnly") && binding.contains("; Secure"),
        "{binding}"
    );
    let pair = binding.split(';').next().unwrap().to_string();
    let response = reqwest::Client::new()
        .get(server.url(&location))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn expired_or_unknown_request_shows_a_page() {
    let (server, browser) = setup().await;
    let page = login_page(&server, &browser).await;
    server.clock.advance(1801);
    let (status, html) = browser.login(&page, "alice", PASSWORD).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("expired"));
    for id in [
        "unknown",
        "%00",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, html) = browser
            .get(&server.url(&format!("/login?request_id={id}")))
            .await
            .page();
        assert_eq!(status, 400);
        assert!(html.contains("expired"));
    }
}
