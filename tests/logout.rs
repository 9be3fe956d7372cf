//! OIDC completeness: response_mode=form_post, id_token_hint, RP-Initiated Logout
//! and Back-Channel Logout (with a stand-in client endpoint).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use gatehouse::store::clients;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, RS256};
use reqwest::StatusCode;
use serde_json::Value;

const POST_LOGOUT: &str = "https://app.example.com/signed-out";

/// A client endpoint that records the logout tokens it receives.
async fn backchannel_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", listener.local_addr().unwrap());
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let record = record.clone();
            async move {
                let token = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                record.lock().unwrap().push(token);
                StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, seen)
}

async fn setup(backchannel: Option<String>) -> (TestServer, Browser) {
    let server = TestServer::start().await;
    server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    let mut app = client("app", false, true, &["authorization_code", "refresh_token"]);
    app.post_logout_redirect_uris = vec![POST_LOGOUT.into()];
    app.backchannel_logout_uri = backchannel;
    clients::create(&server.state.db, &app).await.unwrap();
    let browser = Browser::new(&server);
    (server, browser)
}

async fn sign_in(server: &TestServer, browser: &Browser, extra: &str) -> Value {
    sign_in_as(server, browser, extra, "alice").await
}

async fn sign_in_as(server: &TestServer, browser: &Browser, extra: &str, user: &str) -> Value {
    let back = browser
        .authorize(&authorize_url(server, "app", extra), user)
        .await;
    let (status, tokens) = exchange(server, "app", &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200);
    tokens
}

async fn logout(browser: &Browser, server: &TestServer, query: &str) -> Outcome {
    browser.get(&server.url(&format!("/logout{query}"))).await
}

#[tokio::test]
async fn form_post_delivers_code_and_errors_in_an_auto_submitting_form() {
    let (server, browser) = setup(None).await;
    let (_, login) = browser
        .get(&authorize_url(&server, "app", "&response_mode=form_post"))
        .await
        .page();
    let response = browser
        .http
        .post(server.url("/login"))
        .form(&{
            let mut f = Form::parse(&login);
            f.set("username", "alice").set("password", PASSWORD);
            f.fields
        })
        .send()
        .await
        .unwrap();
    let outcome = browser.follow(response).await;
    let Outcome::Page {
        status,
        headers,
        html,
    } = outcome
    else {
        panic!("form_post answers with a page")
    };
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    let form = Form::parse(&html);
    assert_eq!(form.action, REDIRECT);
    assert!(form.get("code").is_some());
    assert_eq!(form.get("state"), Some("st4te"));
    assert_eq!(form.get("iss"), Some(server.base.as_str()));
    assert!(
        html.contains("<button type=\"submit\""),
        "works without JavaScript"
    );

    // Errors travel the same way.
    let fresh = Browser::new(&server);
    let (status, html) = fresh
        .get(&authorize_url(
            &server,
            "app",
            "&response_mode=form_post&prompt=none",
        ))
        .await
        .page();
    assert_eq!(status, 200);
    let form = Form::parse(&html);
    assert_eq!(form.action, REDIRECT);
    assert_eq!(form.get("error"), Some("login_required"));
    assert_eq!(form.get("state"), Some("st4te"));
}

#[tokio::test]
async fn id_token_hint_at_authorize() {
    let (server, browser) = setup(None).await;
    let tokens = sign_in(&server, &browser, "").await;
    let hint = tokens["id_token"].as_str().unwrap();
    // The signed-in user's own hint: silent.
    let back = browser
        .get(&authorize_url(
            &server,
            "app",
            &format!("&prompt=none&id_token_hint={hint}"),
        ))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
    // Another user's hint: that user must sign in.
    server.add_user("bob", None, None).await;
    let bob = Browser::new(&server);
    let bob_tokens = sign_in_as(&server, &bob, "", "bob").await;
    let other = bob_tokens["id_token"].as_str().unwrap();
    let back = browser
        .get(&authorize_url(
            &server,
            "app",
            &format!("&prompt=none&id_token_hint={other}"),
        ))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    // Not an ID token of ours.
    let back = browser
        .get(&authorize_url(
            &server,
            "app",
            "&prompt=none&id_token_hint=eyJhbGciOiJub25lIn0.e30.",
        ))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
}

