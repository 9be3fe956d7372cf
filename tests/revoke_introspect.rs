//! Revocation (RFC 7009), introspection (RFC 7662) and client_credentials.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const GRANTS: &[&str] = &["authorization_code", "refresh_token"];

async fn setup() -> (TestServer, Value) {
    let server = TestServer::start().await;
    server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    server.add_client_with("app", false, true, GRANTS).await;
    server.add_client_with("other", false, true, GRANTS).await;
    server.add_client_with("spa", true, true, GRANTS).await;
    server
        .add_client_with("machine", false, true, &["client_credentials"])
        .await;
    let browser = Browser::new(&server);
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let (status, tokens) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
    (server, tokens)
}

async fn post(
    server: &TestServer,
    path: &str,
    client: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(server.url(path)).form(form);
    if let Some((id, secret)) = client {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn introspect(server: &TestServer, client: &str, token: &str) -> Value {
    let (status, body) = post(
        server,
        "/introspect",
        Some((client, SECRET)),
        &[("token", token)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh_status(server: &TestServer, token: &str) -> StatusCode {
    token_request(
        server,
        Some(("app", SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
    .0
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant() {
    let (server, tokens) = setup().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", refresh), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(refresh_status(&server, refresh).await, 400);
    assert_eq!(userinfo(&server, access).await.0, 401);
    assert_eq!(
        introspect(&server, "app", access).await,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn revoking_an_access_token_revokes_its_grant() {
    let (server, tokens) = setup().await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(userinfo(&server, access).await.0, 401);
    assert_eq!(
        refresh_status(&server, tokens["refresh_token"].as_str().unwrap()).await,
        400
    );
}

#[tokio::test]
async fn unknown_revoked_and_foreign_tokens_answer_200_without_effect() {
    let (server, tokens) = setup().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    for token in ["unknown-token", refresh, access] {
        // Another client's tokens: 200, nothing happens.
        let (status, _) = post(
            &server,
            "/revoke",
            Some(("other", SECRET)),
            &[("token", token)],
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(userinfo(&server, access).await.0, 200);
    assert_eq!(refresh_status(&server, refresh).await, 200);
    // Revoking twice is fine.
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn revoke_rejects_bad_requests() {
    let (server, _) = setup().await;
    let (status, body) = post(&server, "/revoke", Some(("app", SECRET)), &[]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = post(
        &server,
        "/revoke",
        Some(("app", "wrong")),
        &[("token", "x")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = post(&server, "/revoke", None, &[("token", "x")]).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    // A public client may revoke its own tokens with its client_id alone.
    let (status, _) = post(
        &server,
        "/revoke",
        None,
        &[("token", "x"), ("client_id", "spa")],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn introspection_describes_live_tokens_only() {
    let (server, tokens) = setup().await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let info = introspect(&server, "other", access).await;
    assert_eq!(info["active"], true);
    for claim in [
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "iss",
        "token_type",
        "aud",
    ] {
        assert!(info.get(claim).is_some(), "{claim} in {info}");
    }
    assert_eq!(info["client_id"], "app");
    assert_eq!(info["iss"], server.base);
    assert_eq!(info["token_type"], "Bearer");

    let info = introspect(&server, "app", refresh).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "refresh_token");
    assert_eq!(info["client_id"], "app");
    // Another client does not learn about this client's refresh token.
    assert_eq!(
        introspect(&server, "other", refresh).await,
        serde_json::json!({"active": false})
    );

    let inactive = serde_json::json!({"active": false});
    assert_eq!(introspect(&server, "app", "garbage").await, inactive);
    assert_eq!(
        introspect(&server, "app", &format!("{access}x")).await,
        inactive
    );

    // A rotated refresh token is no longer active; an expired access token neither.
    assert_eq!(refresh_status(&server, refresh).await, 200);
    assert_eq!(introspect(&server, "app", refresh).await, inactive);
    server.clock.advance(601);
    assert_eq!(introspect(&server, "app", access).await, inactive);
}

#[tokio::test]
async fn introspection_needs_an_authenticated_confidential_client() {
    let (server, tokens) = setup().await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = post(
        &server,
        "/introspect",
        None,
        &[("token", access), ("client_id", "spa")],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = post(
        &server,
        "/introspect",
        Some(("app", "wrong")),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = post(&server, "/introspect", Some(("app", SECRET)), &[]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn client_credentials_for_confidential_clients_allowed_it() {
    let (server, _) = setup().await;
    let (status, headers, body) = token_request(
        &server,
        Some(("machine", SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.get("id_token").is_none());
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    let info = introspect(&server, "app", access).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["sub"], "machine");
    assert_eq!(info["client_id"], "machine");
    // RFC 6749 §3.3: no scope asked for, the registered ones granted.
    assert_eq!(body["scope"], "orders:read");
    assert_eq!(info["scope"], "orders:read");
    assert_eq!(jwt_claims(access)["scope"], "orders:read");
    // No person behind it: userinfo refuses it.
    assert_eq!(userinfo(&server, access).await.0, 401);

    // Refused for clients not allowed it, for public clients, and for user scopes.
    let (status, _, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
    server
        .add_client_with("public-machine", true, true, &["client_credentials"])
        .await;
    let (status, _, body) = token_request(
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "public-machine"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
    let (status, _, body) = token_request(
        &server,
        Some(("machine", SECRET)),
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");

    // Only the scopes registered for the client (RFC 6749 §3.3).
    let (status, _, body) = token_request(
        &server,
        Some(("machine", SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "orders:read");
    let (status, _, body) = token_request(
        &server,
        Some(("machine", SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read admin"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
}

/// Nodes keep a client they authenticated for GATEHOUSE_CLIENT_CACHE_TTL seconds: a
/// client removed elsewhere (the CLI, another node) is refused once that has passed,
/// and at once with the cache off.
#[tokio::test]
async fn a_removed_client_is_refused_within_the_client_cache_ttl() {
    for ttl in [0, 1] {
        let db = std::sync::Arc::new(TestDb::new().await);
        let server = TestServer::start_with(db, |c| c.client_cache_ttl = ttl).await;
        server
            .add_client_with("machine", false, true, &["client_credentials"])
            .await;
        let form = [("grant_type", "client_credentials")];
        let (status, body) = post(&server, "/token", Some(("machine", SECRET)), &form).await;
        assert_eq!(status, 200, "{body}");

        // Removed behind this node's back, as `gatehouse client remove` does.
        assert!(
            gatehouse::store::clients::remove(&server.state.db, "machine")
                .await
                .unwrap()
        );
        if ttl > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(ttl * 1000 + 100)).await;
        }
        let (status, body) = post(&server, "/token", Some(("machine", SECRET)), &form).await;
        assert_eq!(status, 401, "ttl {ttl}: {body}");
        assert_eq!(body["error"], "invalid_client");
    }
}

async fn machine_token(server: &TestServer) -> String {
    let (status, _, body) = token_request(
        server,
        Some(("machine", SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn client_credentials_tokens_can_be_revoked() {
    let (server, _) = setup().await;
    let token = machine_token(&server).await;
    let claims = jwt_claims(&token);
    assert_eq!(claims["sub"], "machine");
    for absent in ["sid", "auth_time", "nonce", "amr", "acr"] {
        assert!(
            claims.get(absent).is_none(),
            "{absent}: a client's own token has no person"
        );
    }
    assert_eq!(introspect(&server, "app", &token).await["active"], true);
    // Another client cannot revoke it (RFC 7009 §2.1): still 200, still active.
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(&server, "app", &token).await["active"], true);
    // Its own client can, at once on every node.
    // A second node: same database, same issuer.
    let issuer = server.base.clone();
    let second = TestServer::start_with(server.db.clone(), |c| c.issuer = issuer).await;
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("machine", SECRET)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(introspect(&server, "app", &token).await["active"], false);
    assert_eq!(introspect(&second, "app", &token).await["active"], false);
    // Revoking it again is fine; other tokens of the client are untouched.
    let (status, _) = post(
        &server,
        "/revoke",
        Some(("machine", SECRET)),
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    let other = machine_token(&server).await;
    assert_eq!(introspect(&server, "app", &other).await["active"], true);
}

#[tokio::test]
async fn removing_a_client_ends_its_own_tokens_at_once() {
    let (server, _) = setup().await;
    let token = machine_token(&server).await;
    // A second node: same database, same issuer.
    let issuer = server.base.clone();
    let second = TestServer::start_with(server.db.clone(), |c| c.issuer = issuer).await;
    assert_eq!(introspect(&second, "app", &token).await["active"], true);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["client", "remove", "machine"])
        .env("GATEHOUSE_DATABASE_URL", &server.db.url)
        .env("GATEHOUSE_MASTER_KEY", &server.db.master_key)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(introspect(&server, "app", &token).await["active"], false);
    assert_eq!(introspect(&second, "app", &token).await["active"], false);
}
