//! Recovery codes and client secrets at rest: keyed digests (HMAC-SHA-256 under a
//! key derived from the master key); digests written before as plain SHA-256 keep
//! working, and client secrets are upgraded on use.

mod common;

use common::*;
use gatehouse::secrets::{hash_token, CLIENT_SECRETS, RECOVERY_CODES};
use gatehouse::store::entities::{clients as client_rows, recovery_codes as code_rows};
use gatehouse::store::{clients, recovery_codes};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

#[tokio::test]
async fn recovery_codes_are_keyed_and_old_ones_still_work() {
    let server = TestServer::start().await;
    let alice = server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    enroll_totp(&server, &alice).await;
    let key = server.state.keys.master().digest_key(RECOVERY_CODES);
    recovery_codes::replace(
        &server.state.db,
        &key,
        &alice,
        &["abcd-efgh-ijkl".into()],
        0,
    )
    .await
    .unwrap();
    // A code stored the old way, as plain SHA-256.
    code_rows::ActiveModel {
        code_hash: Set(hash_token("oldcode12345678")),
        user_id: Set(alice.clone()),
        created_at: Set(0),
        used_at: Set(None),
    }
    .insert(&server.state.db)
    .await
    .unwrap();
    let rows = code_rows::Entity::find()
        .filter(code_rows::Column::UserId.eq(alice.as_str()))
        .all(&server.state.db)
        .await
        .unwrap();
    let keyed: Vec<_> = rows
        .iter()
        .filter(|r| r.code_hash.starts_with("h1."))
        .collect();
    assert_eq!(keyed.len(), 1, "new codes are keyed digests");
    assert_ne!(keyed[0].code_hash, hash_token("abcdefghijkl"));

    for code in ["oldc-ode1-2345-678", "abcd-efgh-ijkl"] {
        let browser = Browser::new(&server);
        let (_, login) = browser.get(&authorize_url(&server, "app", "")).await.page();
        let (_, step) = browser.login(&login, "alice", PASSWORD).await.page();
        let mut form = Form::parse(&step);
        form.set("code", code);
        let back = browser.submit(&form).await.redirect();
        assert!(param(&back, "code").is_some(), "{code}");
        // Once only.
        let (_, login) = browser
            .get(&authorize_url(&server, "app", "&prompt=login"))
            .await
            .page();
        let (_, step) = browser.login(&login, "alice", PASSWORD).await.page();
        let mut form = Form::parse(&step);
        form.set("code", code);
        let (status, _) = browser.submit(&form).await.page();
        assert_eq!(status, 401, "{code} works once");
    }
}

#[tokio::test]
async fn client_secrets_stored_the_old_way_are_upgraded_on_use() {
    let server = TestServer::start().await;
    // The test helper registers clients with plain SHA-256, as before keyed digests.
    server
        .add_client_with("machine", false, true, &["client_credentials"])
        .await;
    let stored = |server: &TestServer| {
        let db = server.state.db.clone();
        async move {
            client_rows::Entity::find_by_id("machine".to_string())
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .secret_hash
                .unwrap()
        }
    };
    assert_eq!(stored(&server).await, hash_token(SECRET));
    let request = [("grant_type", "client_credentials")];
    let (status, _, _) = token_request(&server, Some(("machine", SECRET)), &request).await;
    assert_eq!(status, 200);
    let upgraded = stored(&server).await;
    assert!(upgraded.starts_with("h1."), "{upgraded}");
    let key = server.state.keys.master().digest_key(CLIENT_SECRETS);
    assert_eq!(upgraded, key.digest(SECRET));
    // Still works, and a wrong secret still fails.
    let (status, _, _) = token_request(&server, Some(("machine", SECRET)), &request).await;
    assert_eq!(status, 200);
    let (status, _, _) = token_request(&server, Some(("machine", "wrong")), &request).await;
    assert_eq!(status, 401);
    assert!(clients::find(&server.state.db, "machine")
        .await
        .unwrap()
        .is_some());
}
