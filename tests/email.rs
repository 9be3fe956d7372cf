//! Mail: address verification and forgotten passwords, end to end, with an SMTP
//! server started by the test that keeps what it receives; every refusal, no
//! account enumeration, the SMTP server down, two nodes.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::smtp::SmtpServer;
use common::*;
use gatehouse::config::Config;
use gatehouse::store::audit;
use gatehouse::store::users;

use common::smtp::FROM;

fn with_mail(smtp: &str) -> impl FnOnce(&mut Config) + '_ {
    move |config: &mut Config| common::smtp::configure(config, smtp)
}

async fn mail_server() -> (SmtpServer, TestServer) {
    let smtp = SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, with_mail(&smtp.url)).await;
    (smtp, server)
}

/// Waits (up to 20 s) for an audit event of `kind`.
async fn wait_for_event(server: &TestServer, kind: &str) -> audit::AuditEvent {
    for _ in 0..200 {
        if let Some(event) = audit_events(server, kind).await.into_iter().next() {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {kind} event");
}

/// A browser signed in to its account page.
async fn account_browser(server: &TestServer, username: &str) -> (Browser, String) {
    let browser = Browser::new(server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser.login(&login, username, PASSWORD).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account"), "{page}");
    (browser, page)
}

/// The link's path and query on `server` (a link names the issuer it was made by).
fn on(server: &TestServer, link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    server.url(&format!(
        "{}?{}",
        url.path(),
        url.query().unwrap_or_default()
    ))
}

/// "Forgot password?" from the login page, for `identifier`: the answer page.
async fn forgot(server: &TestServer, browser: &Browser, identifier: &str) -> (u16, String) {
    let (status, page) = browser.get(&server.url("/login/forgot")).await.page();
    assert_eq!(status, 200, "{page}");
    let mut form = form_at(&page, "/login/forgot");
    form.set("identifier", identifier);
    let (status, page) = browser.submit(&form).await.page();
    (status.as_u16(), page)
}

#[tokio::test]
async fn without_smtp_nothing_offers_mail() {
    let server = TestServer::start().await;
    server.add_user("ann", Some("ann@example.test"), None).await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    assert!(!login.contains("Forgot password"), "{login}");
    for path in [
        "/login/forgot",
        "/login/reset?token=x",
        "/email/verify?token=x",
    ] {
        let (status, page) = browser.get(&server.url(path)).await.page();
        assert_eq!(status, 404, "{path}: {page}");
        assert!(page.contains("does not send mail"));
    }
    let (_, account) = account_browser(&server, "ann").await;
    assert!(account.contains("not confirmed yet"));
    assert!(!account.contains("/account/email/verify"));
}

#[tokio::test]
async fn a_setting_error_names_the_setting() {
    let mut config = Config {
        smtp_url: Some("ftp://mail.example.test".into()),
        mail_from: Some(FROM.into()),
        ..Config::default()
    };
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("GATEHOUSE_SMTP_URL"), "{err}");
    config.smtp_url = Some("smtp://mail.example.test:25".into());
    config.mail_from = None;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("GATEHOUSE_MAIL_FROM"), "{err}");
    config.mail_from = Some("not an address".into());
    assert!(config.validate().is_err());
    config.mail_from = Some(FROM.into());
    config.smtp_username = Some("user".into());
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("GATEHOUSE_SMTP_PASSWORD"), "{err}");
    config.smtp_password = Some("pw".into());
    config.validate().unwrap();
}

