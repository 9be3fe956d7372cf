//! /userinfo: claims by scope; every bad token is 401 with an RFC 6750 challenge.

mod common;

use common::*;

async fn tokens(extra_scope_query: &str) -> (TestServer, serde_json::Value) {
    let server = TestServer::start().await;
    server
        .add_user("alice", Some("alice@example.com"), Some("Alice Liddell"))
        .await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let url = authorize_url(&server, "app", "")
        .replace("scope=openid%20email%20profile", extra_scope_query);
    let back = browser.authorize(&url, "alice").await;
    let code = param(&back, "code").expect("code");
    let (status, body) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
    (server, body)
}

fn assert_invalid_token(status: reqwest::StatusCode, challenge: Option<String>) {
    assert_eq!(status, 401);
    let challenge = challenge.expect("WWW-Authenticate");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test]
async fn claims_follow_the_granted_scopes() {
    let (server, body) = tokens("scope=openid%20email%20profile").await;
    let access = body["access_token"].as_str().unwrap();
    let (status, _, claims) = userinfo(&server, access).await;
    assert_eq!(status, 200);
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], false);
    assert_eq!(claims["name"], "Alice Liddell");
    assert_eq!(claims["preferred_username"], "alice");

    // POST works the same (OIDC Core §5.3.1).
    let response = reqwest::Client::new()
        .post(server.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let posted: serde_json::Value = response.json().await.unwrap();
    assert_eq!(posted, claims);

    let (server, body) = tokens("scope=openid").await;
    let (_, _, claims) = userinfo(&server, body["access_token"].as_str().unwrap()).await;
    assert!(claims["sub"].is_string());
    assert!(claims.get("email").is_none());
    assert!(claims.get("name").is_none());
}

#[tokio::test]
async fn missing_tampered_foreign_and_expired_tokens_are_refused() {
    let (server, body) = tokens("scope=openid%20email").await;
    let access = body["access_token"].as_str().unwrap().to_string();

    // Garbage.
    let (status, challenge, _) = userinfo(&server, "not-a-token").await;
    assert_invalid_token(status, challenge);

    // Tampered payload: the signature no longer matches.
    let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: serde_json::Value =
        serde_json::from_slice(&engine.decode(&parts[1]).unwrap()).unwrap();
    claims["scope"] = "openid email profile".into();
    parts[1] = engine.encode(serde_json::to_vec(&claims).unwrap());
    let (status, challenge, _) = userinfo(&server, &parts.join(".")).await;
    assert_invalid_token(status, challenge);

    // alg=none with the same payload.
    let none_header = engine.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let unsigned = format!("{none_header}.{}.", parts[1]);
    let (status, challenge, _) = userinfo(&server, &unsigned).await;
    assert_invalid_token(status, challenge);

    // An ID token is not an access token (RFC 9068 typ check).
    let id_token = body["id_token"].as_str().unwrap();
    let (status, challenge, _) = userinfo(&server, id_token).await;
    assert_invalid_token(status, challenge);

    // A token from another Gatehouse (its own keys and issuer).
    let (other, other_body) = tokens("scope=openid").await;
    let foreign = other_body["access_token"].as_str().unwrap();
    let (status, challenge, _) = userinfo(&server, foreign).await;
    assert_invalid_token(status, challenge);
    drop(other);

    // Expired.
    assert_eq!(userinfo(&server, &access).await.0, 200);
    server.clock.advance(601);
    let (status, challenge, _) = userinfo(&server, &access).await;
    assert_invalid_token(status, challenge);
}

/// POSTs `form` to /userinfo, with `bearer` in the Authorization header if given.
async fn post_userinfo(
    server: &TestServer,
    bearer: Option<&str>,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, Option<String>, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/userinfo"))
        .form(form);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_token_may_come_in_a_form_body_once() {
    let (server, body) = tokens("scope=openid%20email").await;
    let access = body["access_token"].as_str().unwrap();

    // RFC 6750 §2.2: form-encoded body parameter (pyoidc's default).
    let (status, _, claims) = post_userinfo(&server, None, &[("access_token", access)]).await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["email"], "alice@example.com");

    // Never two methods in one request (§2): 400 invalid_request, with the challenge.
    let (status, challenge, body) =
        post_userinfo(&server, Some(access), &[("access_token", access)]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let challenge = challenge.expect("WWW-Authenticate");
    assert!(
        challenge.starts_with("Bearer error=\"invalid_request\""),
        "{challenge}"
    );

    // A bad token in the body is refused as in the header.
    let (status, challenge, _) = post_userinfo(&server, None, &[("access_token", "forged")]).await;
    assert_invalid_token(status, challenge);

    // Not in a GET query (§2.3 is not offered), nor in a body that is not a form.
    let response = reqwest::Client::new()
        .get(server.url(&format!("/userinfo?access_token={access}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = reqwest::Client::new()
        .post(server.url("/userinfo"))
        .header("content-type", "application/json")
        .body(format!("{{\"access_token\":\"{access}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn no_token_at_all_gets_a_bare_challenge_scripts_can_read() {
    let (server, _) = tokens("scope=openid").await;
    for request in [
        reqwest::Client::new().get(server.url("/userinfo")),
        reqwest::Client::new().post(server.url("/userinfo")),
        reqwest::Client::new()
            .post(server.url("/userinfo"))
            .form(&[("other", "1")]),
    ] {
        let response = request
            .header("origin", "https://spa.example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        // RFC 6750 §3.1: no authentication at all means no error code.
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"gatehouse\""
        );
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let exposed = response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(exposed.contains("www-authenticate"), "{exposed}");
    }
}
