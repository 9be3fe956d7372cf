//! /authorize rejections: a page when the client or redirect URI cannot be trusted,
//! otherwise an error redirect carrying state and iss (RFC 6749 §4.1.2.1, RFC 9207).

mod common;

use common::*;

/// Expects an HTML error page (never a redirect) with the given status.
async fn expect_page(server: &TestServer, url: &str, status: u16) -> String {
    let browser = Browser::new(server);
    match browser.get(url).await {
        Outcome::Page {
            status: got,
            headers,
            html,
        } => {
            assert_eq!(got.as_u16(), status, "{html}");
            assert!(headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            html
        }
        Outcome::Redirect(to) => panic!("must not redirect to {to}"),
    }
}

/// Expects an error redirect to the client with `error`, state and iss.
async fn expect_redirect_error(server: &TestServer, url: &str, error: &str) {
    let back = Browser::new(server).get(url).await.redirect();
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some(error), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&back, "iss").as_deref(), Some(server.base.as_str()));
    assert!(param(&back, "code").is_none());
}

async fn server() -> TestServer {
    let server = TestServer::start().await;
    server.add_client("app", false, false).await;
    server
}

#[tokio::test]
async fn untrusted_client_or_redirect_uri_gets_a_page() {
    let server = server().await;
    let good = authorize_url(&server, "app", "");
    // Unknown client.
    expect_page(
        &server,
        &good.replace("client_id=app", "client_id=nope"),
        400,
    )
    .await;
    // A client_id no registration could have (NUL, spaces).
    expect_page(
        &server,
        &good.replace("client_id=app", "client_id=a%00b"),
        400,
    )
    .await;
    expect_page(
        &server,
        &good.replace("client_id=app", "client_id=a%20b"),
        400,
    )
    .await;
    // Missing client_id.
    expect_page(&server, &good.replace("client_id=app&", ""), 400).await;
    // Missing redirect_uri.
    let without = good.replace(&format!("redirect_uri={}&", urlencode(REDIRECT)), "");
    expect_page(&server, &without, 400).await;
    // Unregistered, and almost-matching, redirect URIs.
    for bad in [
        "https://evil.example/callback",
        "http://127.0.0.1:9999/callback/",
        "http://127.0.0.1:9999/callback?x=1",
    ] {
        let url = good.replace(&urlencode(REDIRECT), &urlencode(bad));
        let html = expect_page(&server, &url, 400).await;
        assert!(html.contains("not registered"), "{html}");
    }
    // A repeated redirect_uri cannot be trusted either.
    expect_page(
        &server,
        &format!("{good}&redirect_uri={}", urlencode(REDIRECT)),
        400,
    )
    .await;
}

#[tokio::test]
async fn other_errors_redirect_with_state_and_iss() {
    let server = server().await;
    let good = authorize_url(&server, "app", "");
    let cases = [
        (
            good.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (good.replace("response_type=code&", ""), "invalid_request"),
        (
            good.replace("scope=openid%20email%20profile", "scope=email"),
            "invalid_scope",
        ),
        (
            good.replace(&format!("&code_challenge={CHALLENGE}"), ""),
            "invalid_request",
        ),
        (
            good.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (
            good.replace("&code_challenge_method=S256", ""),
            "invalid_request",
        ),
        (good.replace(CHALLENGE, "too-short"), "invalid_request"),
        (format!("{good}&scope=openid"), "invalid_request"),
        (
            format!("{good}&request=eyJhbGciOiJub25lIn0.e30."),
            "request_not_supported",
        ),
        (
            format!("{good}&request_uri=https%3A%2F%2Fx"),
            "request_uri_not_supported",
        ),
        (format!("{good}&prompt=select_account"), "invalid_request"),
        (format!("{good}&response_mode=fragment"), "invalid_request"),
        (format!("{good}&max_age=abc"), "invalid_request"),
        (format!("{good}&login_hint=a%00b"), "invalid_request"),
        (
            format!("{good}&nonce={}", "n".repeat(3000)),
            "invalid_request",
        ),
        (format!("{good}&prompt=none"), "login_required"),
    ];
    for (url, error) in cases {
        expect_redirect_error(&server, &url, error).await;
    }
}

#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    let server = server().await;
    server.add_user("alice", None, None).await;
    server.add_client("other", false, false).await;
    let browser = Browser::new(&server);
    // Sign in through the skip-less client and consent there only.
    browser
        .authorize(&authorize_url(&server, "app", ""), "alice")
        .await;
    let back = browser
        .get(&authorize_url(&server, "other", "&prompt=none"))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("consent_required"));
    // With consent given, prompt=none is silent.
    let back = browser
        .get(&authorize_url(&server, "app", "&prompt=none"))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
}

#[tokio::test]
async fn prompt_login_and_max_age_force_a_new_login() {
    let server = server().await;
    server.add_user("alice", None, None).await;
    let browser = Browser::new(&server);
    browser
        .authorize(&authorize_url(&server, "app", ""), "alice")
        .await;
    let (_, page) = browser
        .get(&authorize_url(&server, "app", "&prompt=login"))
        .await
        .page();
    assert!(page.contains("action=\"/login\""));
    server.clock.advance(120);
    let (_, page) = browser
        .get(&authorize_url(&server, "app", "&max_age=60"))
        .await
        .page();
    assert!(page.contains("action=\"/login\""));
    let back = browser.login(&page, "alice", PASSWORD).await.redirect();
    assert!(param(&back, "code").is_some());
}

#[tokio::test]
async fn client_without_the_code_grant_is_unauthorized() {
    let server = TestServer::start().await;
    let client = gatehouse::store::clients::Client {
        client_id: "machine".into(),
        name: "machine".into(),
        secret_hash: Some(gatehouse::secrets::hash_token(SECRET)),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["client_credentials".into()],
        allowed_scopes: vec![],
        backchannel_logout_uri: None,
        token_endpoint_auth_method: gatehouse::auth_method::AuthMethod::ClientSecretBasic,
        id_token_signed_response_alg: "ES256".into(),
        skip_consent: true,
        created_at: 0,
        updated_at: 0,
        allowed_group_ids: vec![],
    };
    gatehouse::store::clients::create(&server.state.db, &client)
        .await
        .unwrap();
    expect_redirect_error(
        &server,
        &authorize_url(&server, "machine", ""),
        "unauthorized_client",
    )
    .await;
}

#[tokio::test]
async fn post_without_a_form_body_is_refused() {
    let server = server().await;
    let response = reqwest::Client::new()
        .post(server.url("/authorize"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}