#[tokio::test]
async fn an_address_is_confirmed_by_its_link_once() {
    let (smtp, server) = mail_server().await;
    let id = server.add_user("ann", Some("ann@example.test"), None).await;
    server.add_client("app", false, true).await;
    let (browser, account) = account_browser(&server, "ann").await;
    assert!(account.contains("not confirmed yet"));
    let (status, page) = browser
        .submit(&form_at(&account, "/account/email/verify"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        page.contains("We sent a confirmation link to ann@example.test"),
        "{page}"
    );
    let mail = smtp.wait_for("ann@example.test", 1).await;
    assert_eq!(mail.subject, "Confirm your email address for Gatehouse");
    assert!(
        mail.raw.contains("From: Gatehouse <id@example.test>"),
        "{}",
        mail.raw
    );
    assert!(mail.raw.contains("multipart/alternative"));
    let link = mail.link("/email/verify");
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "{}",
        mail.html
    );
    assert!(link.starts_with(&server.base));
    // Opening the link confirms nothing yet (mail scanners open links).
    let (status, page) = browser.get(&link).await.page();
    assert_eq!(status, 200);
    let confirm = form_at(&page, "/email/verify");
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    assert!(!user.email_verified);
    // Any browser may follow it: the link itself is the proof.
    let elsewhere = Browser::new(&server);
    let (_, page) = elsewhere.get(&link).await.page();
    let (status, page) = elsewhere
        .submit(&form_at(&page, "/email/verify"))
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("ann@example.test</strong> is confirmed"),
        "{page}"
    );
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    assert!(user.email_verified);
    assert_eq!(audit_events(&server, "email_verified").await.len(), 1);
    // Used once: the second use is refused.
    let (status, page) = browser.submit(&confirm).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("invalid, expired or already used"), "{page}");
    // Tokens say so.
    let code = obtain_code(&server, &browser, "app", "ann").await;
    let (status, tokens) = exchange(&server, "app", &code).await;
    assert_eq!(status, 200);
    let (_, _, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["email_verified"], true);
    // The account page offers no more links.
    let (_, account) = browser.get(&server.url("/account")).await.page();
    assert!(account.contains("confirmed"));
    assert!(!account.contains("/account/email/verify"));
    // A password changed on the account page is announced by mail.
    let mut change = form_at(&account, "/account/password");
    change
        .set("current_password", PASSWORD)
        .set("new_password", "ann's brand new password");
    let (status, _) = browser.submit(&change).await.page();
    assert_eq!(status, 200);
    let notice = smtp.wait_for("ann@example.test", 2).await;
    assert_eq!(notice.subject, "Your Gatehouse password was changed");
    assert!(
        notice.text.contains("on the account page"),
        "{}",
        notice.text
    );
}

