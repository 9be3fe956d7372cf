//! The account page: sign-in on the way, sessions, password, TOTP and recovery codes,
//! CSRF on every form.

mod common;

use common::*;
use gatehouse::auth::totp;

async fn signed_in() -> (TestServer, Browser, String) {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let browser = Browser::new(&server);
    // No session: the account page sends the browser through the login page.
    let (status, login) = browser.get(&server.url("/account")).await.page();
    assert_eq!(status, 200);
    assert!(login.contains("your Gatehouse account"));
    let (status, page) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account"));
    (server, browser, page)
}

fn form_with_action(html: &str, action: &str) -> Form {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("form[action=\"{action}\"]")).unwrap();
    let form = doc
        .select(&sel)
        .next()
        .unwrap_or_else(|| panic!("no form {action}"));
    Form::parse(&form.html())
}

#[tokio::test]
async fn sessions_can_be_listed_and_ended() {
    let (server, browser, _) = signed_in().await;
    // A second browser signs in too.
    let other = Browser::new(&server);
    let (_, login) = other.get(&server.url("/account")).await.page();
    other.login(&login, "alice", PASSWORD).await.page();

    let (_, page) = browser.get(&server.url("/account")).await.page();
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse(".sessions li").unwrap();
    assert_eq!(doc.select(&sel).count(), 2);
    assert!(page.contains("(this browser)"));
    // End the other browser's session (the one not marked current).
    let forms: Vec<Form> = doc
        .select(&scraper::Selector::parse(".sessions li").unwrap())
        .filter(|li| !li.html().contains("this browser"))
        .map(|li| {
            let form = li
                .select(&scraper::Selector::parse("form").unwrap())
                .next()
                .unwrap();
            Form::parse(&form.html())
        })
        .collect();
    let (status, _) = browser.submit(&forms[0]).await.page();
    assert_eq!(status, 200);
    let (_, other_view) = other.get(&server.url("/account")).await.page();
    assert!(
        other_view.contains("action=\"/login\""),
        "the other browser is signed out"
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let (server, browser, page) = signed_in().await;
    let mut form = form_with_action(&page, "/account/password");
    form.set("current_password", "wrong")
        .set("new_password", "a brand new password");
    let (status, html) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("current password is not correct"));
    let mut form = form_with_action(&html, "/account/password");
    form.set("current_password", PASSWORD)
        .set("new_password", "short");
    let (status, html) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("at least 8"));
    let mut form = form_with_action(&html, "/account/password");
    form.set("current_password", PASSWORD)
        .set("new_password", "a brand new password");
    let (status, html) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("password was changed"));

    let fresh = Browser::new(&server);
    let (_, login) = fresh.get(&server.url("/account")).await.page();
    let (status, _) = fresh.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 401, "the old password is gone");
    let (_, login) = fresh.get(&server.url("/account")).await.page();
    let (status, _) = fresh
        .login(&login, "alice", "a brand new password")
        .await
        .page();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn totp_enrol_regenerate_and_remove_from_the_account_page() {
    let (server, browser, _) = signed_in().await;
    let (_, enroll) = browser.get(&server.url("/account/totp")).await.page();
    let secret = shown_secret(&enroll);
    let mut form = Form::parse(&enroll);
    form.set("code", &totp::code_at(&secret, server.clock.now()));
    let (status, codes_page) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    assert!(codes_page.contains("recovery codes"));
    let first_codes: Vec<String> = scraper::Html::parse_document(&codes_page)
        .select(&scraper::Selector::parse(".codes code").unwrap())
        .map(|c| c.text().collect())
        .collect();
    assert_eq!(first_codes.len(), 10);

    let (_, page) = browser.get(&server.url("/account")).await.page();
    assert!(page.contains("10 recovery codes left"));
    let (status, regenerated) = browser
        .submit(&form_with_action(&page, "/account/recovery-codes"))
        .await
        .page();
    assert_eq!(status, 200);
    let new_codes: Vec<String> = scraper::Html::parse_document(&regenerated)
        .select(&scraper::Selector::parse(".codes code").unwrap())
        .map(|c| c.text().collect())
        .collect();
    assert_ne!(new_codes, first_codes);
    let user = gatehouse::store::users::find_by_username(&server.state.db, "alice")
        .await
        .unwrap()
        .unwrap();
    let now = server.clock.now();
    assert!(
        !gatehouse::store::recovery_codes::consume(
            &server.state.db,
            &server
                .state
                .keys
                .master()
                .digest_key(gatehouse::secrets::RECOVERY_CODES),
            &user.id,
            &first_codes[0],
            now
        )
        .await
        .unwrap(),
        "old codes die"
    );

    let (_, page) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser
        .submit(&form_with_action(&page, "/account/totp/remove"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(page.contains("Off."));
}

#[tokio::test]
async fn account_forms_need_the_csrf_token() {
    let (server, browser, page) = signed_in().await;
    for action in [
        "/account/password",
        "/account/totp/remove",
        "/account/recovery-codes",
    ] {
        let mut form = form_with_action(
            &if action == "/account/password" {
                page.clone()
            } else {
                // Forms shown only with TOTP on: build them by hand.
                format!("<form action=\"{action}\"><input name=\"csrf\" value=\"x\"></form>")
            },
            action,
        );
        form.set("csrf", "forged-forged-forged-forged-forged-forged-12");
        let (status, _) = browser.submit(&form).await.page();
        assert_eq!(status, 403, "{action}");
    }
    let _ = server;
}
