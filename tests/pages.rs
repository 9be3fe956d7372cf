//! The pages' rough edges, as a person meets them: a home page, the way back
//! after signing out, Cancel on the logout question, show-password, the TOTP key
//! in groups, recovery codes typed on a phone and copied or downloaded, and the
//! account page's sessions (browser, last use) and applications (revocable).

mod common;

use common::*;
use gatehouse::auth::totp;

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

async fn signed_in(server: &TestServer) -> (Browser, String) {
    let browser = Browser::new(server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200, "{page}");
    (browser, page)
}

#[tokio::test]
async fn the_home_page_leads_to_the_account() {
    let server = TestServer::start().await;
    let (status, page) = Browser::new(&server).get(&server.url("/")).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Gatehouse</h1>"), "{page}");
    assert!(page.contains("href=\"/account\""));
}

#[tokio::test]
async fn signing_out_can_be_cancelled_and_offers_to_sign_in_again() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let (browser, _) = signed_in(&server).await;
    let (status, question) = browser.get(&server.url("/logout")).await.page();
    assert_eq!(status, 200);
    let doc = scraper::Html::parse_document(&question);
    let cancel = doc
        .select(&scraper::Selector::parse("a.button").unwrap())
        .find(|a| a.text().collect::<String>() == "Cancel")
        .expect("a Cancel link");
    assert_eq!(cancel.value().attr("href"), Some("/account"));
    // Cancel keeps the session.
    let (_, account) = browser.get(&server.url("/account")).await.page();
    assert!(account.contains("Your account"));
    let (status, out) = browser
        .submit(&form_at(&question, "/logout/confirm"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(out.contains("You are signed out"));
    assert!(out.contains("href=\"/account\">Sign in again</a>"), "{out}");
}

#[tokio::test]
async fn password_fields_can_be_shown_with_the_pages_script() {
    let server = TestServer::start().await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    assert!(
        login.contains("data-toggle-password=\"password\""),
        "{login}"
    );
    assert!(login.contains("<script src=\"/static/pages.js\" defer></script>"));
    // A checkbox, not a button: the form's only button submits it.
    assert!(login.contains("<input id=\"show-password\" type=\"checkbox\""));
    let doc = scraper::Html::parse_document(&login);
    let buttons = scraper::Selector::parse("form[action=\"/login\"] button").unwrap();
    assert_eq!(doc.select(&buttons).count(), 1);
    let script = reqwest::get(server.url("/static/pages.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("data-toggle-password"));
    let css = reqwest::get(server.url("/static/gatehouse.css"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("button, input, select, textarea { font: inherit; }"));
}

#[tokio::test]
async fn the_authenticator_key_is_grouped_and_recovery_codes_copy_and_download() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let (browser, _) = signed_in(&server).await;
    let (_, enroll) = browser.get(&server.url("/account/totp")).await.page();
    let doc = scraper::Html::parse_document(&enroll);
    let key: String = doc
        .select(&scraper::Selector::parse(".secret code").unwrap())
        .next()
        .unwrap()
        .text()
        .collect();
    let groups: Vec<&str> = key.split(' ').collect();
    assert!(groups.len() > 4, "{key}");
    assert!(
        groups[..groups.len() - 1].iter().all(|g| g.len() == 4),
        "{key}"
    );
    let secret = totp_rs::Secret::try_from_base32(key.replace(' ', ""))
        .unwrap()
        .as_bytes()
        .to_vec();
    let mut form = Form::parse(&enroll);
    form.set("code", &totp::code_at(&secret, server.clock.now()));
    let (status, codes) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    let doc = scraper::Html::parse_document(&codes);
    let listed: Vec<String> = doc
        .select(&scraper::Selector::parse(".codes code").unwrap())
        .map(|c| c.text().collect())
        .collect();
    assert_eq!(listed.len(), 10);
    let block: String = doc
        .select(&scraper::Selector::parse("textarea#codes-text").unwrap())
        .next()
        .expect("the codes in one block")
        .text()
        .collect();
    assert_eq!(block.lines().collect::<Vec<_>>(), listed);
    assert!(codes.contains("data-copy=\"codes-text\""));
    let download = doc
        .select(&scraper::Selector::parse("a[download]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("a download link");
    let encoded = download
        .strip_prefix("data:text/plain;charset=utf-8,")
        .unwrap();
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), listed);

    // The second step's field takes letters too (a recovery code on a phone).
    server.clock.advance(30);
    let other = Browser::new(&server);
    let (_, login) = other.get(&server.url("/account")).await.page();
    let (_, mfa) = other.login(&login, "alice", PASSWORD).await.page();
    assert!(mfa.contains("inputmode=\"text\""), "{mfa}");
    assert!(!mfa.contains("inputmode=\"numeric\""));
    let mut code = form_at(&mfa, "/login/mfa");
    code.set("code", &listed[0]);
    let (status, page) = other.submit(&code).await.page();
    assert_eq!(status, 200, "{page}");
}

#[tokio::test]
async fn the_account_page_names_each_sessions_browser_and_last_use() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let mut form = Form::parse(&login);
    form.set("username", "alice").set("password", PASSWORD);
    let response = browser
        .http
        .post(server.url("/login"))
        .header("user-agent", CHROME_LINUX)
        .form(&form.fields)
        .send()
        .await
        .unwrap();
    let (_, page) = browser.follow(response).await.page();
    assert!(
        page.contains("<strong>Chrome on Linux</strong>, signed in"),
        "{page}"
    );
    assert!(page.contains("last used"));
}

#[tokio::test]
async fn applications_with_access_are_listed_and_revoked() {
    let server = TestServer::start().await;
    server
        .add_user("alice", Some("alice@example.com"), None)
        .await;
    server.add_client("app", false, false).await;
    let browser = Browser::new(&server);
    let code = obtain_code(&server, &browser, "app", "alice").await;
    let (_, tokens) = exchange(&server, "app", &code).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&server, &access).await.0, 200);

    let (_, account) = browser.get(&server.url("/account")).await.page();
    assert!(account.contains("<strong>app app</strong>"), "{account}");
    assert!(
        account.contains("your email address"),
        "scopes in words: {account}"
    );
    let mut revoke = form_at(&account, "/account/applications/revoke");
    assert_eq!(revoke.get("client_id"), Some("app"));
    let (status, page) = browser.submit(&revoke).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("access is revoked"), "{page}");
    assert!(page.contains("No application has access"));
    assert_eq!(userinfo(&server, &access).await.0, 401, "its tokens stop");
    let revoked = audit_events(&server, "application_revoked").await;
    assert_eq!(revoked[0].client_id.as_deref(), Some("app"));
    // It asks again.
    let (_, again) = browser.get(&authorize_url(&server, "app", "")).await.page();
    assert_eq!(Form::parse(&again).action, "/consent", "{again}");
    // Revoking what has no access says so; a forged form is refused.
    let (_, page) = browser.submit(&revoke).await.page();
    assert!(page.contains("That application has no access."));
    revoke.set("csrf", "forged-forged-forged-forged-forged-forged-12");
    assert_eq!(browser.submit(&revoke).await.page().0, 403);
}