#[tokio::test]
async fn confirmation_links_die_with_time_and_with_a_new_address() {
    let (smtp, server) = mail_server().await;
    let id = server.add_user("bea", Some("bea@example.test"), None).await;
    let (browser, account) = account_browser(&server, "bea").await;
    let send = form_at(&account, "/account/email/verify");
    browser.submit(&send).await.page();
    let first = smtp
        .wait_for("bea@example.test", 1)
        .await
        .link("/email/verify");
    // 24 hours and a second later, the link is dead.
    server.clock.advance(24 * 3600 + 1);
    let (_, page) = browser.get(&first).await.page();
    let (status, page) = browser
        .submit(&form_at(&page, "/email/verify"))
        .await
        .page();
    assert_eq!(status, 400, "{page}");

    // (The session has ended meanwhile: sign in again.)
    let (browser, account) = account_browser(&server, "bea").await;
    let (_, page) = browser
        .submit(&form_at(&account, "/account/email/verify"))
        .await
        .page();
    assert!(page.contains("We sent"), "{page}");
    let second = smtp
        .wait_for("bea@example.test", 2)
        .await
        .link("/email/verify");
    // The address changes before the link is used: it proves nothing of the new one.
    let out = server.cli(&["user", "update", "bea", "--email", "bea@other.test"]);
    assert!(out.status.success(), "{out:?}");
    let (_, page) = browser.get(&second).await.page();
    let (status, _) = browser
        .submit(&form_at(&page, "/email/verify"))
        .await
        .page();
    assert_eq!(status, 400);
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    assert_eq!(user.email.as_deref(), Some("bea@other.test"));
    assert!(!user.email_verified);
    // A made-up token is refused the same way.
    let (_, page) = browser
        .get(&server.url("/email/verify?token=made-up"))
        .await
        .page();
    let (status, page) = browser
        .submit(&form_at(&page, "/email/verify"))
        .await
        .page();
    assert_eq!(status, 400);
    assert!(page.contains("invalid, expired or already used"));
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_mail() {
    let (smtp, server) = mail_server().await;
    let id = server.add_user("cid", Some("cid@example.test"), None).await;
    enroll_totp(&server, &id).await;
    // A browser signed in before the reset.
    let before = Browser::new(&server);
    let (_, login) = before.get(&server.url("/account")).await.page();
    let (_, mfa) = before.login(&login, "cid", PASSWORD).await.page();
    let mut code = Form::parse(&mfa);
    code.set("code", &totp_code(&server));
    let (_, account) = before.submit(&code).await.page();
    assert!(account.contains("Your account"), "{account}");

    // The login page links to the reset page.
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let doc = scraper::Html::parse_document(&login);
    let link = doc
        .select(&scraper::Selector::parse("a").unwrap())
        .find(|a| a.text().collect::<String>() == "Forgot password?")
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("a Forgot password? link");
    assert!(link.starts_with("/login/forgot?request_id="), "{link}");
    let (status, page) = browser.get(&server.url(&link)).await.page();
    assert_eq!(status, 200);
    let mut form = form_at(&page, "/login/forgot");
    form.set("identifier", "CID@example.test");
    let (status, answer) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    assert!(
        answer.contains("If an account matches what you entered"),
        "{answer}"
    );
    assert!(
        answer.contains("href=\"/login?request_id="),
        "back to the same sign-in"
    );

    let mail = smtp.wait_for("cid@example.test", 1).await;
    assert_eq!(mail.subject, "Reset your Gatehouse password");
    assert!(mail.text.contains("15 minutes"));
    let link = mail.link("/login/reset");
    let (status, page) = browser.get(&link).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("<strong>cid</strong>"));
    // Two different passwords, then one too short: the link survives both.
    let mut form = form_at(&page, "/login/reset");
    form.set("new_password", "a new long password")
        .set("confirm_password", "another long password");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("not the same"), "{page}");
    let mut form = form_at(&page, "/login/reset");
    form.set("new_password", "short")
        .set("confirm_password", "short");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("at least 8 characters"), "{page}");
    let mut form = form_at(&page, "/login/reset");
    form.set("new_password", "a new long password")
        .set("confirm_password", "a new long password");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Password changed"), "{page}");

    // The notice follows, the earlier session is over, the link is used up.
    let notice = smtp.wait_for("cid@example.test", 2).await;
    assert_eq!(notice.subject, "Your Gatehouse password was changed");
    let (_, page) = before.get(&server.url("/account")).await.page();
    assert!(page.contains("action=\"/login\""), "signed out: {page}");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("invalid, expired or already used"));
    let (status, _) = browser.get(&link).await.page();
    assert_eq!(status, 400);
    let event = audit_events(&server, "password_reset").await.remove(0);
    assert_eq!(event.user_id.as_deref(), Some(id.as_str()));
    assert!(event.ip.is_some());
    assert_eq!(
        audit_events(&server, "password_reset_requested")
            .await
            .len(),
        1
    );
    // The address the link reached is confirmed by it.
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    assert!(user.email_verified);

    // The old password is gone; the new one still needs the second factor.
    let again = Browser::new(&server);
    let (_, login) = again.get(&server.url("/account")).await.page();
    let (status, _) = again.login(&login, "cid", PASSWORD).await.page();
    assert_eq!(status, 401);
    let (_, login) = again.get(&server.url("/account")).await.page();
    let (status, page) = again
        .login(&login, "cid", "a new long password")
        .await
        .page();
    assert_eq!(status, 200);
    assert_eq!(Form::parse(&page).action, "/login/mfa", "{page}");
}

