//! Open sign-up (GATEHOUSE_REGISTRATION=open): the account exists only once the
//! mailed link confirms the address; allowed domains, an address that has an
//! account, a taken username, used and expired links, throttling, closed modes.

mod common;

use std::sync::Arc;

use common::smtp::SmtpServer;
use common::*;
use gatehouse::config::{Config, Registration};
use gatehouse::store::users;

async fn open_server(adjust: impl FnOnce(&mut Config)) -> (SmtpServer, TestServer) {
    let smtp = SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let url = smtp.url.clone();
    let server = TestServer::start_with(db, move |config| {
        common::smtp::configure(config, &url);
        config.registration = Registration::Open;
        adjust(config);
    })
    .await;
    (smtp, server)
}

/// Fills "Create an account"; the answer.
async fn sign_up(
    server: &TestServer,
    browser: &Browser,
    username: &str,
    email: &str,
    password: &str,
) -> (u16, String) {
    let (status, page) = browser.get(&server.url("/signup")).await.page();
    assert_eq!(status, 200, "{page}");
    let mut form = form_at(&page, "/signup");
    form.set("username", username)
        .set("email", email)
        .set("password", password);
    let (status, page) = browser.submit(&form).await.page();
    (status.as_u16(), page)
}

#[tokio::test]
async fn an_account_is_created_once_its_address_is_confirmed() {
    let (smtp, server) = open_server(|_| {}).await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    assert!(login.contains("href=\"/signup\""), "{login}");
    let (status, page) = sign_up(
        &server,
        &browser,
        "Pat",
        "pat@example.test",
        "pat's password",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("We sent a link to <strong>pat@example.test</strong>"),
        "{page}"
    );
    let mail = smtp.wait_for("pat@example.test", 1).await;
    assert_eq!(
        mail.subject,
        "Confirm your address to create your Gatehouse account"
    );
    let link = mail.link("/signup/confirm");
    // No account before the link is used: nobody signs in as pat.
    assert!(users::find_by_username(&server.state.db, "pat")
        .await
        .unwrap()
        .is_none());
    let (_, page) = browser.get(&link).await.page();
    assert!(page.contains("as <strong>pat</strong>"), "{page}");
    assert!(users::find_by_username(&server.state.db, "pat")
        .await
        .unwrap()
        .is_none());
    let (status, page) = browser
        .submit(&form_at(&page, "/signup/confirm"))
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account is ready"));
    let pat = users::find_by_username(&server.state.db, "pat")
        .await
        .unwrap()
        .unwrap();
    assert!(pat.email_verified);
    assert_eq!(
        audit_events(&server, "user_registered").await[0]
            .user_id
            .as_deref(),
        Some(pat.id.as_str())
    );
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser.login(&login, "pat", "pat's password").await.page();
    assert_eq!(status, 200);
    assert!(page.contains("Your account"));
    // Used once.
    let (status, _) = browser.get(&link).await.page();
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sign_up_refuses_what_it_must() {
    let (smtp, server) = open_server(|config| {
        config.registration_domains = "example.test, Corp.Example".into();
    })
    .await;
    server
        .add_user("taken", Some("owner@example.test"), None)
        .await;
    let browser = Browser::new(&server);
    let (status, page) = sign_up(
        &server,
        &browser,
        "quinn",
        "quinn@elsewhere.test",
        "a long password",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Sign-up takes addresses at example.test, corp.example only."),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    let (status, page) = sign_up(&server, &browser, "quinn", "quinn@corp.example", "short").await;
    assert_eq!(status, 400);
    assert!(page.contains("at least 8 characters"), "{page}");
    let (status, page) = sign_up(
        &server,
        &browser,
        "taken",
        "quinn@corp.example",
        "a long password",
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("This username is taken."), "{page}");
    let (status, page) = sign_up(
        &server,
        &browser,
        "quinn",
        "not-an-address",
        "a long password",
    )
    .await;
    assert_eq!(status, 400, "{page}");
    // An address that has an account: the same answer; its owner hears of it.
    let (status, page) = sign_up(
        &server,
        &browser,
        "rita",
        "owner@example.test",
        "a long password",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("We sent a link"));
    let mail = smtp.wait_for("owner@example.test", 1).await;
    assert_eq!(mail.subject, "You already have a Gatehouse account");
    assert!(mail.text.contains("/login/forgot"));
    assert!(!mail.text.contains("/signup/confirm"));
    assert!(users::find_by_username(&server.state.db, "rita")
        .await
        .unwrap()
        .is_none());
    // A link expires after 24 hours.
    sign_up(
        &server,
        &browser,
        "sam",
        "sam@example.test",
        "a long password",
    )
    .await;
    let link = smtp
        .wait_for("sam@example.test", 1)
        .await
        .link("/signup/confirm");
    server.clock.advance(24 * 3600 + 1);
    let (status, page) = browser.get(&link).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("Sign up again"), "{page}");
}

#[tokio::test]
async fn a_username_taken_before_the_link_is_used_is_refused_then() {
    let (smtp, server) = open_server(|_| {}).await;
    let browser = Browser::new(&server);
    sign_up(
        &server,
        &browser,
        "tess",
        "tess@example.test",
        "a long password",
    )
    .await;
    let link = smtp
        .wait_for("tess@example.test", 1)
        .await
        .link("/signup/confirm");
    server.add_user("tess", None, None).await;
    let (_, page) = browser.get(&link).await.page();
    let (status, page) = browser
        .submit(&form_at(&page, "/signup/confirm"))
        .await
        .page();
    assert_eq!(status, 400);
    assert!(page.contains("was taken meanwhile"), "{page}");
}

#[tokio::test]
async fn sign_up_is_throttled_per_address() {
    let (_smtp, server) = open_server(|config| config.throttle_ip_attempts = 2).await;
    let browser = Browser::new(&server);
    for name in ["uma", "vic", "wes"] {
        let (status, _) = sign_up(
            &server,
            &browser,
            name,
            &format!("{name}@example.test"),
            "a long password",
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, page) = sign_up(
        &server,
        &browser,
        "xan",
        "xan@example.test",
        "a long password",
    )
    .await;
    assert_eq!(status, 429, "{page}");
}

#[tokio::test]
async fn sign_up_is_closed_unless_open_with_mail() {
    for (registration, smtp) in [
        (Registration::Off, true),
        (Registration::Invite, true),
        (Registration::Open, false),
    ] {
        let mail = SmtpServer::start().await;
        let db = Arc::new(TestDb::new().await);
        let server = TestServer::start_with(db, |config| {
            config.registration = registration;
            if smtp {
                common::smtp::configure(config, &mail.url);
            }
        })
        .await;
        let browser = Browser::new(&server);
        let (_, login) = browser.get(&server.url("/account")).await.page();
        assert!(!login.contains("/signup"), "{registration:?}");
        for path in ["/signup", "/signup/confirm?token=x"] {
            let (status, page) = browser.get(&server.url(path)).await.page();
            assert_eq!(status, 404, "{registration:?} {path}");
            assert!(page.contains("made by its administrators"));
        }
    }
}
