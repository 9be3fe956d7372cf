//! Redirect URI matching: exact, except for the port of a loopback IP literal
//! (RFC 8252 §7.3); a mismatch is logged for the operator.

mod common;

use common::*;

/// Registers `app` (confidential, no consent) with the given redirect URIs.
async fn server_with(redirect_uris: &[&str]) -> TestServer {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let mut registration = client("app", false, true, &["authorization_code"]);
    registration.redirect_uris = redirect_uris.iter().map(|u| u.to_string()).collect();
    server.register(&registration).await;
    server
}

fn url_for(server: &TestServer, redirect_uri: &str) -> String {
    authorize_url(server, "app", "").replace(&urlencode(REDIRECT), &urlencode(redirect_uri))
}

async fn exchange_at(server: &TestServer, code: &str, redirect_uri: &str) -> serde_json::Value {
    let (status, _, body) = token_request(
        server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert!(
        status == 200 || body["error"].is_string(),
        "{status} {body}"
    );
    body
}

#[tokio::test]
async fn a_loopback_ip_redirect_uri_takes_any_port() {
    let server = server_with(&["http://127.0.0.1/callback", "http://[::1]/callback"]).await;
    for requested in [
        "http://127.0.0.1:1234/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:50123/callback",
    ] {
        let browser = Browser::new(&server);
        let back = browser
            .authorize(&url_for(&server, requested), "alice")
            .await;
        assert!(
            back.as_str().starts_with(requested),
            "{requested}: sent to {back}"
        );
        let code = param(&back, "code").expect("code");
        // RFC 6749 §4.1.3: the token request repeats the very same URI, port and all.
        let other_port = requested.replace("1234", "4321").replace("50123", "50124");
        if other_port != requested {
            let body = exchange_at(&server, &code, &other_port).await;
            assert_eq!(body["error"], "invalid_grant", "{requested}");
        }
        let body = exchange_at(&server, &code, requested).await;
        assert!(body["access_token"].is_string(), "{requested}: {body}");
    }
}

#[tokio::test]
async fn everything_but_the_loopback_port_must_match() {
    let server = server_with(&[
        "http://127.0.0.1/callback",
        "http://localhost:3000/callback",
        "https://app.example.com/callback",
    ])
    .await;
    for refused in [
        "http://127.0.0.1:1234/callback/",
        "http://127.0.0.1:1234/other",
        "http://127.0.0.1:1234/callback?x=1",
        "http://[::1]:1234/callback",
        "https://127.0.0.1:1234/callback",
        "http://127.0.0.1:1234@evil.example/callback",
        // localhost may resolve anywhere: matched exactly (RFC 8252 §8.3).
        "http://localhost:3001/callback",
        "http://localhost/callback",
        "https://app.example.com:8443/callback",
    ] {
        let browser = Browser::new(&server);
        let (status, html) = browser.get(&url_for(&server, refused)).await.page();
        assert_eq!(status, 400, "{refused}");
        assert!(html.contains("has not registered"), "{refused}: {html}");
    }
    let browser = Browser::new(&server);
    let back = browser
        .authorize(&url_for(&server, "http://localhost:3000/callback"), "alice")
        .await;
    assert!(back
        .as_str()
        .starts_with("http://localhost:3000/callback?code="));
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_logged_for_the_operator() {
    let server = TestServer::start().await;
    server.add_client("app", false, true).await;
    let serve = ServeProcess::start(&server.db, &[]);
    let typo = "https://app.example.com/calback";
    let response = reqwest::Client::new()
        .get(
            authorize_url(&server, "app", "")
                .replace(&server.base, &format!("http://{}", serve.addr))
                .replace(&urlencode(REDIRECT), &urlencode(typo)),
        )
        .send()
        .await
        .unwrap();
    // The person sees only the page; the URI is never a redirect target.
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let entry = serve.log_until(|e| e["fields"]["client_id"] == "app");
    assert_eq!(entry["level"], "WARN");
    assert_eq!(
        entry["fields"]["message"],
        "redirect_uri matches no registered redirect URI of the client"
    );
    assert_eq!(entry["fields"]["redirect_uri"], format!("{typo:?}"));
}