#[tokio::test]
async fn reset_links_die_when_expired_or_when_the_password_changed() {
    let (smtp, server) = mail_server().await;
    server.add_user("dee", Some("dee@example.test"), None).await;
    let other = server.add_user("eve", Some("eve@example.test"), None).await;
    let browser = Browser::new(&server);
    forgot(&server, &browser, "dee").await;
    let expired = smtp
        .wait_for("dee@example.test", 1)
        .await
        .link("/login/reset");
    server.clock.advance(15 * 60 + 1);
    let (status, page) = browser.get(&expired).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("Link not valid"));

    forgot(&server, &browser, "dee").await;
    let link = smtp
        .wait_for("dee@example.test", 2)
        .await
        .link("/login/reset");
    let (_, page) = browser.get(&link).await.page();
    let mut form = form_at(&page, "/login/reset");
    // The link names its account: a username put in the form changes nothing.
    form.set("username", "eve")
        .set("new_password", "dee's new password")
        .set("confirm_password", "dee's new password");
    // Meanwhile an administrator sets a password: the link is dead.
    let dee = users::find_by_username(&server.state.db, "dee")
        .await
        .unwrap()
        .unwrap();
    let hash = gatehouse::auth::password::hash_blocking("set by the admin").unwrap();
    gatehouse::domain::users::set_password(&server.state.db, &dee, &hash, server.clock.now())
        .await
        .unwrap();
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("invalid, expired or already used"));
    let eve = users::find(&server.state.db, &other)
        .await
        .unwrap()
        .unwrap();
    assert!(gatehouse::auth::password::verify_blocking(
        PASSWORD,
        eve.password_hash.as_deref().unwrap()
    ));
    // A token of another purpose is no reset link.
    let (browser2, account) = account_browser(&server, "eve").await;
    browser2
        .submit(&form_at(&account, "/account/email/verify"))
        .await
        .page();
    let verify = smtp
        .wait_for("eve@example.test", 1)
        .await
        .link("/email/verify");
    let token = verify.split("token=").nth(1).unwrap();
    let (status, _) = browser
        .get(&server.url(&format!("/login/reset?token={token}")))
        .await
        .page();
    assert_eq!(status, 400);
}

#[tokio::test]
async fn forgot_password_answers_the_same_for_every_name() {
    let smtp = SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |config| {
        with_mail(&smtp.url)(config);
        config.throttle_ip_attempts = 1000;
    })
    .await;
    server.add_user("fay", Some("fay@example.test"), None).await;
    let browser = Browser::new(&server);
    let (status_known, known) = forgot(&server, &browser, "fay").await;
    let (status_unknown, unknown) = forgot(&server, &browser, "nobody").await;
    let (status_mail, by_mail) = forgot(&server, &browser, "nobody@example.test").await;
    assert_eq!((status_known, status_unknown, status_mail), (200, 200, 200));
    assert_eq!(known, unknown, "same page for a known and an unknown name");
    assert_eq!(known, by_mail);
    smtp.wait_for("fay@example.test", 1).await;

    // And the same time: the lookup and the mail happen after the answer.
    let mut times = (Vec::new(), Vec::new());
    for round in 0..12 {
        for (known, list) in [(true, &mut times.0), (false, &mut times.1)] {
            let name = if known {
                // A new account each round: each name has its own budget.
                let name = format!("user{round}");
                server
                    .add_user(&name, Some(&format!("{name}@example.test")), None)
                    .await;
                name
            } else {
                format!("ghost{round}")
            };
            let (_, page) = browser.get(&server.url("/login/forgot")).await.page();
            let mut form = form_at(&page, "/login/forgot");
            form.set("identifier", &name);
            let started = Instant::now();
            let (status, _) = browser.submit(&form).await.page();
            list.push(started.elapsed());
            assert_eq!(status, 200);
            if known {
                // The mail goes after the answer; let it go before the next request,
                // so that its writes do not slow that one down.
                smtp.wait_for(&format!("{name}@example.test"), 1).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut times.0), median(&mut times.1));
    let gap = known.abs_diff(unknown);
    eprintln!("forgot password, median answer: known {known:?}, unknown {unknown:?}");
    assert!(
        gap < Duration::from_millis(25),
        "known {known:?} and unknown {unknown:?} names differ by {gap:?}"
    );
}