#[tokio::test]
async fn logout_with_a_valid_hint_ends_the_session_and_returns_with_state() {
    let (server, browser) = setup(None).await;
    let online = sign_in(&server, &browser, "").await;
    let hint = online["id_token"].as_str().unwrap();
    let query = format!(
        "?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye",
        urlencode(POST_LOGOUT)
    );
    let back = logout(&browser, &server, &query).await.redirect();
    assert!(back.as_str().starts_with(POST_LOGOUT));
    assert_eq!(param(&back, "state").as_deref(), Some("bye"));

    // Session gone: prompt=none now needs a login; the session's tokens are dead.
    let back = browser
        .get(&authorize_url(&server, "app", "&prompt=none"))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    assert_eq!(
        userinfo(&server, online["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let (status, _, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", online["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn logout_never_redirects_to_an_unproven_or_unregistered_address() {
    let (server, browser) = setup(None).await;
    let tokens = sign_in(&server, &browser, "").await;
    let hint = tokens["id_token"].as_str().unwrap().to_string();
    let mut tampered: Vec<String> = hint.split('.').map(str::to_string).collect();
    tampered[1] = tampered[1].replacen('e', "f", 1);
    let tampered = tampered.join(".");
    for query in [
        format!(
            "?id_token_hint={tampered}&post_logout_redirect_uri={}",
            urlencode(POST_LOGOUT)
        ),
        format!(
            "?id_token_hint=garbage&post_logout_redirect_uri={}",
            urlencode(POST_LOGOUT)
        ),
        format!(
            "?id_token_hint={hint}&post_logout_redirect_uri={}",
            urlencode("https://evil.example/")
        ),
        format!(
            "?id_token_hint={hint}&post_logout_redirect_uri={}",
            urlencode(&format!("{POST_LOGOUT}?x=1"))
        ),
        format!("?id_token_hint={hint}&client_id=other"),
    ] {
        let (status, html) = logout(&browser, &server, &query).await.page();
        assert_eq!(status, 400, "{query}");
        assert!(html.contains("Sign-out not possible"));
    }
    // Still signed in after all of that.
    let back = browser
        .get(&authorize_url(&server, "app", "&prompt=none"))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
}

#[tokio::test]
async fn logout_without_proof_asks_first() {
    let (server, browser) = setup(None).await;
    sign_in(&server, &browser, "").await;
    // No parameters: a confirmation, not an immediate sign-out.
    let (status, page) = logout(&browser, &server, "").await.page();
    assert_eq!(status, 200);
    assert_eq!(Form::parse(&page).action, "/logout/confirm");
    let back = browser
        .get(&authorize_url(&server, "app", "&prompt=none"))
        .await
        .redirect();
    assert!(
        param(&back, "code").is_some(),
        "still signed in until confirmed"
    );
    let (status, done) = browser.submit(&Form::parse(&page)).await.page();
    assert_eq!(status, 200);
    assert!(done.contains("signed out"));
    let back = browser
        .get(&authorize_url(&server, "app", "&prompt=none"))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));

    // No session, no parameters: the signed-out page.
    let (status, page) = logout(&Browser::new(&server), &server, "").await.page();
    assert_eq!(status, 200);
    assert!(page.contains("signed out"));

    // client_id and a registered address, but no hint: ask, then return.
    sign_in(&server, &browser, "").await;
    let query = format!(
        "?client_id=app&post_logout_redirect_uri={}&state=s1",
        urlencode(POST_LOGOUT)
    );
    let (_, page) = logout(&browser, &server, &query).await.page();
    let back = browser.submit(&Form::parse(&page)).await.redirect();
    assert!(back.as_str().starts_with(POST_LOGOUT));
    assert_eq!(param(&back, "state").as_deref(), Some("s1"));

    // The confirmation needs its CSRF token.
    sign_in(&server, &browser, "").await;
    let (_, page) = logout(&browser, &server, "").await.page();
    let mut form = Form::parse(&page);
    form.set("csrf", "forged-forged-forged-forged-forged-forged-12");
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn backchannel_logout_token_is_signed_and_exact() {
    let (endpoint, seen) = backchannel_endpoint().await;
    let (server, browser) = setup(Some(endpoint)).await;
    let online = sign_in(&server, &browser, "").await;
    // An offline grant in the same session outlives the logout.
    let url = authorize_url(&server, "app", "").replace(
        "scope=openid%20email%20profile",
        "scope=openid%20offline_access",
    );
    let (_, consent) = browser.get(&url).await.page();
    let back = browser.consent(&consent, "allow").await.redirect();
    let (_, offline) = exchange(&server, "app", &param(&back, "code").unwrap()).await;

    let hint = online["id_token"].as_str().unwrap();
    let id_claims = jwt_part(hint, 1);
    logout(&browser, &server, &format!("?id_token_hint={hint}"))
        .await
        .page();

    let mut tokens = Vec::new();
    for _ in 0..50 {
        tokens = seen.lock().unwrap().clone();
        if !tokens.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(tokens.len(), 1, "one notice for the session's one client");
    let token = &tokens[0];
    let header = jwt_part(token, 0);
    assert_eq!(header["typ"], "logout+jwt");

    // Verify the signature with the key the JWKS publishes under its kid.
    let jwks: Value = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid published");
    let jwk = Jwk::from_bytes(key.to_string().as_bytes()).unwrap();
    let (payload, _) = match header["alg"].as_str().unwrap() {
        "ES256" => {
            josekit::jwt::decode_with_verifier(token, &ES256.verifier_from_jwk(&jwk).unwrap())
        }
        _ => josekit::jwt::decode_with_verifier(token, &RS256.verifier_from_jwk(&jwk).unwrap()),
    }
    .expect("signature verifies against the JWKS");
    let claims = payload.claims_set();
    assert_eq!(claims["iss"], server.base.as_str());
    assert_eq!(claims["aud"], "app");
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert!(claims["iat"].is_i64() && claims["jti"].is_string());
    assert_eq!(
        claims["events"],
        serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(!claims.contains_key("nonce"));

    let refresh = |t: &Value| t["refresh_token"].as_str().unwrap().to_string();
    let status_of = |token: String| {
        let server = &server;
        async move {
            token_request(
                server,
                Some(("app", SECRET)),
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
            .0
        }
    };
    assert_eq!(
        status_of(refresh(&online)).await,
        400,
        "online family ended"
    );
    assert_eq!(
        status_of(refresh(&offline)).await,
        200,
        "offline family lives on"
    );
}

#[tokio::test]
async fn discovery_lists_logout_and_form_post() {
    let server = TestServer::start().await;
    let doc: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["end_session_endpoint"],
        format!("{}/logout", server.base)
    );
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);
    assert_eq!(
        doc["response_modes_supported"],
        serde_json::json!(["query", "form_post"])
    );
}

#[tokio::test]
async fn address_phone_and_the_claims_parameter() {
    let server = TestServer::start().await;
    let hash = gatehouse::auth::password::hash_blocking(PASSWORD).unwrap();
    gatehouse::store::users::create(
        &server.state.db,
        gatehouse::store::users::NewUser {
            username: "carol".into(),
            email: Some("carol@example.com".into()),
            name: Some("Carol".into()),
            phone_number: Some("+1 555 0100".into()),
            address: Some("1 Main St, Springfield".into()),
            password_hash: Some(hash),
        },
        server.clock.now(),
    )
    .await
    .unwrap();
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let claims = urlencode(r#"{"id_token":{"phone_number":{"essential":true},"email":null}}"#);
    let url = authorize_url(&server, "app", &format!("&claims={claims}")).replace(
        "scope=openid%20email%20profile",
        "scope=phone%20openid%20address",
    );
    let back = browser.authorize(&url, "carol").await;
    let (status, tokens) = exchange(&server, "app", &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        tokens["scope"], "phone openid address",
        "scope order is kept, not required"
    );
    let id = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(
        id["phone_number"], "+1 555 0100",
        "asked for in the ID token"
    );
    assert!(id.get("email").is_none(), "not within the granted scopes");
    assert!(id.get("address").is_none(), "not asked for in the ID token");
    let (status, _, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["phone_number"], "+1 555 0100");
    assert_eq!(info["address"]["formatted"], "1 Main St, Springfield");
    assert!(info.get("email").is_none());

    let doc: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["claims_parameter_supported"], true);
    for scope in ["address", "phone"] {
        assert!(doc["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from(scope)));
    }
}

#[tokio::test]
async fn disabling_a_user_from_the_command_line_notifies_their_clients() {
    let (endpoint, seen) = backchannel_endpoint().await;
    let (server, browser) = setup(Some(endpoint)).await;
    let tokens = sign_in(&server, &browser, "").await;
    let sid = jwt_part(tokens["id_token"].as_str().unwrap(), 1)["sid"].clone();
    // Awaited, so that this runtime keeps serving the client's endpoint meanwhile.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["user", "disable", "alice"])
        .env("GATEHOUSE_DATABASE_URL", &server.db.url)
        .env("GATEHOUSE_MASTER_KEY", &server.db.master_key)
        .env("GATEHOUSE_ISSUER", &server.base)
        .env("RUST_LOG", "off")
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The command waits for the delivery before it exits.
    let tokens_seen = seen.lock().unwrap().clone();
    assert_eq!(tokens_seen.len(), 1);
    let claims = jwt_part(&tokens_seen[0], 1);
    assert_eq!(claims["sid"], sid);
    assert_eq!(claims["iss"], server.base.as_str());
    let (status, _, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}
