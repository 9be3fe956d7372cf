//! Two Gatehouse nodes on one database (PostgreSQL when GATEHOUSE_TEST_DATABASE_URL
//! is set): nothing that matters lives in one node's memory.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn sign_in_on_one_node_exchange_refresh_and_log_out_on_the_other() {
    let a = TestServer::start().await;
    let issuer = a.base.clone();
    let b = TestServer::start_with(a.db.clone(), move |c| c.issuer = issuer).await;
    a.add_user("alice", None, None).await;
    let mut app = client("app", false, true, &["authorization_code", "refresh_token"]);
    app.post_logout_redirect_uris = vec!["https://app.example.com/bye".into()];
    gatehouse::store::clients::create(&a.state.db, &app)
        .await
        .unwrap();

    // Node A: the browser signs in.
    let browser = Browser::new(&a);
    let code = obtain_code(&a, &browser, "app", "alice").await;
    // Node B: the code is exchanged and refreshed.
    let (status, tokens) = exchange(&b, "app", &code).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, _, refreshed) = token_request(
        &b,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    // Tokens from one node are good on the other.
    assert_eq!(
        userinfo(&a, refreshed["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );
    let (status, _, replay) = token_request(
        &a,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        status, 200,
        "grace-window replay answered by the other node"
    );
    assert_eq!(replay["refresh_token"], refreshed["refresh_token"]);

    // Node B: logout. Node A sees the session gone.
    let hint = tokens["id_token"].as_str().unwrap();
    let response = browser
        .http
        .get(b.url(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            urlencode("https://app.example.com/bye")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let back = browser
        .get(&authorize_url(&a, "app", "&prompt=none"))
        .await
        .redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("login_required"));
    let jwks_a: Value = reqwest::get(a.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks_b: Value = reqwest::get(b.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks_a, jwks_b, "both nodes publish the same keys");
}