#[tokio::test]
async fn reset_requests_are_throttled_per_name_address_and_account() {
    let smtp = SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |config| {
        with_mail(&smtp.url)(config);
        config.throttle_ip_attempts = 6;
    })
    .await;
    server.add_user("gil", Some("gil@example.test"), None).await;
    let browser = Browser::new(&server);
    // Per name: three free, a fourth locks it for a second, the fifth waits.
    for _ in 0..4 {
        assert_eq!(forgot(&server, &browser, "gil").await.0, 200);
    }
    let (status, page) = forgot(&server, &browser, "gil").await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Wait 1 second"), "{page}");
    assert!(page.contains("href=\"/login/forgot\""));
    // Per account: at most three links an hour, whichever name asked.
    smtp.wait_for("gil@example.test", 3).await;
    server.clock.advance(2);
    assert_eq!(forgot(&server, &browser, "gil@example.test").await.0, 200);
    let refused = wait_for_event(&server, "password_reset_refused").await;
    assert_eq!(
        refused.detail.as_deref(),
        Some("too many reset mails in the last hour")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.to("gil@example.test").len(), 3);
    // Per address: six requests free (five so far), the seventh locks the address,
    // whatever the name.
    assert_eq!(forgot(&server, &browser, "someone").await.0, 200);
    assert_eq!(forgot(&server, &browser, "someone-else").await.0, 200);
    let (status, _) = forgot(&server, &browser, "a-third-name").await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn with_the_smtp_server_down_the_request_succeeds_and_the_failure_is_audited() {
    let down = SmtpServer::down().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, with_mail(&down)).await;
    let id = server.add_user("hal", Some("hal@example.test"), None).await;
    let browser = Browser::new(&server);
    let (status, page) = forgot(&server, &browser, "hal").await;
    assert_eq!(status, 200);
    assert!(page.contains("If an account matches"));
    let failed = wait_for_event(&server, "mail_failed").await;
    assert_eq!(failed.user_id.as_deref(), Some(id.as_str()));
    let detail = failed.detail.unwrap();
    assert!(
        detail.starts_with("reset_password mail not sent"),
        "{detail}"
    );
    assert!(!detail.contains("token="), "never the link: {detail}");
}

#[tokio::test]
async fn a_link_mailed_by_one_node_works_on_the_other() {
    let smtp = SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let first = TestServer::start_with(db.clone(), with_mail(&smtp.url)).await;
    let second = TestServer::start_with(db, with_mail(&smtp.url)).await;
    first.add_user("ida", Some("ida@example.test"), None).await;
    forgot(&first, &Browser::new(&first), "ida").await;
    let link = smtp
        .wait_for("ida@example.test", 1)
        .await
        .link("/login/reset");
    let browser = Browser::new(&second);
    let (status, page) = browser.get(&on(&second, &link)).await.page();
    assert_eq!(status, 200, "{page}");
    let mut form = form_at(&page, "/login/reset");
    form.set("new_password", "ida's new password")
        .set("confirm_password", "ida's new password");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{page}");
    // Used on the second node, dead on the first.
    let (status, _) = Browser::new(&first).get(&link).await.page();
    assert_eq!(status, 400);
}

