//! The registered token_endpoint_auth_method is the only one a client may use, at the
//! token, introspection and revocation endpoints (RFC 6749 §2.3).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn server_with(method: AuthMethod) -> TestServer {
    let server = TestServer::start().await;
    let mut registration = client("app", false, true, &["client_credentials"]);
    registration.token_endpoint_auth_method = method;
    server.register(&registration).await;
    server
        .add_client_with("spa", true, true, &["authorization_code"])
        .await;
    server
}

/// POSTs `form` to `path` with the client's credentials sent by `used`.
async fn call(
    server: &TestServer,
    path: &str,
    used: AuthMethod,
    client_id: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<String>, Value) {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut request = reqwest::Client::new().post(server.url(path));
    match used {
        AuthMethod::ClientSecretBasic => request = request.basic_auth(client_id, Some(SECRET)),
        AuthMethod::ClientSecretPost => {
            form.extend([("client_id", client_id), ("client_secret", SECRET)])
        }
        _ => form.push(("client_id", client_id)),
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

const CC: &[(&str, &str)] = &[("grant_type", "client_credentials")];

#[tokio::test]
async fn a_basic_client_is_refused_its_secret_in_the_body() {
    let server = server_with(AuthMethod::ClientSecretBasic).await;
    let (status, _, body) = call(&server, "/token", AuthMethod::ClientSecretBasic, "app", CC).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();

    // The right secret, the wrong method: every endpoint that authenticates says so.
    for (path, form) in [
        ("/token", CC.to_vec()),
        ("/introspect", vec![("token", token.as_str())]),
        ("/revoke", vec![("token", token.as_str())]),
    ] {
        let (status, challenge, body) =
            call(&server, path, AuthMethod::ClientSecretPost, "app", &form).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"], "invalid_client", "{path}");
        assert_eq!(
            body["error_description"], "this client must authenticate with client_secret_basic",
            "{path}"
        );
        // Not a Basic attempt: no Basic challenge (RFC 6749 §5.2).
        assert_eq!(challenge, None, "{path}");
        // Nor may it present no secret at all.
        let (status, _, body) = call(&server, path, AuthMethod::None, "app", &form).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body["error"], "invalid_client", "{path}");
    }
    // The token survived: the refused revocation did nothing.
    let (status, _, body) = call(
        &server,
        "/introspect",
        AuthMethod::ClientSecretBasic,
        "app",
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
}

#[tokio::test]
async fn a_post_client_is_refused_basic() {
    let server = server_with(AuthMethod::ClientSecretPost).await;
    let (status, _, body) = call(&server, "/token", AuthMethod::ClientSecretPost, "app", CC).await;
    assert_eq!(status, 200, "{body}");

    let (status, challenge, body) =
        call(&server, "/token", AuthMethod::ClientSecretBasic, "app", CC).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(
        body["error_description"],
        "this client must authenticate with client_secret_post"
    );
    // It tried Basic: RFC 6749 §5.2 asks for the matching challenge.
    assert!(challenge.unwrap().starts_with("Basic"));
}

#[tokio::test]
async fn a_public_client_may_present_only_its_id() {
    let server = server_with(AuthMethod::ClientSecretBasic).await;
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", "no-such-code"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    // Authenticated (none), then refused for the code: invalid_grant, not invalid_client.
    let (status, _, body) = call(&server, "/token", AuthMethod::None, "spa", &code_form).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    for used in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
        let (status, _, body) = call(&server, "/token", used, "spa", &code_form).await;
        assert_eq!(status, 401, "{used}");
        assert_eq!(body["error"], "invalid_client");
        assert_eq!(body["error_description"], "a public client has no secret");
    }
}

#[tokio::test]
async fn clients_registered_before_enforcement_keep_both_secret_methods() {
    let server = server_with(AuthMethod::ClientSecretBasicOrPost).await;
    for used in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
        let (status, _, body) = call(&server, "/token", used, "app", CC).await;
        assert_eq!(status, 200, "{used}: {body}");
    }
    let (status, _, body) = call(&server, "/token", AuthMethod::None, "app", CC).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn the_upgrade_keeps_existing_confidential_clients_on_both_secret_methods() {
    use gatehouse::store::clients;
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let db = TestDb::new().await;
    let conn = gatehouse::store::connect(&db.url).await.unwrap();
    // The schema of the release before enforcement (migrations 1–16), and clients as
    // it registered them: every confidential one stored as client_secret_basic.
    Migrator::up(&conn, Some(16)).await.unwrap();
    // As that release wrote them (its columns only).
    for (id, secret) in [("old-app", "'h1.x'"), ("old-spa", "NULL")] {
        let sql = format!(
            "INSERT INTO clients (client_id, name, secret_hash, redirect_uris, \
             post_logout_redirect_uris, grant_types, allowed_scopes, backchannel_logout_uri, \
             token_endpoint_auth_method, id_token_signed_response_alg, skip_consent, created_at) \
             VALUES ('{id}', '{id}', {secret}, '[]', '[]', '[\"authorization_code\"]', '[]', \
             NULL, '{}', 'ES256', false, 0)",
            if secret == "NULL" {
                "none"
            } else {
                "client_secret_basic"
            }
        );
        conn.execute_unprepared(&sql).await.unwrap();
    }
    Migrator::up(&conn, None).await.unwrap();
    let method = |id: &'static str| {
        let conn = conn.clone();
        async move {
            clients::find(&conn, id)
                .await
                .unwrap()
                .unwrap()
                .token_endpoint_auth_method
        }
    };
    assert_eq!(method("old-app").await, AuthMethod::ClientSecretBasicOrPost);
    assert_eq!(method("old-spa").await, AuthMethod::None);
    conn.close().await.unwrap();
}
