//! Behind a reverse proxy: the client address comes from trusted proxies only, and
//! lockouts cannot be aimed at a victim who signs in from a known device.

mod common;

use std::sync::Arc;

use common::*;
use gatehouse::store::{audit, sessions};
use reqwest::StatusCode;

/// Posts the login form of a fresh request as `username`, with `forwarded_for`
/// in X-Forwarded-For (as a proxy would add it); returns status and body.
async fn login_via(
    server: &TestServer,
    browser: &Browser,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    // prompt=login: the login page even for a browser already signed in.
    let url = authorize_url(server, "app", "&prompt=login");
    let (_, page) = browser.get(&url).await.page();
    let mut form = Form::parse(&page);
    form.set("username", username).set("password", password);
    let mut request = browser.http.post(server.url("/login")).form(&form.fields);
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn server_with(adjust: impl FnOnce(&mut gatehouse::config::Config)) -> TestServer {
    let server = TestServer::start_with(Arc::new(TestDb::new().await), adjust).await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    server
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_address() {
    let server = server_with(|c| c.trusted_proxies = "127.0.0.1".into()).await;
    let browser = Browser::new(&server);
    // 21 failures from one client (each for another name: no account is locked).
    for i in 0..21 {
        let (status, _, _) = login_via(
            &server,
            &browser,
            Some("198.51.100.1"),
            &format!("nobody{i}"),
            "x",
        )
        .await;
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, _, _) =
        login_via(&server, &browser, Some("198.51.100.1"), "alice", PASSWORD).await;
    assert_eq!(status, 429, "that client is slowed down");
    // Another client behind the same proxy is not.
    let (status, headers, _) = login_via(
        &server,
        &browser,
        Some("203.0.113.5, 198.51.100.77"),
        "alice",
        PASSWORD,
    )
    .await;
    assert_eq!(status, 303, "signed in");
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/authorize/continue"));

    let events = audit::recent(&server.state.db, 100).await.unwrap();
    let failed = events.iter().find(|e| e.kind == "login_failed").unwrap();
    assert_eq!(failed.ip.as_deref(), Some("198.51.100.1"));
    let ok = events.iter().find(|e| e.kind == "login_ok").unwrap();
    assert_eq!(
        ok.ip.as_deref(),
        Some("198.51.100.77"),
        "the rightmost untrusted hop"
    );
    let alice = ok.user_id.clone().unwrap();
    let live = sessions::list_active(&server.state.db, &alice, server.clock.now())
        .await
        .unwrap();
    assert_eq!(live[0].ip.as_deref(), Some("198.51.100.77"));
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let server = server_with(|_| {}).await;
    let browser = Browser::new(&server);
    for i in 0..21 {
        // A different forged address each time: none of them is believed.
        let forged = format!("198.51.100.{i}");
        let (status, _, _) =
            login_via(&server, &browser, Some(&forged), &format!("nobody{i}"), "x").await;
        assert_eq!(status, 401);
    }
    let (status, headers, _) =
        login_via(&server, &browser, Some("203.0.113.5"), "alice", PASSWORD).await;
    assert_eq!(status, 429, "the peer 127.0.0.1 spent its budget");
    assert!(headers.contains_key("retry-after"));
    let events = audit::recent(&server.state.db, 5).await.unwrap();
    assert!(events.iter().all(|e| e.ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn a_flood_elsewhere_does_not_lock_out_a_known_device() {
    let server = server_with(|_| {}).await;
    let owner = Browser::new(&server);
    let (status, _, _) = login_via(&server, &owner, None, "alice", PASSWORD).await;
    assert_eq!(status, 303);

    // Someone else locks the account with wrong passwords.
    let attacker = Browser::new(&server);
    for _ in 0..6 {
        login_via(&server, &attacker, None, "alice", "guess").await;
    }
    let (status, headers, body) = login_via(&server, &attacker, None, "alice", PASSWORD).await;
    assert_eq!(status, 429, "unknown devices keep the account's limit");
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(body.contains(&format!("Wait {wait} second")), "{body}");
    assert!(
        body.contains("href=\"/login?request_id="),
        "links back: {body}"
    );

    // The owner's browser signed in before: its own budget, untouched.
    let (status, _, _) = login_via(&server, &owner, None, "alice", PASSWORD).await;
    assert_eq!(status, 303, "the owner is not locked out");

    // That budget is real: five wrong passwords from the owner's browser, then a delay.
    for attempt in 1..=5 {
        let (status, _, _) = login_via(&server, &owner, None, "alice", "typo").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let (status, _, _) = login_via(&server, &owner, None, "alice", "typo").await;
    assert_eq!(status, 401);
    let (status, _, _) = login_via(&server, &owner, None, "alice", PASSWORD).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn a_forged_device_cookie_is_no_device() {
    let server = server_with(|_| {}).await;
    let attacker = Browser::new(&server);
    for _ in 0..6 {
        login_via(&server, &attacker, None, "alice", "guess").await;
    }
    // A cookie of the right name with a made-up value does not escape the lock.
    let alice = gatehouse::store::users::find_by_username(&server.state.db, "alice")
        .await
        .unwrap()
        .unwrap();
    let name = format!(
        "gatehouse_device_{}",
        &gatehouse::secrets::hash_token(&alice.id)[..16]
    );
    let url = url::Url::parse(&server.base).unwrap();
    attacker
        .jar
        .add_cookie_str(&format!("{name}=AAAA.99999999999.BBBB; Path=/"), &url);
    let (status, _, _) = login_via(&server, &attacker, None, "alice", PASSWORD).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn throttle_budgets_are_settings() {
    let server = server_with(|c| {
        c.throttle_account_attempts = 1;
        c.throttle_max_lock = 2;
    })
    .await;
    let browser = Browser::new(&server);
    let (status, _, _) = login_via(&server, &browser, None, "alice", "guess").await;
    assert_eq!(status, 401, "one free failure");
    let (status, _, _) = login_via(&server, &browser, None, "alice", "guess").await;
    assert_eq!(status, 401);
    let (status, headers, _) = login_via(&server, &browser, None, "alice", PASSWORD).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    for _ in 0..4 {
        server.clock.advance(5);
        login_via(&server, &browser, None, "alice", "guess").await;
    }
    let (_, headers, _) = login_via(&server, &browser, None, "alice", PASSWORD).await;
    assert_eq!(
        headers["retry-after"], "2",
        "capped at GATEHOUSE_THROTTLE_MAX_LOCK"
    );
}