/// `gatehouse` on the server's database and issuer, with `env` added.
fn cli(server: &TestServer, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", &server.db.url)
        .env("GATEHOUSE_MASTER_KEY", &server.db.master_key)
        .env("GATEHOUSE_ISSUER", &server.base)
        .env("RUST_LOG", "off");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Sets the password on an invitation page; the answer page.
async fn accept(browser: &Browser, link: &str, password: &str) -> (u16, String) {
    let (status, page) = browser.get(link).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Welcome — choose a password"), "{page}");
    let mut form = form_at(&page, "/login/invite");
    form.set("new_password", password)
        .set("confirm_password", password);
    let (status, page) = browser.submit(&form).await.page();
    (status.as_u16(), page)
}

// Several threads: the command line's process talks to the SMTP server of this
// test while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_from_the_command_line_sets_the_first_password() {
    let (smtp, server) = mail_server().await;
    let mail = [
        ("GATEHOUSE_SMTP_URL", smtp.url.as_str()),
        ("GATEHOUSE_MAIL_FROM", FROM),
    ];
    let out = cli(
        &server,
        &mail,
        &[
            "user",
            "add",
            "ivy",
            "--email",
            "ivy@example.test",
            "--invite",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("invitation mailed to ivy@example.test"),
        "{}",
        text(&out)
    );
    let invitation = smtp.wait_for("ivy@example.test", 1).await;
    assert_eq!(invitation.subject, "You are invited to Gatehouse");
    assert!(invitation.text.contains("7 days"));
    let link = invitation.link("/login/invite");
    assert!(link.starts_with(&server.base), "{link}");
    let ivy = users::find_by_username(&server.state.db, "ivy")
        .await
        .unwrap()
        .unwrap();
    assert!(ivy.password_hash.is_none());
    // No password yet: nobody signs in as ivy.
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, _) = browser.login(&login, "ivy", "").await.page();
    assert_eq!(status, 401);

    let (status, page) = accept(&browser, &link, "ivy's first password").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account is ready"), "{page}");
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser
        .login(&login, "ivy", "ivy's first password")
        .await
        .page();
    assert_eq!(status, 200);
    assert!(page.contains("Your account"), "{page}");
    let ivy = users::find(&server.state.db, &ivy.id)
        .await
        .unwrap()
        .unwrap();
    assert!(ivy.email_verified, "the link reached the address");
    assert_eq!(audit_events(&server, "invitation_accepted").await.len(), 1);
    // Used once; and an account with a password gets no invitation.
    let (status, _) = browser.get(&link).await.page();
    assert_eq!(status, 400);
    let out = cli(&server, &mail, &["user", "invite", "ivy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("has a password already"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn an_invitation_link_can_be_printed_and_a_new_one_replaces_it() {
    // No SMTP anywhere: the link is printed, and the server still takes it.
    let server = TestServer::start().await;
    let out = cli(
        &server,
        &[],
        &[
            "user",
            "add",
            "jo",
            "--email",
            "jo@example.test",
            "--invite",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--print-link"), "{}", text(&out));
    assert!(
        users::find_by_username(&server.state.db, "jo")
            .await
            .unwrap()
            .is_none(),
        "nothing half-made"
    );
    let out = cli(
        &server,
        &[],
        &[
            "user",
            "add",
            "jo",
            "--email",
            "jo@example.test",
            "--invite",
            "--print-link",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["username"], "jo");
    let first = shown["invitation_link"].as_str().unwrap().to_string();
    let out = cli(&server, &[], &["user", "invite", "jo", "--print-link"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = text(&out)
        .split_whitespace()
        .find(|w| w.contains("/login/invite?token="))
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    let browser = Browser::new(&server);
    let (status, _) = browser.get(&first).await.page();
    assert_eq!(status, 400, "the earlier invitation stopped working");
    let (status, page) = accept(&browser, &second, "jo's own password").await;
    assert_eq!(status, 200, "{page}");
    // The command line's refusals.
    let out = cli(&server, &[], &["user", "add", "kim", "--invite"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--invite needs --email: {}",
        text(&out)
    );
}

#[tokio::test]
async fn an_invitation_expires_after_seven_days() {
    let (smtp, server) = mail_server().await;
    let user = server.state.db.clone();
    let created = gatehouse::domain::users::create(
        &user,
        gatehouse::domain::users::NewAccount {
            username: "lu".into(),
            email: Some("lu@example.test".into()),
            name: None,
            phone_number: None,
            address: None,
            password_hash: None,
        },
        server.clock.now(),
    )
    .await
    .unwrap();
    gatehouse::domain::email::send_invitation(&server.state, &created)
        .await
        .unwrap();
    let link = smtp
        .wait_for("lu@example.test", 1)
        .await
        .link("/login/invite");
    server.clock.advance(7 * 86400 + 1);
    let (status, page) = Browser::new(&server).get(&link).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("invalid, expired or already used"));
}

#[tokio::test]
async fn the_admin_api_invites_when_mail_is_set_up() {
    for with_smtp in [false, true] {
        let smtp = SmtpServer::start().await;
        let db = Arc::new(TestDb::new().await);
        let server = if with_smtp {
            TestServer::start_with(db, with_mail(&smtp.url)).await
        } else {
            TestServer::start_on(db).await
        };
        let mut ops = client("ops-bot", false, true, &["client_credentials"]);
        ops.allowed_scopes = vec!["gatehouse:admin".into()];
        server.register(&ops).await;
        let (_, _, body) = token_request(
            &server,
            Some(("ops-bot", SECRET)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "gatehouse:admin"),
            ],
        )
        .await;
        let token = body["access_token"].as_str().unwrap().to_string();
        let post = |path: &str, body: serde_json::Value| {
            reqwest::Client::new()
                .post(server.url(&format!("/admin/api/v1{path}")))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let answer = post(
            "/users",
            serde_json::json!({"username": "max", "invite": true, "password": "a password here"}),
        )
        .await
        .unwrap();
        assert_eq!(answer.status(), 400);
        let answer = post(
            "/users",
            serde_json::json!({"username": "max", "invite": true}),
        )
        .await
        .unwrap();
        assert_eq!(answer.status(), 400, "no email");
        let answer = post(
            "/users",
            serde_json::json!({"username": "max", "email": "max@example.test", "invite": true}),
        )
        .await
        .unwrap();
        if !with_smtp {
            assert_eq!(answer.status(), 409);
            assert!(users::find_by_username(&server.state.db, "max")
                .await
                .unwrap()
                .is_none());
            continue;
        }
        assert_eq!(answer.status(), 201);
        let id = answer.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let first = smtp
            .wait_for("max@example.test", 1)
            .await
            .link("/login/invite");
        let answer = post(&format!("/users/{id}/invitation"), serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
        let second = smtp
            .wait_for("max@example.test", 2)
            .await
            .link("/login/invite");
        let browser = Browser::new(&server);
        assert_eq!(browser.get(&first).await.page().0, 400);
        let (status, _) = accept(&browser, &second, "max's own password").await;
        assert_eq!(status, 200);
        let answer = post(&format!("/users/{id}/invitation"), serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(answer.status(), 409, "a password is set now");
        let sent = audit_events(&server, "invitation_sent").await;
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].actor.as_deref(), Some("client:ops-bot"));
    }
}

#[tokio::test]
async fn changes_to_second_factors_are_announced_by_mail() {
    let (smtp, server) = mail_server().await;
    server.add_user("nia", Some("nia@example.test"), None).await;
    let (browser, _) = account_browser(&server, "nia").await;
    let (_, enroll) = browser.get(&server.url("/account/totp")).await.page();
    let secret = shown_secret(&enroll);
    let mut form = Form::parse(&enroll);
    form.set(
        "code",
        &gatehouse::auth::totp::code_at(&secret, server.clock.now()),
    );
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    let added = smtp.wait_for("nia@example.test", 1).await;
    assert_eq!(added.subject, "An authenticator app was set up · Gatehouse");
    let (_, page) = browser.get(&server.url("/account")).await.page();
    let (status, _) = browser
        .submit(&form_at(&page, "/account/totp/remove"))
        .await
        .page();
    assert_eq!(status, 200);
    let removed = smtp.wait_for("nia@example.test", 2).await;
    assert_eq!(
        removed.subject,
        "The authenticator app was removed · Gatehouse"
    );
    assert!(removed.text.contains("If this was not you"));
}

#[tokio::test]
async fn a_reset_keeps_offline_grants_and_ends_the_others() {
    let (smtp, server) = mail_server().await;
    server.add_user("pia", Some("pia@example.test"), None).await;
    server
        .add_client_with(
            "app",
            false,
            false,
            &["authorization_code", "refresh_token"],
        )
        .await;
    let browser = Browser::new(&server);
    let code = obtain_code(&server, &browser, "app", "pia").await;
    let (_, online) = exchange(&server, "app", &code).await;
    let url = authorize_url(&server, "app", "").replace(
        "scope=openid%20email%20profile",
        "scope=openid%20offline_access",
    );
    let back = match browser.get(&url).await {
        Outcome::Page { html, .. } => browser.consent(&html, "allow").await.redirect(),
        Outcome::Redirect(back) => back,
    };
    let (_, offline) = exchange(&server, "app", &param(&back, "code").unwrap()).await;
    let token = |t: &serde_json::Value| t["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&server, &token(&online)).await.0, 200);
    assert_eq!(userinfo(&server, &token(&offline)).await.0, 200);

    forgot(&server, &Browser::new(&server), "pia").await;
    let link = smtp
        .wait_for("pia@example.test", 1)
        .await
        .link("/login/reset");
    let (_, page) = browser.get(&link).await.page();
    let mut form = form_at(&page, "/login/reset");
    form.set("new_password", "pia's new password")
        .set("confirm_password", "pia's new password");
    assert_eq!(browser.submit(&form).await.page().0, 200);
    assert_eq!(
        userinfo(&server, &token(&online)).await.0,
        401,
        "ended with the session"
    );
    assert_eq!(
        userinfo(&server, &token(&offline)).await.0,
        200,
        "offline access stays"
    );
}
