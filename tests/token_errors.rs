//! /token rejections (RFC 6749 §5.2) with their exact status and error code.

mod common;

use common::*;
use reqwest::StatusCode;

async fn setup() -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    server.add_client("app", false, true).await;
    server.add_client("other", false, true).await;
    server.add_client("spa", true, true).await;
    let browser = Browser::new(&server);
    (server, browser)
}

fn assert_error(status: StatusCode, body: &serde_json::Value, want_status: u16, error: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
}

/// Client credentials, form, expected status, expected error.
type Case<'a> = (
    Option<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

fn code_form<'a>(code: &'a str, redirect: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn code_reuse_is_refused_and_revokes_the_first_tokens() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let (status, first) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&server, access).await.0, 200);

    let (status, body) = exchange(&server, "app", &code).await;
    assert_error(status, &body, 400, "invalid_grant");
    let (status, challenge, _) = userinfo(&server, access).await;
    assert_eq!(status, 401, "the grant of a replayed code is revoked");
    assert!(challenge.unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn code_bindings_are_enforced() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let wrong_verifier = "A".repeat(43);
    let cases: Vec<Case> = vec![
        // Wrong PKCE verifier, malformed verifier, missing verifier.
        (
            Some(("app", SECRET)),
            code_form(&code, REDIRECT, &wrong_verifier),
            400,
            "invalid_grant",
        ),
        (
            Some(("app", SECRET)),
            code_form(&code, REDIRECT, "short"),
            400,
            "invalid_grant",
        ),
        (
            Some(("app", SECRET)),
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            400,
            "invalid_request",
        ),
        // Another redirect_uri than the authorization request's.
        (
            Some(("app", SECRET)),
            code_form(&code, "http://127.0.0.1:9999/other", VERIFIER),
            400,
            "invalid_grant",
        ),
        // Another client.
        (
            Some(("other", SECRET)),
            code_form(&code, REDIRECT, VERIFIER),
            400,
            "invalid_grant",
        ),
        // A code that never existed.
        (
            Some(("app", SECRET)),
            code_form("bogus", REDIRECT, VERIFIER),
            400,
            "invalid_grant",
        ),
        // Missing code.
        (
            Some(("app", SECRET)),
            vec![
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            400,
            "invalid_request",
        ),
    ];
    for (basic, form, want_status, error) in cases {
        let (status, headers, body) = token_request(&server, basic, &form).await;
        assert_error(status, &body, want_status, error);
        assert_eq!(headers["cache-control"], "no-store");
    }
    // None of the failures consumed the code.
    let (status, _) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "app", "alice").await;
    server.clock.advance(61);
    let (status, body) = exchange(&server, "app", &code).await;
    assert_error(status, &body, 400, "invalid_grant");
}

#[tokio::test]
async fn client_authentication_failures() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let form = code_form(&code, REDIRECT, VERIFIER);

    // Wrong secret over Basic: 401 with a Basic challenge.
    let (status, headers, body) =
        token_request(&server, Some(("app", "wrong-secret")), &form).await;
    assert_error(status, &body, 401, "invalid_client");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));

    // Unknown client over Basic.
    let (status, _, body) = token_request(&server, Some(("ghost", SECRET)), &form).await;
    assert_error(status, &body, 401, "invalid_client");

    // Wrong secret in the body: 401, no Basic challenge.
    let mut post = form.clone();
    post.extend([("client_id", "app"), ("client_secret", "wrong-secret")]);
    let (status, headers, body) = token_request(&server, None, &post).await;
    assert_error(status, &body, 401, "invalid_client");
    assert!(headers.get("www-authenticate").is_none());

    // A confidential client that presents no secret.
    let mut no_secret = form.clone();
    no_secret.push(("client_id", "app"));
    let (status, _, body) = token_request(&server, None, &no_secret).await;
    assert_error(status, &body, 401, "invalid_client");

    // No client at all.
    let (status, _, body) = token_request(&server, None, &form).await;
    assert_error(status, &body, 401, "invalid_client");

    // A public client that presents a secret.
    let mut public = form.clone();
    public.extend([("client_id", "spa"), ("client_secret", "anything")]);
    let (status, _, body) = token_request(&server, None, &public).await;
    assert_error(status, &body, 401, "invalid_client");

    // A client_id no registration could have.
    let mut nul = form.clone();
    nul.push(("client_id", "a\0b"));
    let (status, _, body) = token_request(&server, None, &nul).await;
    assert_error(status, &body, 400, "invalid_request");

    // Two methods at once.
    let mut both = form.clone();
    both.push(("client_secret", SECRET));
    let (status, _, body) = token_request(&server, Some(("app", SECRET)), &both).await;
    assert_error(status, &body, 400, "invalid_request");

    // The code survived all of that.
    let (status, _) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn grant_type_and_body_errors() {
    let (server, _) = setup().await;
    let basic = Some(("app", SECRET));
    let (status, _, body) = token_request(&server, basic, &[("code", "x")]).await;
    assert_error(status, &body, 400, "invalid_request");
    let (status, _, body) = token_request(&server, basic, &[("grant_type", "password")]).await;
    assert_error(status, &body, 400, "unsupported_grant_type");
    let (status, _, body) = token_request(
        &server,
        basic,
        &[
            ("grant_type", "authorization_code"),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_error(status, &body, 400, "invalid_request");

    let response = reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth("app", Some(SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_error(status, &body, 400, "invalid_request");
}

#[tokio::test]
async fn public_client_exchanges_with_pkce_alone() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "spa", "alice").await;
    let mut form = code_form(&code, REDIRECT, VERIFIER);
    form.push(("client_id", "spa"));
    let (status, _, body) = token_request(&server, None, &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
}