/// The `--name: #rrggbb` colours of a `:root { … }` block.
fn palette(block: &str) -> std::collections::HashMap<String, (f64, f64, f64)> {
    block
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix("--")?.split_once(':')?;
            let hex = value.trim().trim_end_matches(';').strip_prefix('#')?;
            let channel = |i: usize| {
                u8::from_str_radix(hex.get(i..i + 2)?, 16)
                    .ok()
                    .map(|v| v as f64 / 255.0)
            };
            Some((name.to_string(), (channel(0)?, channel(2)?, channel(4)?)))
        })
        .collect()
}

/// WCAG 2.1 contrast ratio of two sRGB colours.
fn contrast(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
    let linear = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance =
        |(r, g, b): (f64, f64, f64)| 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[tokio::test]
async fn text_keeps_its_contrast_in_light_and_dark_mode() {
    let server = TestServer::start().await;
    let css = reqwest::get(server.url("/static/gatehouse.css"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let light_end = css.find('}').unwrap();
    let light = palette(&css[..light_end]);
    let dark_start = css
        .find("@media (prefers-color-scheme: dark)")
        .expect("a dark scheme");
    let dark_block = &css[dark_start..];
    let dark = palette(&dark_block[..dark_block.find('}').unwrap()]);
    assert!(css.contains("color-scheme: light dark;"));
    // Text on the backgrounds it is drawn on.
    let pairs = [
        ("text", "card"),
        ("text", "bg"),
        ("text", "control"),
        ("muted", "card"),
        ("muted", "bg"),
        ("accent", "card"),
        ("accent", "bg"),
        ("on-accent", "accent"),
        ("on-accent", "error"),
        ("error", "card"),
        ("error", "error-bg"),
        ("notice", "notice-bg"),
        ("warning", "warning-bg"),
        ("text", "badge-bg"),
        ("on", "on-bg"),
        ("next", "next-bg"),
    ];
    for (scheme, colours) in [("light", &light), ("dark", &dark)] {
        for (fg, bg) in pairs {
            let ratio = contrast(colours[fg], colours[bg]);
            assert!(
                ratio >= 4.5,
                "{scheme}: --{fg} on --{bg} has a contrast of {ratio:.2}:1"
            );
        }
    }
    // Both schemes define the same colours.
    let mut names: Vec<_> = light.keys().collect();
    names.sort();
    let mut dark_names: Vec<_> = dark.keys().collect();
    dark_names.sort();
    assert_eq!(names, dark_names);
}
