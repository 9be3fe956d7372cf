//! Signing keys: pre-publication, rotation, retirement, revocation, several nodes,
//! RS256 per client, sealing at rest and the master-key error paths.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::*;
use gatehouse::app::AppState;
use gatehouse::clock::Clock;
use gatehouse::config::Config;
use gatehouse::store::signing_keys::{self, StoredKey};
use serde_json::Value;

/// Short timings: the next key signs 1200 s after start, published from the start;
/// a retired key stays 600 s (token lifetime) + 60 s margin.
fn short_rotation(c: &mut Config) {
    c.key_rotation_period = 1200;
    c.key_prepublish_lead = 600;
    c.key_retire_margin = 60;
}

async fn server_on(db: Arc<TestDb>, issuer: Option<&str>) -> TestServer {
    let issuer = issuer.map(str::to_string);
    TestServer::start_with(db, move |c| {
        short_rotation(c);
        if let Some(issuer) = issuer {
            c.issuer = issuer;
        }
    })
    .await
}

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: Value = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn header(jwt: &str) -> Value {
    use base64::Engine;
    let raw = jwt.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .unwrap(),
    )
    .unwrap()
}

async fn tokens(server: &TestServer, browser: &Browser, client: &str) -> Value {
    let code = obtain_code(server, browser, client, "alice").await;
    let (status, body) = exchange(server, client, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn keys_in(server: &TestServer) -> Vec<StoredKey> {
    signing_keys::all(&server.state.db).await.unwrap()
}

fn count(keys: &[StoredKey], alg: &str, state: &str) -> usize {
    keys.iter()
        .filter(|k| k.alg == alg && k.state == state)
        .count()
}

async fn maintain(server: &TestServer) {
    server
        .state
        .keys
        .maintain(&server.state.db, server.clock.now())
        .await
        .unwrap();
}

#[tokio::test]
async fn keys_are_published_before_they_sign_and_kept_until_their_tokens_expire() {
    let server = server_on(Arc::new(TestDb::new().await), None).await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);

    let first = tokens(&server, &browser, "app").await;
    let old_kid = header(first["id_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_string();

    server.clock.advance(1100);
    let before_rotation = tokens(&server, &browser, "app").await;
    let published_before = jwks_kids(&server).await;
    assert_eq!(published_before.len(), 4, "current and next, per algorithm");

    server.clock.advance(100);
    maintain(&server).await;
    let after = tokens(&server, &browser, "app").await;
    let new_kid = header(after["id_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_kid, old_kid, "the next key took over");
    assert!(
        published_before.contains(&new_kid),
        "the key was in the JWKS before its first signature"
    );
    let access = header(after["access_token"].as_str().unwrap());
    assert_eq!(access["kid"], new_kid.as_str());

    // A token signed before the rotation still verifies after it.
    let old_token = before_rotation["access_token"].as_str().unwrap();
    assert_eq!(header(old_token)["kid"], old_kid.as_str());
    assert_eq!(userinfo(&server, old_token).await.0, 200);
    assert!(jwks_kids(&server).await.contains(&old_kid));

    // Retired at +1200: published until +1200 + 600 + 60.
    server.clock.advance(659);
    maintain(&server).await;
    assert!(
        jwks_kids(&server).await.contains(&old_kid),
        "still within its tokens' lifetime"
    );
    server.clock.advance(1);
    maintain(&server).await;
    let kids = jwks_kids(&server).await;
    assert!(!kids.contains(&old_kid), "removed once its tokens expired");
    assert!(kids.contains(&new_kid));
    let stored = keys_in(&server).await;
    let removed = stored.iter().find(|k| k.kid == old_kid).unwrap();
    assert_eq!(removed.state, "removed");
    assert!(removed.private_key.is_empty(), "the private half is erased");
}

#[tokio::test]
async fn private_keys_are_sealed_at_rest() {
    let server = TestServer::start().await;
    for key in keys_in(&server).await {
        assert!(key.private_key.starts_with("v1."), "{}", key.kid);
        assert!(!key.private_key.contains("PRIVATE KEY"));
        assert!(!key.public_jwk.contains("\"d\""));
    }
}

#[tokio::test]
async fn two_nodes_racing_a_transition_perform_it_once() {
    let db = Arc::new(TestDb::new().await);
    let a = server_on(db.clone(), None).await;
    let b = server_on(db.clone(), Some(&a.base)).await;
    assert_eq!(
        keys_in(&a).await.len(),
        4,
        "the second node created nothing"
    );
    a.clock.advance(1200);
    b.clock.advance(1200);
    let (ra, rb) = tokio::join!(
        a.state.keys.maintain(&a.state.db, a.clock.now()),
        b.state.keys.maintain(&b.state.db, b.clock.now())
    );
    ra.unwrap();
    rb.unwrap();
    let keys = keys_in(&a).await;
    for alg in ["ES256", "RS256"] {
        assert_eq!(count(&keys, alg, "current"), 1, "{alg}");
        assert_eq!(count(&keys, alg, "retired"), 1, "{alg}");
        assert_eq!(
            count(&keys, alg, "next"),
            1,
            "exactly one new next key for {alg}"
        );
    }
    assert_eq!(keys.len(), 6);
    assert_eq!(
        jwks_kids(&a).await,
        jwks_kids(&b).await,
        "both nodes see the same keys"
    );
}

#[tokio::test]
async fn two_nodes_starting_on_an_empty_database_create_one_key_set() {
    let db = Arc::new(TestDb::new().await);
    let conn = gatehouse::store::connect(&db.url).await.unwrap();
    gatehouse::store::migrate(&conn).await.unwrap();
    conn.close().await.ok();
    let (a, b) = tokio::join!(server_on(db.clone(), None), server_on(db.clone(), None));
    let keys = keys_in(&a).await;
    for alg in ["ES256", "RS256"] {
        assert_eq!(count(&keys, alg, "current"), 1, "{alg}");
        assert_eq!(count(&keys, alg, "next"), 1, "{alg}");
    }
    assert_eq!(jwks_kids(&a).await, jwks_kids(&b).await);
}

#[tokio::test]
async fn a_node_learns_of_a_new_key_when_a_token_names_it() {
    let db = Arc::new(TestDb::new().await);
    let a = server_on(db.clone(), None).await;
    let b = server_on(db.clone(), Some(&a.base)).await;
    a.add_user("alice", None, None).await;
    a.add_client("app", false, true).await;
    // Node A alone runs two rotations: the key signing at the end was created after
    // node B last read the keys.
    for _ in 0..2 {
        a.clock.advance(1200);
        b.clock.advance(1200);
        maintain(&a).await;
    }
    let browser = Browser::new(&a);
    let fresh = tokens(&a, &browser, "app").await;
    let token = fresh["access_token"].as_str().unwrap();
    assert!(!b
        .state
        .keys
        .get()
        .verifiers
        .contains_key(header(token)["kid"].as_str().unwrap()));
    assert_eq!(
        userinfo(&b, token).await.0,
        200,
        "B reloads on the unknown kid"
    );
}

#[tokio::test]
async fn revoking_a_key_removes_it_at_once_and_its_successor_signs() {
    let db = Arc::new(TestDb::new().await);
    let server = server_on(db.clone(), None).await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let before = tokens(&server, &browser, "app").await;
    let access = before["access_token"].as_str().unwrap();
    let kid = header(access)["kid"].as_str().unwrap().to_string();
    // Verified once, so the node holds it in its verified-token cache.
    assert_eq!(userinfo(&server, access).await.0, 200);

    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["keys", "revoke", &kid, "--json"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let revoked = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    assert_eq!(revoked["state"], "removed");

    // The node picks the change up at its next reload (every key_reload_interval).
    server
        .state
        .keys
        .reload(&server.state.db, server.clock.now())
        .await
        .unwrap();
    assert!(!jwks_kids(&server).await.contains(&kid));
    assert_eq!(userinfo(&server, access).await.0, 401);
    let response = reqwest::Client::new()
        .post(server.url("/introspect"))
        .basic_auth("app", Some(SECRET))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["active"], false);

    let after = tokens(&server, &browser, "app").await;
    let new_kid = header(after["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_kid, kid);
    assert!(jwks_kids(&server).await.contains(&new_kid));

    let unknown = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["keys", "revoke", "no-such-kid"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn keys_rotate_promotes_the_next_key_now() {
    let db = Arc::new(TestDb::new().await);
    let server = server_on(db.clone(), None).await;
    let next_es256 = keys_in(&server)
        .await
        .into_iter()
        .find(|k| k.alg == "ES256" && k.state == "next")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["keys", "rotate", "--json"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = keys_in(&server).await;
    let promoted = keys.iter().find(|k| k.kid == next_es256.kid).unwrap();
    assert_eq!(promoted.state, "current");
    for alg in ["ES256", "RS256"] {
        assert_eq!(count(&keys, alg, "current"), 1);
        assert_eq!(count(&keys, alg, "retired"), 1);
        assert_eq!(count(&keys, alg, "next"), 1);
    }
}

#[tokio::test]
async fn rs256_for_clients_that_ask_for_it() {
    use openidconnect::core::{CoreClient, CoreIdTokenVerifier, CoreProviderMetadata};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce, RedirectUrl};

    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_client("es", false, true).await;
    let mut rs = gatehouse::store::clients::find(&server.state.db, "es")
        .await
        .unwrap()
        .unwrap();
    rs.client_id = "rs".into();
    rs.id_token_signed_response_alg = "RS256".into();
    gatehouse::store::clients::create(&server.state.db, &rs)
        .await
        .unwrap();
    let browser = Browser::new(&server);

    let es = tokens(&server, &browser, "es").await;
    assert_eq!(
        header(es["id_token"].as_str().unwrap())["alg"],
        "ES256",
        "ES256 stays the default"
    );
    let body = tokens(&server, &browser, "rs").await;
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(header(id_token)["alg"], "RS256");
    assert_eq!(
        header(body["access_token"].as_str().unwrap())["alg"],
        "ES256"
    );

    // A relying party with openidconnect's defaults (RS256 only) accepts it as is.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rs".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let verifier: CoreIdTokenVerifier = client.id_token_verifier();
    let parsed: openidconnect::core::CoreIdToken =
        serde_json::from_value(Value::String(id_token.into())).unwrap();
    parsed
        .claims(&verifier, &Nonce::new("n0nce".into()))
        .expect("RS256 ID token verifies with default settings");
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_stops_start_up_and_writes_nothing() {
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_on(db.clone()).await;
    let before = keys_in(&server).await;

    let config = |master_key: Option<String>, file: String| Config {
        database_url: db.url.clone(),
        master_key,
        master_key_file: file,
        ..Config::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = gatehouse::keys::master::MasterKey::generate().to_base64();
    let err = AppState::start(
        config(Some(wrong.clone()), "unused".into()),
        Clock::system(),
    )
    .await
    .err()
    .expect("a wrong master key is refused");
    assert!(format!("{err:#}").contains("master key"), "{err:#}");

    let missing = dir.path().join("gatehouse.key");
    let err = AppState::start(config(None, missing.display().to_string()), Clock::system())
        .await
        .err()
        .expect("a missing master key is refused");
    assert!(format!("{err:#}").contains("no master key"), "{err:#}");
    assert!(
        !missing.exists(),
        "no new key file for an existing database"
    );

    // The binary says so in one line and exits non-zero.
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_LISTEN", "127.0.0.1:0")
        .env("GATEHOUSE_MASTER_KEY", &wrong)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(!stderr.contains("panicked"));

    assert_eq!(keys_in(&server).await, before, "nothing overwritten");
}
