//! The refresh_token grant: rotation, families, reuse detection, the grace window
//! under concurrency, binding, scope narrowing and session binding.

mod common;

use std::sync::Arc;

use common::*;
use gatehouse::store::entities::{audit_events, refresh_tokens};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

const GRANTS: &[&str] = &["authorization_code", "refresh_token"];

async fn setup_with(adjust: impl FnOnce(&mut gatehouse::config::Config)) -> (TestServer, Browser) {
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, adjust).await;
    server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    server.add_client_with("app", false, true, GRANTS).await;
    server.add_client_with("other", false, true, GRANTS).await;
    let browser = Browser::new(&server);
    (server, browser)
}

async fn setup() -> (TestServer, Browser) {
    setup_with(|_| {}).await
}

/// Signs in with `scope` (consenting when asked) and exchanges the code.
async fn first_tokens(server: &TestServer, browser: &Browser, scope: &str) -> Value {
    let url = authorize_url(server, "app", "").replace(
        "scope=openid%20email%20profile",
        &format!("scope={}", urlencode(scope)),
    );
    let back = browser.authorize(&url, "alice").await;
    let (status, body) = exchange(server, "app", &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(
    server: &TestServer,
    client: &str,
    token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let (status, headers, body) = token_request(server, Some((client, SECRET)), &form).await;
    assert_eq!(headers["cache-control"], "no-store");
    (status, body)
}

fn assert_invalid_grant(status: StatusCode, body: &Value) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
}

#[tokio::test]
async fn rotation_issues_new_tokens_with_a_stable_id_token() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid email").await;
    let r1 = first["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string();
    assert_eq!(r1.len(), 43, "256-bit opaque token");

    server.clock.advance(2);
    let (status, second) = refresh(&server, "app", &r1, None).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r2, r1);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["scope"], "openid email");

    let before = jwt_claims(first["id_token"].as_str().unwrap());
    let after = jwt_claims(second["id_token"].as_str().unwrap());
    for claim in ["iss", "sub", "aud", "auth_time", "azp", "sid"] {
        assert_eq!(before[claim], after[claim], "{claim} unchanged");
    }
    assert!(after["iat"].as_i64() > before["iat"].as_i64(), "new iat");
    assert!(
        after.get("nonce").is_none(),
        "no nonce on refresh (OIDC Core §12.2)"
    );
    assert_eq!(
        userinfo(&server, second["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );

    // The new token rotates in turn.
    let (status, third) = refresh(&server, "app", r2, None).await;
    assert_eq!(status, 200);
    assert_ne!(third["refresh_token"], second["refresh_token"]);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_family() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (_, second) = refresh(&server, "app", &r1, None).await;
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    let access2 = second["access_token"].as_str().unwrap().to_string();

    server.clock.advance(6);
    let (status, body) = refresh(&server, "app", &r1, None).await;
    assert_invalid_grant(status, &body);
    // The whole family is dead: the live successor and the access tokens too.
    let (status, body) = refresh(&server, "app", &r2, None).await;
    assert_invalid_grant(status, &body);
    assert_eq!(userinfo(&server, &access2).await.0, 401);
    assert_eq!(
        userinfo(&server, first["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let events = audit_events::Entity::find()
        .filter(audit_events::Column::Kind.eq("refresh_reuse_detected"))
        .all(&server.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].client_id.as_deref(), Some("app"));
    assert!(events[0].ip.is_some());
}

#[tokio::test]
async fn replay_within_the_grace_window_returns_the_same_successor() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (_, a) = refresh(&server, "app", &r1, None).await;
    server.clock.advance(3);
    let (status, b) = refresh(&server, "app", &r1, None).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    // Still one family, still alive.
    let (status, _) = refresh(&server, "app", a["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn grace_window_zero_turns_replay_into_reuse() {
    let (server, browser) = setup_with(|c| c.refresh_grace_period = 0).await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (_, a) = refresh(&server, "app", &r1, None).await;
    let (status, body) = refresh(&server, "app", &r1, None).await;
    assert_invalid_grant(status, &body);
    let (status, body) = refresh(&server, "app", a["refresh_token"].as_str().unwrap(), None).await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn twenty_concurrent_refreshes_get_one_successor() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let server = server.clone();
        let r1 = r1.clone();
        tasks.push(tokio::spawn(async move {
            refresh(&server, "app", &r1, None).await
        }));
    }
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        successors.insert(body["refresh_token"].as_str().unwrap().to_string());
    }
    assert_eq!(successors.len(), 1, "one identical successor for all");
    let children = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::ParentHash.eq(gatehouse::secrets::hash_token(&r1)))
        .count(&server.state.db)
        .await
        .unwrap();
    assert_eq!(children, 1, "the chain has exactly one successor");
    let successor = successors.into_iter().next().unwrap();
    let (status, _) = refresh(&server, "app", &successor, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn tokens_are_bound_to_client_and_scope() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid email").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();

    let (status, body) = refresh(&server, "other", &r1, None).await;
    assert_invalid_grant(status, &body);

    let (status, body) = refresh(&server, "app", &r1, Some("openid email profile")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");

    let (status, body) = refresh(&server, "app", &r1, Some("openid")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid");
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["scope"],
        "openid"
    );
    // Narrowing affects the access token only; the chain keeps its scope (RFC 6749 §6).
    let (_, next) = refresh(
        &server,
        "app",
        body["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(next["scope"], "openid email");

    // Garbage and missing tokens.
    let (status, body) = refresh(&server, "app", "not-a-token", None).await;
    assert_invalid_grant(status, &body);
    let (status, _, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[("grant_type", "refresh_token")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn clients_without_the_refresh_grant_get_no_refresh_token() {
    let (server, browser) = setup().await;
    server.add_client("plain", false, true).await;
    let back = browser
        .authorize(&authorize_url(&server, "plain", ""), "alice")
        .await;
    let (status, body) = exchange(&server, "plain", &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.get("refresh_token").is_none());
    let first = first_tokens(&server, &browser, "openid").await;
    let (status, body) = refresh(
        &server,
        "plain",
        first["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
}

/// Tokens of one sign-in without and one with offline_access.
async fn online_and_offline(server: &TestServer, browser: &Browser) -> (Value, Value) {
    let online = first_tokens(server, browser, "openid").await;
    // offline_access needs consent even from a skip-consent client (OIDC Core §11).
    let url = authorize_url(server, "app", "").replace(
        "scope=openid%20email%20profile",
        "scope=openid%20offline_access",
    );
    let (status, page) = browser.get(&url).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/consent\"") && page.contains("offline_access"));
    let back = browser.consent(&page, "allow").await.redirect();
    let (_, offline) = exchange(server, "app", &param(&back, "code").unwrap()).await;
    assert_eq!(offline["scope"], "openid offline_access");
    (online, offline)
}

#[tokio::test]
async fn without_offline_access_the_family_ends_with_the_session() {
    let (server, browser) = setup().await;
    let (online, offline) = online_and_offline(&server, &browser).await;

    // The browser session expires (8 h by default).
    server.clock.advance(8 * 3600 + 1);
    let (status, body) = refresh(
        &server,
        "app",
        online["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_invalid_grant(status, &body);
    let (status, body) = refresh(
        &server,
        "app",
        offline["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 200, "offline access outlives the session: {body}");
}

#[tokio::test]
async fn idle_and_absolute_lifetimes_end_the_chain() {
    let (server, browser) = setup_with(|c| {
        c.refresh_token_idle_ttl = 100;
        c.grant_ttl = 250;
    })
    .await;
    let first = first_tokens(&server, &browser, "openid").await;
    server.clock.advance(101);
    let (status, body) = refresh(
        &server,
        "app",
        first["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_invalid_grant(status, &body);

    let mut token = first_tokens(&server, &browser, "openid").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..2 {
        server.clock.advance(90);
        let (status, body) = refresh(&server, "app", &token, None).await;
        assert_eq!(status, 200, "used within the idle lifetime: {body}");
        token = body["refresh_token"].as_str().unwrap().to_string();
    }
    server.clock.advance(90);
    let (status, body) = refresh(&server, "app", &token, None).await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn code_reuse_also_kills_the_refresh_token() {
    let (server, browser) = setup().await;
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let (_, first) = exchange(&server, "app", &code).await;
    let (status, _) = exchange(&server, "app", &code).await;
    assert_eq!(status, 400);
    let (status, body) = refresh(
        &server,
        "app",
        first["refresh_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn an_old_token_is_reuse_once_its_successor_was_used_even_within_the_window() {
    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (_, a) = refresh(&server, "app", &r1, None).await;
    let (status, _) = refresh(&server, "app", a["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(status, 200);
    // R1 again, within its grace window, after R2 was used: a thief walking the chain.
    let (status, body) = refresh(&server, "app", &r1, None).await;
    assert_invalid_grant(status, &body);
}

/// Chains rotated before rotation became a single insert marked the parent row used
/// and kept the sealed successor there; such a token must still get its successor
/// within the grace window, and count as reuse after it.
#[tokio::test]
async fn a_token_rotated_the_earlier_way_still_replays_and_is_reuse_later() {
    use gatehouse::secrets::{hash_token, random_token, seal_with_token};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    let (server, browser) = setup().await;
    let first = first_tokens(&server, &browser, "openid").await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let db = &server.state.db;
    let now = server.clock.now();
    let parent = refresh_tokens::Entity::find_by_id(hash_token(&r1))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let successor = random_token();
    let mut child = parent.clone().into_active_model();
    child.token_hash = Set(hash_token(&successor));
    child.parent_hash = Set(Some(parent.token_hash.clone()));
    child.issued_at = Set(now);
    child.sealed_by_parent = Set(None);
    child.insert(db).await.unwrap();
    let mut old = parent.into_active_model();
    old.used_at = Set(Some(now));
    old.successor_hash = Set(Some(hash_token(&successor)));
    old.successor_sealed = Set(Some(seal_with_token(&r1, &successor)));
    old.update(db).await.unwrap();

    server.clock.advance(2);
    let (status, replay) = refresh(&server, "app", &r1, None).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["refresh_token"], successor.as_str());

    server.clock.advance(10);
    let (status, body) = refresh(&server, "app", &r1, None).await;
    assert_invalid_grant(status, &body);
    let (status, body) = refresh(&server, "app", &successor, None).await;
    assert_invalid_grant(status, &body);
}

/// The one-statement rotation the token endpoint tries first must refuse whatever
/// the full checks refuse (the endpoint then reads the token to say why).
#[tokio::test]
async fn the_one_statement_rotation_applies_every_rule() {
    use gatehouse::store::refresh_tokens::rotate_if_usable;

    let (server, browser) = setup().await;
    let (online, offline) = online_and_offline(&server, &browser).await;
    let online = online["refresh_token"].as_str().unwrap();
    let offline = offline["refresh_token"].as_str().unwrap();
    let db = &server.state.db;
    let ttl = 3600;
    server.clock.advance(8 * 3600 + 1); // the browser session has expired
    let now = server.clock.now();

    let attempt = |token: String, client: &'static str| async move {
        rotate_if_usable(db, &token, client, now, ttl)
            .await
            .unwrap()
    };
    assert!(
        attempt(online.into(), "app").await.is_none(),
        "session ended"
    );
    assert!(
        attempt(offline.into(), "other").await.is_none(),
        "another client"
    );
    assert!(attempt("no-such-token".into(), "app").await.is_none());
    let (row, successor) = attempt(offline.into(), "app")
        .await
        .expect("offline outlives the session");
    assert_eq!(
        row.parent_hash.as_deref(),
        Some(gatehouse::secrets::hash_token(offline).as_str())
    );
    assert_eq!(row.token_hash, gatehouse::secrets::hash_token(&successor));
    assert_eq!(row.expires_at, now + ttl);
    assert!(
        attempt(offline.into(), "app").await.is_none(),
        "already rotated"
    );

    // A disabled user (here without the revocation that `user disable` adds) and a
    // revoked grant stop it too.
    let (status, body) = refresh(&server, "app", &successor, None).await;
    assert_eq!(status, 200, "{body}");
    let next = body["refresh_token"].as_str().unwrap().to_string();
    let grant = gatehouse::store::grants::find(db, &row.grant_id)
        .await
        .unwrap()
        .unwrap();
    gatehouse::store::users::set_disabled(db, &grant.user_id, true, now)
        .await
        .unwrap();
    assert!(
        attempt(next.clone(), "app").await.is_none(),
        "user disabled"
    );
    gatehouse::store::users::set_disabled(db, &grant.user_id, false, now)
        .await
        .unwrap();
    gatehouse::store::grants::revoke(db, &grant.id, "test", now)
        .await
        .unwrap();
    assert!(attempt(next, "app").await.is_none(), "grant revoked");
}
