//! Expired authorization requests and codes are purged; live ones are kept.

mod common;

use common::*;
use gatehouse::store::entities::{authorization_codes, authorization_requests};
use sea_orm::{EntityTrait, PaginatorTrait};

#[tokio::test]
async fn expired_rows_are_purged_and_live_ones_kept() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let code = obtain_code(&server, &browser, "app", "alice").await;
    // One request left waiting at the login page.
    Browser::new(&server)
        .get(&authorize_url(&server, "app", ""))
        .await
        .page();
    let db = &server.state.db;
    let count_requests = || authorization_requests::Entity::find().count(db);
    let count_codes = || authorization_codes::Entity::find().count(db);
    assert_eq!(count_requests().await.unwrap(), 1);
    assert_eq!(count_codes().await.unwrap(), 1);

    gatehouse::housekeeping::run_once(&server.state)
        .await
        .unwrap();
    assert_eq!(count_requests().await.unwrap(), 1, "live request kept");
    assert_eq!(count_codes().await.unwrap(), 1, "live code kept");

    server.clock.advance(3600 + 61);
    gatehouse::housekeeping::run_once(&server.state)
        .await
        .unwrap();
    assert_eq!(count_requests().await.unwrap(), 0);
    assert_eq!(count_codes().await.unwrap(), 0);
    let (status, body) = exchange(&server, "app", &code).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}
