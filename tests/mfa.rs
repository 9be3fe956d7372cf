//! Two-step sign-in: TOTP, recovery codes, forced enrollment, throttling, audit,
//! the account page and the user commands — driven as a browser would.

mod common;

use common::*;
use gatehouse::auth::totp;
use gatehouse::store::{audit, users};
use serde_json::Value;

async fn setup() -> (TestServer, Browser, String) {
    let server = TestServer::start().await;
    let id = server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    server
        .add_client_with("app", false, true, &["authorization_code", "refresh_token"])
        .await;
    let browser = Browser::new(&server);
    (server, browser, id)
}

/// Password step: returns the second-step page.
async fn password_step(server: &TestServer, browser: &Browser, extra: &str) -> String {
    let (_, login) = browser
        .get(&authorize_url(server, "app", extra))
        .await
        .page();
    let (status, page) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200, "{page}");
    page
}

async fn submit_code(browser: &Browser, page: &str, value: &str) -> Outcome {
    let mut form = Form::parse(page);
    form.set("code", value);
    browser.submit(&form).await
}

async fn exchange_from(server: &TestServer, back: &url::Url) -> Value {
    let (status, body) = exchange(server, "app", &param(back, "code").expect("code")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn shown_codes(page: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(".codes code").unwrap();
    doc.select(&sel).map(|c| c.text().collect()).collect()
}

#[tokio::test]
async fn totp_sign_in_puts_amr_and_acr_in_the_id_token() {
    let (server, browser, id) = setup().await;
    enroll_totp(&server, &id).await;
    let page = password_step(&server, &browser, "").await;
    assert!(page.contains("autocomplete=\"one-time-code\""));
    assert_eq!(Form::parse(&page).action, "/login/mfa");
    let back = submit_code(&browser, &page, &totp_code(&server))
        .await
        .redirect();
    let tokens = exchange_from(&server, &back).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["amr"], serde_json::json!(["pwd", "otp"]));
    assert_eq!(id_token["acr"], "2");

    // The refreshed ID token says the same.
    let (_, _, refreshed) = token_request(
        &server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    let again = jwt_claims(refreshed["id_token"].as_str().unwrap());
    assert_eq!(again["amr"], id_token["amr"]);
    assert_eq!(again["acr"], "2");
}

#[tokio::test]
async fn password_only_users_get_pwd_and_acr_1() {
    let (server, browser, _) = setup().await;
    let back = browser
        .authorize(&authorize_url(&server, "app", ""), "alice")
        .await;
    let tokens = exchange_from(&server, &back).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id_token["acr"], "1");
}

#[tokio::test]
async fn wrong_replayed_and_skewed_codes() {
    let (server, browser, id) = setup().await;
    enroll_totp(&server, &id).await;
    let page = password_step(&server, &browser, "").await;
    let (status, again) = submit_code(&browser, &page, "000000").await.page();
    assert_eq!(status, 401);
    assert!(again.contains("not valid"));
    assert!(
        again.contains("aria-invalid=\"true\""),
        "the error sits at the field"
    );

    // A code from the previous step is still accepted (±1 step).
    let previous = totp::code_at(TOTP_SECRET, server.clock.now() - 30);
    let back = submit_code(&browser, &again, &previous).await.redirect();
    assert!(param(&back, "code").is_some());

    // The same code again, in a new sign-in: refused (RFC 6238 §5.2).
    let other = Browser::new(&server);
    let page = password_step(&server, &other, "").await;
    let (status, _) = submit_code(&other, &page, &previous).await.page();
    assert_eq!(status, 401, "replay refused");
    let current = totp_code(&server);
    let back = submit_code(&other, &page, &current).await.redirect();
    assert!(param(&back, "code").is_some());
    let (status, _) = submit_code(&other, &page, &current).await.page();
    assert_eq!(status, 400, "the request is complete; the page says so");
}

#[tokio::test]
async fn required_policy_forces_enrollment_then_recovery_codes_work_once() {
    let (server, browser, id) = setup().await;
    users::set_mfa_policy(&server.state.db, &id, Some("required"), server.clock.now())
        .await
        .unwrap();
    let page = password_step(&server, &browser, "").await;
    assert_eq!(
        Form::parse(&page).action,
        "/login/mfa/enroll",
        "enrolment before any code"
    );
    assert!(
        page.contains("<img src=\"data:image/svg+xml;base64,"),
        "QR rendered here"
    );
    let secret = shown_secret(&page);
    let (status, retry) = submit_code(&browser, &page, "123456").await.page();
    assert_eq!(status, 401);
    let current = totp::code_at(&secret, server.clock.now());
    let (status, codes_page) = submit_code(&browser, &retry, &current).await.page();
    assert_eq!(status, 200);
    let codes = shown_codes(&codes_page);
    assert_eq!(codes.len(), 10);
    // Continue from the codes page to the client.
    let doc = scraper::Html::parse_document(&codes_page);
    let link = doc
        .select(&scraper::Selector::parse("a.button").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    let back = browser.get(&server.url(&link)).await.redirect();
    let tokens = exchange_from(&server, &back).await;
    assert_eq!(jwt_claims(tokens["id_token"].as_str().unwrap())["acr"], "2");

    // A recovery code instead of the app, once.
    let other = Browser::new(&server);
    let page = password_step(&server, &other, "").await;
    assert_eq!(Form::parse(&page).action, "/login/mfa");
    let back = submit_code(&other, &page, &codes[0].to_uppercase())
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
    let third = Browser::new(&server);
    let page = password_step(&server, &third, "").await;
    let (status, _) = submit_code(&third, &page, &codes[0]).await.page();
    assert_eq!(status, 401, "a recovery code works once");
}

#[tokio::test]
async fn prompt_login_max_age_and_acr_values_ask_for_the_second_factor_again() {
    let (server, browser, id) = setup().await;
    enroll_totp(&server, &id).await;
    let page = password_step(&server, &browser, "").await;
    submit_code(&browser, &page, &totp_code(&server))
        .await
        .redirect();
    server.clock.advance(30);
    for extra in ["&prompt=login", "&max_age=10"] {
        let (_, login) = browser
            .get(&authorize_url(&server, "app", extra))
            .await
            .page();
        assert_eq!(Form::parse(&login).action, "/login", "{extra}");
        let (_, second) = browser.login(&login, "alice", PASSWORD).await.page();
        assert_eq!(Form::parse(&second).action, "/login/mfa", "{extra}");
        let back = submit_code(&browser, &second, &totp_code(&server))
            .await
            .redirect();
        assert!(param(&back, "code").is_some());
        server.clock.advance(30);
    }

    // A password-only session does not satisfy acr_values=2.
    server.add_user("bob", None, None).await;
    let bob = Browser::new(&server);
    bob.authorize(&authorize_url(&server, "app", ""), "bob")
        .await;
    let (_, login) = bob
        .get(&authorize_url(&server, "app", "&acr_values=2"))
        .await
        .page();
    assert_eq!(Form::parse(&login).action, "/login");
    let (_, next) = bob.login(&login, "bob", PASSWORD).await.page();
    assert_eq!(
        Form::parse(&next).action,
        "/login/mfa/enroll",
        "asked for, so set up now"
    );
}

#[tokio::test]
async fn the_second_step_is_bound_to_the_browser_that_gave_the_password() {
    let (server, browser, id) = setup().await;
    enroll_totp(&server, &id).await;
    let page = password_step(&server, &browser, "").await;
    let stranger = Browser::new(&server);
    // The stranger has its own CSRF cookie but not the binding cookie.
    let (_, own_login) = stranger
        .get(&authorize_url(&server, "app", ""))
        .await
        .page();
    let mut form = Form::parse(&page);
    form.set("csrf", Form::parse(&own_login).get("csrf").unwrap());
    form.set("code", &totp_code(&server));
    let (status, _) = stranger.submit(&form).await.page();
    assert_eq!(status, 400);
}

#[tokio::test]
async fn failed_attempts_lock_the_account_across_nodes_with_retry_after() {
    let (server, browser, _) = setup().await;
    for user in ["alice", "nobody"] {
        let (_, mut page) = browser.get(&authorize_url(&server, "app", "")).await.page();
        // Three free attempts; each further failure locks for 1, 2, 4 … seconds.
        for attempt in 1..=7 {
            let (status, next) = browser.login(&page, user, "wrong password").await.page();
            assert_eq!(status, 401, "{user} attempt {attempt}");
            assert!(next.contains("Incorrect username or password."));
            page = next;
            if attempt >= 4 {
                // Locked: an immediate retry is refused even with the right password.
                let response = browser
                    .http
                    .post(server.url("/login"))
                    .form(&{
                        let mut f = Form::parse(&page);
                        f.set("username", user).set("password", PASSWORD);
                        f.fields
                    })
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 429, "{user} after {attempt}");
                let wait: i64 = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(wait, 1 << (attempt - 4), "escalating delay");
                if attempt < 7 {
                    server.clock.advance(wait);
                }
            }
        }
        // Locked now, for known and unknown users alike.
        let response = browser
            .http
            .post(server.url("/login"))
            .form(&{
                let mut f = Form::parse(&page);
                f.set("username", user).set("password", PASSWORD);
                f.fields
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429, "{user}");
        assert!(
            response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
                >= 1
        );
    }

    // A second node on the same database sees the lock.
    let other = TestServer::start_with(server.db.clone(), |_| {}).await;
    let b2 = Browser::new(&other);
    let (_, page) = b2.get(&authorize_url(&other, "app", "")).await.page();
    let response = b2
        .http
        .post(other.url("/login"))
        .form(&{
            let mut f = Form::parse(&page);
            f.set("username", "alice").set("password", PASSWORD);
            f.fields
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);

    // After the delay, the right password works and clears the account's counter.
    server.clock.advance(8);
    let (_, page) = browser.get(&authorize_url(&server, "app", "")).await.page();
    let back = browser.login(&page, "alice", PASSWORD).await.redirect();
    assert!(param(&back, "code").is_some());

    let events = audit::recent(&server.state.db, 100).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["login_failed", "login_locked", "login_ok"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let failed = events.iter().find(|e| e.kind == "login_failed").unwrap();
    assert_eq!(failed.client_id.as_deref(), Some("app"));
    assert!(failed.ip.is_some());
}

fn cli(server: &TestServer, args: &[&str]) -> std::process::Output {
    server.cli(args)
}

#[tokio::test]
async fn user_commands_set_reset_disable_and_enable() {
    let (server, browser, id) = setup().await;
    let back = browser
        .authorize(&authorize_url(&server, "app", ""), "alice")
        .await;
    let tokens = exchange_from(&server, &back).await;

    assert!(cli(&server, &["user", "set-mfa", "alice", "required"])
        .status
        .success());
    let fresh = Browser::new(&server);
    let page = password_step(&server, &fresh, "").await;
    assert_eq!(Form::parse(&page).action, "/login/mfa/enroll");

    enroll_totp(&server, &id).await;
    assert!(cli(&server, &["user", "reset-mfa", "alice"])
        .status
        .success());
    let stored = users::find(&server.state.db, &id).await.unwrap().unwrap();
    assert!(stored.totp_secret.is_none());

    let out = cli(&server, &["user", "disable", "alice", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        userinfo(&server, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let (status, _, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    let (_, page) = Browser::new(&server)
        .get(&authorize_url(&server, "app", ""))
        .await
        .page();
    let (status, again) = Browser::new(&server)
        .login(&page, "alice", PASSWORD)
        .await
        .page();
    assert!(status == 401 || status == 403, "{status}");
    let _ = again;

    assert!(cli(&server, &["user", "enable", "alice"]).status.success());
    assert!(cli(&server, &["user", "set-mfa", "alice", "optional"])
        .status
        .success());
    let b = Browser::new(&server);
    let back = b
        .authorize(&authorize_url(&server, "app", ""), "alice")
        .await;
    assert!(param(&back, "code").is_some());

    assert!(!cli(&server, &["user", "disable", "ghost"]).status.success());
    assert!(!cli(&server, &["user", "set-mfa", "alice", "sometimes"])
        .status
        .success());

    let out = cli(&server, &["audit", "tail", "--json", "--limit", "200"]);
    assert!(out.status.success());
    let events: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["user_disabled", "user_enabled", "mfa_reset", "login_ok"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
}
