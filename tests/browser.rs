//! A real browser: headless Chromium (Debian's chromium and chromium-driver, driven
//! over WebDriver) signs in with password and TOTP, consents, lands back at the
//! client, then turns TOTP off on the account page after confirming it's them. Screenshots of every page go to target/screenshots/ for review.

mod common;

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use gatehouse::auth::totp;
use gatehouse::store::clients::{self, Client as OAuthClient};
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const TOTP_SECRET: &[u8; 20] = b"browser-test-secret!";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> (Driver, String) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Driver(child), url)
}

async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    browser_with(driver, profile, &[]).await
}

/// A browser with more command-line switches (`--force-dark-mode`).
async fn browser_with(driver: &str, profile: &std::path::Path, more: &[&str]) -> Client {
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--hide-scrollbars".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(more.iter().map(|a| a.to_string()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::native()
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("connect to chromedriver")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves the page at phone width and at desktop width.
async fn shoot(client: &Client, name: &str) {
    let dir = screenshot_dir();
    for (label, width, height) in [("phone", 390, 844), ("desktop", 1280, 800)] {
        client.set_window_size(width, height).await.unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{label}.png")), png).unwrap();
    }
}

/// A stand-in for the client application: records the query it is redirected with.
async fn callback_server() -> (String, Arc<Mutex<Option<String>>>) {
    let seen = Arc::new(Mutex::new(None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
            let record = record.clone();
            async move {
                *record.lock().unwrap() = q;
                axum::response::Html("<h1>Signed in to Acme Dashboard</h1>")
            }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, seen)
}

/// The client the browser signs in to, calling back to `callback`.
async fn register_acme(server: &TestServer, callback: &str) {
    clients::create(
        &server.state.db,
        &OAuthClient {
            client_id: "acme".into(),
            name: "Acme Dashboard".into(),
            secret_hash: Some(gatehouse::secrets::hash_token(SECRET)),
            redirect_uris: vec![callback.to_string()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            allowed_scopes: vec![],
            backchannel_logout_uri: None,
            token_endpoint_auth_method: gatehouse::auth_method::AuthMethod::ClientSecretBasic,
            id_token_signed_response_alg: "ES256".into(),
            skip_consent: false,
            created_at: 0,
            updated_at: 0,
            allowed_group_ids: vec![],
        },
    )
    .await
    .unwrap();
}

/// Waits for the client's callback; returns the URL it was called with.
async fn called_back(callback: &str, seen: &Mutex<Option<String>>) -> url::Url {
    let mut query = None;
    for _ in 0..100 {
        query = seen.lock().unwrap().clone();
        if query.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let query = query.expect("the client was called back");
    url::Url::parse(&format!("{callback}?{query}")).unwrap()
}

#[tokio::test]
async fn password_totp_consent_redirect_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let server = TestServer::start().await;
    let user_id = server
        .add_user("alice", Some("alice@example.com"), Some("Alice Liddell"))
        .await;
    let sealed = server
        .state
        .keys
        .master()
        .seal(&format!("totp:{user_id}"), TOTP_SECRET);
    gatehouse::store::users::set_totp(&server.state.db, &user_id, &sealed, 0, 0)
        .await
        .unwrap();
    let (callback, seen) = callback_server().await;
    register_acme(&server, &callback).await;

    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    let url =
        authorize_url(&server, "acme", "").replace(&urlencode(REDIRECT), &urlencode(&callback));
    c.goto(&url).await.unwrap();

    // Password page: the client's name, fields for password managers.
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Acme Dashboard"), "{body}");
    let username = c.find(Locator::Css("#username")).await.unwrap();
    assert_eq!(
        username.attr("autocomplete").await.unwrap().as_deref(),
        Some("username webauthn")
    );
    let password = c.find(Locator::Css("#password")).await.unwrap();
    assert_eq!(
        password.attr("autocomplete").await.unwrap().as_deref(),
        Some("current-password")
    );
    shoot(&c, "01-login").await;

    // A wrong password first: the message sits by the fields.
    username.send_keys("alice").await.unwrap();
    password.send_keys("not the password").await.unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = c
        .wait()
        .for_element(Locator::Css("#login-error"))
        .await
        .unwrap();
    assert!(error
        .text()
        .await
        .unwrap()
        .contains("Incorrect username or password"));
    shoot(&c, "02-login-error").await;

    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // One-time-code page.
    let code_field = c.wait().for_element(Locator::Css("#code")).await.unwrap();
    assert_eq!(
        code_field.attr("autocomplete").await.unwrap().as_deref(),
        Some("one-time-code")
    );
    shoot(&c, "03-one-time-code").await;
    code_field
        .send_keys(&totp::code_at(TOTP_SECRET, server.clock.now()))
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Consent page.
    let allow = c
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap();
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("Acme Dashboard") && body.contains("alice"),
        "{body}"
    );
    shoot(&c, "04-consent").await;
    allow.click().await.unwrap();

    // Back at the client with a code, the state and the issuer.
    // The click returns before the navigation ends: wait for the client's callback.
    let back = called_back(&callback, &seen).await;
    assert!(param(&back, "code").is_some());
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&back, "iss").as_deref(), Some(server.base.as_str()));
    shoot(&c, "05-back-at-client").await;

    // The account page; after a while, turning TOTP off asks "confirm it's you".
    c.goto(&server.url("/account")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/account/totp/remove']"))
        .await
        .unwrap();
    shoot(&c, "06-account").await;
    server.clock.advance(6 * 60);
    c.find(Locator::Css("form[action='/account/totp/remove'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let password = c
        .wait()
        .for_element(Locator::Css("form[action='/account/confirm'] #password"))
        .await
        .unwrap();
    shoot(&c, "07-confirm").await;
    password.send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&totp::code_at(TOTP_SECRET, server.clock.now()))
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Confirmed: back on the account page, where the change now goes through.
    c.wait()
        .for_element(Locator::Css("form[action='/account/totp/remove'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a[href='/account/totp']"))
        .await
        .unwrap();
    shoot(&c, "08-account-totp-off").await;
    c.close().await.unwrap();
}

/// The ID token for the code the client was called back with.
async fn id_token_of(server: &TestServer, back: &url::Url, callback: &str) -> serde_json::Value {
    let code = param(back, "code").expect("code");
    let (status, _, body) = token_request(
        server,
        Some(("acme", SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", callback),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    jwt_claims(body["id_token"].as_str().unwrap())
}

/// Passkeys in a real browser, with a WebDriver virtual authenticator (CTAP2,
/// resident keys, user verification): add one on the account page, sign out,
/// with no username (autofill, then the "Sign in with a passkey" button), and
/// the ID token says two factors.
/// WebAuthn refuses an IP address as relying-party id: the issuer is `localhost`.
#[tokio::test]
async fn passkey_registration_and_usernameless_sign_in_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |c| {
        c.issuer = c.issuer.replace("127.0.0.1", "localhost");
    })
    .await;
    let base = server.base.replace("127.0.0.1", "localhost");
    let user_id = server.add_user("alice", None, Some("Alice Liddell")).await;
    let (callback, seen) = callback_server().await;
    register_acme(&server, &callback).await;

    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    let authenticator = webauthn_driver::add_passkey_authenticator(&c).await;

    // Signed in with the password, the account page offers "Add a passkey".
    c.goto(&format!("{base}/account")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("a[href='/account/passkeys/new']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = c.wait().for_element(Locator::Css("#name")).await.unwrap();
    shoot(&c, "11-passkey-new").await;
    name.send_keys("This browser").await.unwrap();
    c.find(Locator::Css("button.passkey-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The first second factor: recovery codes, once.
    c.wait()
        .for_element(Locator::Css(".codes code"))
        .await
        .unwrap();
    shoot(&c, "12-passkey-recovery-codes").await;
    let held = webauthn_driver::credentials(&c, &authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true, "{held:?}");
    let stored = gatehouse::store::passkeys::list_for_user(&server.state.db, &user_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "This browser");

    c.goto(&format!("{base}/account")).await.unwrap();
    let listed = c
        .wait()
        .for_element(Locator::Css(".passkeys .passkey-name"))
        .await
        .unwrap();
    assert_eq!(listed.text().await.unwrap(), "This browser");
    shoot(&c, "13-account-passkeys").await;

    // Signed out (the browser forgets its session; the passkey stays in the
    // authenticator), the login page offers the passkey in the username field's
    // autofill, which the virtual authenticator accepts at once.
    c.delete_all_cookies().await.unwrap();
    let url = authorize_url(&server, "acme", "")
        .replace(&server.base, &base)
        .replace(&urlencode(REDIRECT), &urlencode(&callback));
    c.goto(&url).await.unwrap();
    c.wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let back = called_back(&callback, &seen).await;
    let claims = id_token_of(&server, &back, &callback).await;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["acr"], "2");

    // Signed out again, in a browser without autofill: "Sign in with a passkey".
    *seen.lock().unwrap() = None;
    // Cookies are deleted for the page's own host: back on Gatehouse's first.
    c.goto(&format!("{base}/static/favicon.svg")).await.unwrap();
    c.delete_all_cookies().await.unwrap();
    webauthn_driver::without_autofill(&c).await;
    c.goto(&url).await.unwrap();
    let button = c
        .wait()
        .for_element(Locator::Css("form[action='/login/passkey'] button"))
        .await
        .unwrap();
    // The script showed the passkey form (hidden without JavaScript).
    assert!(button.is_displayed().await.unwrap());
    assert_eq!(
        c.find(Locator::Css("#username"))
            .await
            .unwrap()
            .attr("autocomplete")
            .await
            .unwrap()
            .as_deref(),
        Some("username webauthn")
    );
    shoot(&c, "14-login-with-passkey").await;
    c.find(Locator::Css("form[action='/login/passkey'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Consent was given a moment ago: straight back to the client.
    let back = called_back(&callback, &seen).await;
    let claims = id_token_of(&server, &back, &callback).await;
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["acr"], "2");
    c.close().await.unwrap();
}

/// Types `text` into the field `css`.
async fn fill(c: &Client, css: &str, text: &str) {
    let field = c.wait().for_element(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the submit button of the form posting to `action`.
async fn submit_form(c: &Client, action: &str) {
    c.find(Locator::Css(&format!(
        "form[action='{action}'] button[type=submit]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
}

/// Waits for the page whose heading is `expected` (a click's navigation may still
/// be under way: the old page, or an element of it gone stale, is read again).
async fn expect_heading(c: &Client, expected: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(h1) = c.find(Locator::Css("h1")).await {
            if let Ok(text) = h1.text().await {
                if text == expected {
                    return;
                }
                seen = text;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected the page '{expected}', still on '{seen}'");
}

/// The admin console in a real browser: an administrator signs in with two
/// factors, creates a group, a user in it and an application open to that group
/// only (its secret shown once, with a copy button), rotates the secret, and the
/// new user then signs in to the application, which redeems the code with the
/// rotated secret.
#[tokio::test]
async fn the_admin_console_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let server = TestServer::start().await;
    let root = server.add_user("root", None, Some("Root Admin")).await;
    let sealed = server
        .state
        .keys
        .master()
        .seal(&format!("totp:{root}"), TOTP_SECRET);
    gatehouse::store::users::set_totp(&server.state.db, &root, &sealed, 0, 0)
        .await
        .unwrap();
    let user = gatehouse::store::users::find(&server.state.db, &root)
        .await
        .unwrap()
        .unwrap();
    gatehouse::domain::groups::make_admin(&server.state.db, "admins", &user, 0)
        .await
        .unwrap();
    let (callback, seen) = callback_server().await;

    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    c.set_window_size(1280, 800).await.unwrap();

    // Sign-in with password and code, then the overview.
    c.goto(&server.url("/admin")).await.unwrap();
    fill(&c, "#username", "root").await;
    fill(&c, "#password", PASSWORD).await;
    submit_form(&c, "/login").await;
    fill(&c, "#code", &totp::code_at(TOTP_SECRET, server.clock.now())).await;
    submit_form(&c, "/login/mfa").await;
    expect_heading(&c, "Overview").await;
    shoot(&c, "20-console-overview").await;

    // A group.
    c.goto(&server.url("/admin/groups")).await.unwrap();
    fill(&c, "#name", "staff").await;
    fill(&c, "#description", "Everyone on the payroll").await;
    submit_form(&c, "/admin/groups").await;
    expect_heading(&c, "staff").await;

    // A user, put in the group.
    c.goto(&server.url("/admin/users/new")).await.unwrap();
    fill(&c, "#username", "dana").await;
    fill(&c, "#name", "Dana Scully").await;
    fill(&c, "#email", "dana@example.com").await;
    fill(&c, "#password", "dana's long password").await;
    shoot(&c, "21-console-new-user").await;
    submit_form(&c, "/admin/users").await;
    expect_heading(&c, "dana").await;
    let dana_path = c.current_url().await.unwrap().path().to_string();
    c.find(Locator::Css("#add-group"))
        .await
        .unwrap()
        .select_by_label("staff")
        .await
        .unwrap();
    submit_form(&c, &format!("{dana_path}/groups/add")).await;
    c.wait()
        .for_element(Locator::Css(".chips a"))
        .await
        .unwrap();
    shoot(&c, "22-console-user").await;

    // An application for members of staff.
    c.goto(&server.url("/admin/applications/new"))
        .await
        .unwrap();
    fill(&c, "#client_id", "wiki").await;
    fill(&c, "#name", "Team Wiki").await;
    fill(&c, "#redirect_uris", &callback).await;
    c.find(Locator::Css("#group-staff"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shoot(&c, "23-console-new-application").await;
    submit_form(&c, "/admin/applications").await;
    let secret_field = c
        .wait()
        .for_element(Locator::Css("#client-secret"))
        .await
        .unwrap();
    let first_secret = secret_field.prop("value").await.unwrap().unwrap();
    assert_eq!(first_secret.len(), 43);
    // The copy button is there once its script ran.
    let copy = c.find(Locator::Css("button[data-copy]")).await.unwrap();
    assert!(copy.is_displayed().await.unwrap());
    shoot(&c, "24-console-secret-once").await;

    // Rotate: the confirmation names what will happen.
    c.goto(&server.url("/admin/applications/wiki"))
        .await
        .unwrap();
    submit_form(&c, "/admin/applications/wiki/rotate-secret").await;
    let warning = c
        .wait()
        .for_element(Locator::Css(".warning"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(warning.contains("stops working now"), "{warning}");
    shoot(&c, "25-console-confirm-rotate").await;
    submit_form(&c, "/admin/applications/wiki/rotate-secret").await;
    let rotated = c
        .wait()
        .for_element(Locator::Css("#client-secret"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(rotated, first_secret);

    // The audit log shows what root did.
    c.goto(&server.url("/admin/audit?actor=root"))
        .await
        .unwrap();
    let log = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for kind in [
        "group_created",
        "user_created",
        "group_member_added",
        "client_created",
        "client_secret_rotated",
    ] {
        assert!(log.contains(kind), "{kind}: {log}");
    }
    shoot(&c, "26-console-audit").await;
    c.goto(&server.url("/admin/keys")).await.unwrap();
    shoot(&c, "27-console-keys").await;
    c.close().await.unwrap();

    // Dana signs in to the wiki in a browser of her own.
    let profile = tempfile::tempdir().unwrap();
    let d = browser(&driver_url, profile.path()).await;
    let url =
        authorize_url(&server, "wiki", "").replace(&urlencode(REDIRECT), &urlencode(&callback));
    d.goto(&url).await.unwrap();
    fill(&d, "#username", "dana").await;
    fill(&d, "#password", "dana's long password").await;
    submit_form(&d, "/login").await;
    d.wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let back = called_back(&callback, &seen).await;
    let code = param(&back, "code").expect("code");
    let (status, _, body) = token_request(
        &server,
        Some(("wiki", &rotated)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = jwt_claims(body["id_token"].as_str().unwrap());
    let dana = gatehouse::store::users::find_by_username(&server.state.db, "dana")
        .await
        .unwrap()
        .expect("created in the console");
    assert_eq!(claims["sub"], dana.id.as_str());
    d.close().await.unwrap();
}

/// A forgotten password in a real browser: "Forgot password?" on the login page,
/// the mailed link, the new password, and a sign-in with it; screenshots of each
/// page.
#[tokio::test]
async fn a_forgotten_password_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let smtp = common::smtp::SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |config| {
        common::smtp::configure(config, &smtp.url);
    })
    .await;
    server
        .add_user("olga", Some("olga@example.test"), Some("Olga"))
        .await;
    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    c.set_window_size(1280, 800).await.unwrap();

    c.goto(&server.url("/account")).await.unwrap();
    expect_heading(&c, "Sign in").await;
    shoot(&c, "30-login-with-forgot-link").await;
    c.find(Locator::LinkText("Forgot password?"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_heading(&c, "Reset your password").await;
    shoot(&c, "31-forgot-password").await;
    fill(&c, "#identifier", "olga@example.test").await;
    submit_form(&c, "/login/forgot").await;
    let sent = c
        .wait()
        .for_element(Locator::Css("p.lead[role=status]"))
        .await
        .unwrap();
    assert!(sent.text().await.unwrap().contains("If an account matches"));
    shoot(&c, "32-forgot-password-sent").await;

    let link = smtp
        .wait_for("olga@example.test", 1)
        .await
        .link("/login/reset");
    c.goto(&link).await.unwrap();
    expect_heading(&c, "Choose a new password").await;
    shoot(&c, "33-reset-password").await;
    fill(&c, "#new_password", "olga's new password").await;
    fill(&c, "#confirm_password", "olga's new password").await;
    submit_form(&c, "/login/reset").await;
    expect_heading(&c, "Password changed").await;
    shoot(&c, "34-reset-password-done").await;
    c.find(Locator::LinkText("Sign in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_heading(&c, "Sign in").await;
    fill(&c, "#username", "olga").await;
    fill(&c, "#password", "olga's new password").await;
    submit_form(&c, "/login").await;
    expect_heading(&c, "Your account").await;
    shoot(&c, "35-account-email").await;
    c.close().await.unwrap();
}

/// Open sign-up and an invitation in a real browser, with screenshots: "Create an
/// account" from the login page, the mailed link, the account; then an invited
/// user's first password.
#[tokio::test]
async fn sign_up_and_an_invitation_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let smtp = common::smtp::SmtpServer::start().await;
    let db = Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |config| {
        common::smtp::configure(config, &smtp.url);
        config.registration = gatehouse::config::Registration::Open;
    })
    .await;
    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver_url, profile.path()).await;
    c.set_window_size(1280, 800).await.unwrap();

    c.goto(&server.url("/account")).await.unwrap();
    expect_heading(&c, "Sign in").await;
    c.find(Locator::LinkText("Create an account"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    expect_heading(&c, "Create an account").await;
    fill(&c, "#username", "petra").await;
    fill(&c, "#email", "petra@example.test").await;
    fill(&c, "#password", "petra's long password").await;
    shoot(&c, "36-sign-up").await;
    submit_form(&c, "/signup").await;
    c.wait()
        .for_element(Locator::Css("p.lead[role=status]"))
        .await
        .unwrap();
    shoot(&c, "37-sign-up-sent").await;
    let link = smtp
        .wait_for("petra@example.test", 1)
        .await
        .link("/signup/confirm");
    c.goto(&link).await.unwrap();
    expect_heading(&c, "Create your account").await;
    shoot(&c, "38-sign-up-confirm").await;
    submit_form(&c, "/signup/confirm").await;
    expect_heading(&c, "Your account is ready").await;
    shoot(&c, "39-sign-up-done").await;

    let invited = gatehouse::domain::users::create(
        &server.state.db,
        gatehouse::domain::users::NewAccount {
            username: "quentin".into(),
            email: Some("quentin@example.test".into()),
            name: None,
            phone_number: None,
            address: None,
            password_hash: None,
        },
        server.clock.now(),
    )
    .await
    .unwrap();
    gatehouse::domain::email::send_invitation(&server.state, &invited)
        .await
        .unwrap();
    let link = smtp
        .wait_for("quentin@example.test", 1)
        .await
        .link("/login/invite");
    c.goto(&link).await.unwrap();
    expect_heading(&c, "Welcome — choose a password").await;
    shoot(&c, "40-invitation").await;
    fill(&c, "#new_password", "quentin's long password").await;
    fill(&c, "#confirm_password", "quentin's long password").await;
    submit_form(&c, "/login/invite").await;
    expect_heading(&c, "Your account is ready").await;
    shoot(&c, "41-invitation-done").await;
    c.close().await.unwrap();
}

/// Dark mode in a real browser that prefers it: the pages take the dark colours
/// (the contrast of each pair is checked in tests/pages.rs); screenshots.
#[tokio::test]
async fn the_pages_in_dark_mode_in_chromium() {
    if !std::path::Path::new(CHROMEDRIVER).exists() {
        eprintln!("skipped: {CHROMEDRIVER} is not installed (.ci/run installs chromium-driver)");
        return;
    }
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    let (_driver, driver_url) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser_with(&driver_url, profile.path(), &["--force-dark-mode"]).await;
    c.set_window_size(1280, 800).await.unwrap();
    c.goto(&server.url("/account")).await.unwrap();
    expect_heading(&c, "Sign in").await;
    let scheme = c
        .execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, \
             getComputedStyle(document.body).backgroundColor];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(scheme, json!([true, "rgb(11, 17, 32)"]));
    shoot(&c, "50-dark-login").await;
    fill(&c, "#username", "alice").await;
    fill(&c, "#password", "wrong password").await;
    submit_form(&c, "/login").await;
    c.wait()
        .for_element(Locator::Css("#login-error"))
        .await
        .unwrap();
    shoot(&c, "51-dark-login-error").await;
    fill(&c, "#username", "alice").await;
    fill(&c, "#password", PASSWORD).await;
    submit_form(&c, "/login").await;
    expect_heading(&c, "Your account").await;
    shoot(&c, "52-dark-account").await;
    c.goto(&server.url("/")).await.unwrap();
    expect_heading(&c, "Gatehouse").await;
    shoot(&c, "53-dark-home").await;
    c.close().await.unwrap();
}
