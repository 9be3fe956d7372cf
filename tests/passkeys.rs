//! Passkeys over HTTP, with a software authenticator playing the browser's part:
//! registration on the account page, usernameless sign-in, the passkey as second
//! factor, one-factor passkeys, counter regression, ceremony state that is
//! replayed, expired or brought by another browser, removal rules, the CLI and
//! the admin API.

mod common;

use common::authenticator::Authenticator;
use common::*;
use gatehouse::store::entities::audit_events;
use gatehouse::store::passkeys;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

fn passkey_form_of(html: &str, action: &str) -> Option<(Form, Value)> {
    let doc = scraper::Html::parse_document(html);
    let sel =
        scraper::Selector::parse(&format!("form[action=\"{action}\"][data-passkey]")).unwrap();
    let form = doc.select(&sel).next()?;
    let options = form
        .value()
        .attr("data-passkey-options")
        .map(|o| serde_json::from_str(o).expect("options are JSON"))
        .unwrap_or(Value::Null);
    Some((Form::parse(&form.html()), options))
}

fn passkey_form(html: &str, action: &str) -> (Form, Value) {
    passkey_form_of(html, action).unwrap_or_else(|| panic!("no form {action} in {html}"))
}

async fn count_events(server: &TestServer, kind: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Kind.eq(kind))
        .count(&server.state.db)
        .await
        .unwrap()
}

async fn setup() -> (TestServer, String) {
    let server = TestServer::start().await;
    let id = server.add_user("alice", None, Some("Alice")).await;
    server
        .add_client_with("app", false, true, &["authorization_code", "refresh_token"])
        .await;
    (server, id)
}

/// A browser signed in to the account page with the password.
async fn account_browser(server: &TestServer) -> Browser {
    let browser = Browser::new(server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account"));
    browser
}

/// Adds a passkey named `name` on the account page; returns the page that follows.
async fn add_passkey(
    server: &TestServer,
    browser: &Browser,
    authenticator: &mut Authenticator,
    name: &str,
) -> (reqwest::StatusCode, String) {
    let (status, page) = browser
        .get(&server.url("/account/passkeys/new"))
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    let (mut form, options) = passkey_form(&page, "/account/passkeys");
    let pk = &options["publicKey"];
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(
        pk["authenticatorSelection"]["userVerification"],
        "preferred"
    );
    assert_eq!(pk["rp"]["id"], "127.0.0.1");
    let credential = authenticator.register(&options, &server.base);
    form.set("credential", &credential.to_string())
        .set("name", name);
    browser.submit(&form).await.page()
}

/// From a login page, a usernameless passkey sign-in.
async fn passkey_sign_in(
    server: &TestServer,
    browser: &Browser,
    login: &str,
    authenticator: &mut Authenticator,
) -> Outcome {
    let (mut form, options) = passkey_form(login, "/login/passkey");
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    assert_eq!(options["mediation"], "conditional");
    let credential = authenticator.authenticate(&options, &server.base);
    form.set("credential", &credential.to_string());
    browser.submit(&form).await
}

async fn id_token_after(server: &TestServer, back: &url::Url) -> Value {
    let code = param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (status, body) = exchange(server, "app", &code).await;
    assert_eq!(status, 200, "{body}");
    jwt_claims(body["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn registered_passkey_signs_in_without_a_username() {
    let (server, id) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new();
    let (status, page) = add_passkey(&server, &browser, &mut authenticator, "Work laptop").await;
    // The first second factor comes with recovery codes.
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("recovery codes") || page.contains("Recovery codes"),
        "{page}"
    );
    let (_, account) = browser.get(&server.url("/account")).await.page();
    assert!(account.contains("Work laptop"), "{account}");
    assert!(account.contains("never used"));
    assert_eq!(count_events(&server, "passkey_registered").await, 1);
    let stored = passkeys::list_for_user(&server.state.db, &id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].user_verified);

    // Another browser, no session: the login page offers the passkey, in the
    // username field's autofill too.
    let other = Browser::new(&server);
    let (_, login) = other.get(&authorize_url(&server, "app", "")).await.page();
    assert!(
        login.contains(r#"autocomplete="username webauthn""#),
        "{login}"
    );
    assert!(login.contains("Sign in with a passkey"));
    assert!(login.contains(r#"<script src="/static/passkey.js" defer></script>"#));
    let back = passkey_sign_in(&server, &other, &login, &mut authenticator)
        .await
        .redirect();
    let claims = id_token_after(&server, &back).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["acr"], "2");
    assert_eq!(count_events(&server, "passkey_used").await, 1);
    let stored = passkeys::list_for_user(&server.state.db, &id)
        .await
        .unwrap();
    assert_eq!(stored[0].sign_count, 1);
    assert!(stored[0].last_used_at.is_some());

    // The CLI lists it.
    let out = server.cli(&["user", "passkeys", "alice", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "Work laptop");
    assert_eq!(listed[0]["sign_count"], 1);
    let out = server.cli(&["user", "passkeys", "alice"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Work laptop"));
}

#[tokio::test]
async fn a_passkey_is_the_second_step_after_the_password() {
    let (server, id) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new();
    let (_, codes_page) = add_passkey(&server, &browser, &mut authenticator, "Phone").await;
    let codes: Vec<String> = {
        let doc = scraper::Html::parse_document(&codes_page);
        let sel = scraper::Selector::parse(".codes code").unwrap();
        doc.select(&sel).map(|c| c.text().collect()).collect()
    };
    assert_eq!(codes.len(), 10);

    // The password alone is no longer enough: the second step offers the passkey.
    let other = Browser::new(&server);
    let (_, login) = other.get(&authorize_url(&server, "app", "")).await.page();
    let (status, mfa) = other.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200);
    assert_eq!(Form::parse(&mfa).action, "/login/mfa", "{mfa}");
    let (mut form, options) = passkey_form(&mfa, "/login/mfa/passkey");
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], authenticator.credential_ids()[0].as_str());
    let credential = authenticator.authenticate(&options, &server.base);
    form.set("credential", &credential.to_string());
    let back = other.submit(&form).await.redirect();
    let claims = id_token_after(&server, &back).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "user"]));
    assert_eq!(claims["acr"], "2");

    // The passkey is lost: a recovery code still does.
    let third = Browser::new(&server);
    let (_, login) = third.get(&authorize_url(&server, "app", "")).await.page();
    let (_, mfa) = third.login(&login, "alice", PASSWORD).await.page();
    let mut form = Form::parse(&mfa);
    form.set("code", &codes[0]);
    let back = third.submit(&form).await.redirect();
    let claims = id_token_after(&server, &back).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));

    // A passkey answer that does not check out (someone else's key) is refused.
    let fourth = Browser::new(&server);
    let (_, login) = fourth.get(&authorize_url(&server, "app", "")).await.page();
    let (_, mfa) = fourth.login(&login, "alice", PASSWORD).await.page();
    let (mut form, options) = passkey_form(&mfa, "/login/mfa/passkey");
    let mut stranger = authenticator.clone();
    stranger.credentials[0].key = openssl::pkey::PKey::from_ec_key(
        openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let forged = stranger.authenticate(&options, &server.base);
    form.set("credential", &forged.to_string());
    let (status, page) = fourth.submit(&form).await.page();
    assert_eq!(status, 401);
    assert!(
        page.contains("That passkey could not be verified"),
        "{page}"
    );
    assert_eq!(count_events(&server, "mfa_failed").await, 1);
}

#[tokio::test]
async fn a_required_second_factor_can_be_a_new_passkey() {
    let (server, id) = setup().await;
    let out = server.cli(&["user", "set-mfa", "alice", "required"]);
    assert!(out.status.success());
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&authorize_url(&server, "app", "")).await.page();
    let (status, enroll) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200);
    // Either an authenticator app or a passkey.
    assert_eq!(Form::parse(&enroll).action, "/login/mfa/enroll");
    let (mut form, options) = passkey_form(&enroll, "/login/mfa/passkey");
    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&options, &server.base);
    form.set("credential", &credential.to_string());
    let (status, codes) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{codes}");
    let continue_to: String = {
        let doc = scraper::Html::parse_document(&codes);
        let sel = scraper::Selector::parse("a.button").unwrap();
        let link = doc.select(&sel).next().expect("continue link");
        link.value().attr("href").unwrap().to_string()
    };
    let back = browser.get(&server.url(&continue_to)).await.redirect();
    let claims = id_token_after(&server, &back).await;
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "user"]));
    assert_eq!(
        passkeys::count_for_user(&server.state.db, &id)
            .await
            .unwrap(),
        1
    );

    // The only second factor of a required policy cannot be removed.
    let account = account_browser_with_passkey(&server, &mut authenticator).await;
    let (_, page) = account.get(&server.url("/account")).await.page();
    assert!(page.contains("cannot be removed"), "{page}");
    let passkey_id = passkeys::list_for_user(&server.state.db, &id)
        .await
        .unwrap()[0]
        .id
        .clone();
    let mut remove = Form::parse(&page);
    remove.action = "/account/passkeys/remove".into();
    remove.fields.retain(|(n, _)| n == "csrf");
    remove.set("passkey_id", &passkey_id);
    let (status, page) = account.submit(&remove).await.page();
    assert_eq!(status, 403, "{page}");
    assert_eq!(
        passkeys::count_for_user(&server.state.db, &id)
            .await
            .unwrap(),
        1
    );
}

/// A browser on the account page after a usernameless passkey sign-in.
async fn account_browser_with_passkey(
    server: &TestServer,
    authenticator: &mut Authenticator,
) -> Browser {
    let browser = Browser::new(server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (status, page) = passkey_sign_in(server, &browser, &login, authenticator)
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your account"), "{page}");
    browser
}

#[tokio::test]
async fn without_user_verification_a_passkey_is_one_factor() {
    let (server, id) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new().with_user_verified(false);
    let (status, page) = add_passkey(&server, &browser, &mut authenticator, "Key").await;
    assert_eq!(status, 200, "{page}");
    let stored = passkeys::list_for_user(&server.state.db, &id)
        .await
        .unwrap();
    assert!(!stored[0].user_verified);

    let other = Browser::new(&server);
    let (_, login) = other.get(&authorize_url(&server, "app", "")).await.page();
    let back = passkey_sign_in(&server, &other, &login, &mut authenticator)
        .await
        .redirect();
    let claims = id_token_after(&server, &back).await;
    assert_eq!(claims["amr"], json!(["hwk"]));
    assert_eq!(claims["acr"], "1");

    // Where two factors are due, one is not enough.
    let third = Browser::new(&server);
    let (_, login) = third
        .get(&authorize_url(&server, "app", "&acr_values=2"))
        .await
        .page();
    let (status, page) = passkey_sign_in(&server, &third, &login, &mut authenticator)
        .await
        .page();
    assert_eq!(status, 401);
    assert!(page.contains("did not ask for your PIN"), "{page}");
}

#[tokio::test]
async fn a_counter_that_goes_back_is_refused_and_audited() {
    let (server, _) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new();
    add_passkey(&server, &browser, &mut authenticator, "Key").await;
    let mut clone = authenticator.clone();

    let first = Browser::new(&server);
    let (_, login) = first.get(&authorize_url(&server, "app", "")).await.page();
    passkey_sign_in(&server, &first, &login, &mut authenticator)
        .await
        .redirect();
    // The clone signs with the counter the original used already.
    let second = Browser::new(&server);
    let (_, login) = second.get(&authorize_url(&server, "app", "")).await.page();
    let (status, page) = passkey_sign_in(&server, &second, &login, &mut clone)
        .await
        .page();
    assert_eq!(status, 401);
    assert!(page.contains("could not be verified"), "{page}");
    assert_eq!(count_events(&server, "passkey_counter_regression").await, 1);
    assert_eq!(count_events(&server, "passkey_failed").await, 1);
    // The original goes on.
    let third = Browser::new(&server);
    let (_, login) = third.get(&authorize_url(&server, "app", "")).await.page();
    passkey_sign_in(&server, &third, &login, &mut authenticator)
        .await
        .redirect();
}

#[tokio::test]
async fn ceremony_state_is_single_use_short_lived_and_bound_to_its_browser() {
    let (server, _) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new();
    add_passkey(&server, &browser, &mut authenticator, "Key").await;

    // Replayed: the same answer to the same ceremony twice.
    let first = Browser::new(&server);
    let (_, login) = first.get(&authorize_url(&server, "app", "")).await.page();
    let (mut form, options) = passkey_form(&login, "/login/passkey");
    let credential = authenticator.authenticate(&options, &server.base);
    form.set("credential", &credential.to_string());
    // Another browser with its own sign-in brings this browser's ceremony.
    let intruder = Browser::new(&server);
    let (_, own_login) = intruder
        .get(&authorize_url(&server, "app", ""))
        .await
        .page();
    let (mut stolen, _) = passkey_form(&own_login, "/login/passkey");
    stolen
        .set("ceremony", form.get("ceremony").unwrap())
        .set("credential", &credential.to_string());
    let (status, page) = intruder.submit(&stolen).await.page();
    assert_eq!(status, 401);
    assert!(page.contains("expired or was already used"), "{page}");
    // Taking it elsewhere spent it: the owner must start again.
    let (status, page) = first.submit(&form).await.page();
    assert_eq!(status, 401, "{page}");
    assert!(page.contains("expired or was already used"));
    // A fresh ceremony works once, then its replay is refused.
    let (_, login) = first.get(&authorize_url(&server, "app", "")).await.page();
    let (mut form, options) = passkey_form(&login, "/login/passkey");
    let credential = authenticator.authenticate(&options, &server.base);
    form.set("credential", &credential.to_string());
    let replay = form.fields.clone();
    first.submit(&form).await.redirect();
    let (_, login) = first
        .get(&authorize_url(&server, "app", "&prompt=login"))
        .await
        .page();
    let (mut again, _) = passkey_form(&login, "/login/passkey");
    for (name, value) in &replay {
        if name == "ceremony" || name == "credential" {
            again.set(name, value);
        }
    }
    let (status, page) = first.submit(&again).await.page();
    assert_eq!(status, 401);
    assert!(page.contains("expired or was already used"), "{page}");

    // Expired: five minutes pass between the options and the answer.
    let late = Browser::new(&server);
    let (_, login) = late.get(&authorize_url(&server, "app", "")).await.page();
    let (mut form, options) = passkey_form(&login, "/login/passkey");
    let credential = authenticator.authenticate(&options, &server.base);
    form.set("credential", &credential.to_string());
    server.clock.advance(301);
    let (status, page) = late.submit(&form).await.page();
    assert_eq!(status, 401);
    assert!(page.contains("expired or was already used"), "{page}");

    // Garbage for a credential is a clear refusal, not a server error.
    let (_, login) = late.get(&authorize_url(&server, "app", "")).await.page();
    let (mut form, _) = passkey_form(&login, "/login/passkey");
    form.set("credential", "{not json");
    let (status, page) = late.submit(&form).await.page();
    assert_eq!(status, 401);
    assert!(page.contains("could not be verified"), "{page}");
}

#[tokio::test]
async fn passkeys_are_renamed_removed_and_reset() {
    let (server, id) = setup().await;
    let browser = account_browser(&server).await;
    let mut phone = Authenticator::new();
    let mut laptop = Authenticator::new();
    add_passkey(&server, &browser, &mut phone, "Phone").await;
    let (status, _) = add_passkey(&server, &browser, &mut laptop, "Laptop").await;
    assert_eq!(status, 200);
    let stored = passkeys::list_for_user(&server.state.db, &id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);

    let (_, page) = browser.get(&server.url("/account")).await.page();
    let csrf = Form::parse(&page).get("csrf").unwrap().to_string();
    let form = |action: &str, fields: &[(&str, &str)]| Form {
        action: action.into(),
        fields: std::iter::once(("csrf".to_string(), csrf.clone()))
            .chain(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect(),
    };
    let rename = form(
        "/account/passkeys/rename",
        &[("passkey_id", &stored[0].id), ("name", "  Old phone ")],
    );
    let (status, page) = browser.submit(&rename).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("Old phone"), "{page}");
    assert_eq!(count_events(&server, "passkey_renamed").await, 1);
    let too_long = "x".repeat(65);
    let rename = form(
        "/account/passkeys/rename",
        &[("passkey_id", &stored[0].id), ("name", &too_long)],
    );
    let (status, page) = browser.submit(&rename).await.page();
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("at most 64 characters"));
    let rename = form(
        "/account/passkeys/rename",
        &[("passkey_id", "someone-elses"), ("name", "Mine now")],
    );
    assert_eq!(browser.submit(&rename).await.page().0, 404);

    // Removing needs a fresh re-authentication: after five minutes, confirm first.
    server.clock.advance(301);
    let remove = form("/account/passkeys/remove", &[("passkey_id", &stored[0].id)]);
    let (status, confirm) = browser.submit(&remove).await.page();
    assert_eq!(status, 200);
    assert!(confirm.contains("Confirm it's you"), "{confirm}");
    assert_eq!(
        passkeys::count_for_user(&server.state.db, &id)
            .await
            .unwrap(),
        2
    );
    // Confirmed with a passkey that verifies the user.
    let (mut confirm_form, options) = passkey_form(&confirm, "/account/confirm");
    let credential = laptop.authenticate(&options, &server.base);
    confirm_form.set("credential", &credential.to_string());
    let (status, _) = browser.submit(&confirm_form).await.page();
    assert_eq!(status, 200);
    let (status, _) = browser.submit(&remove).await.page();
    assert_eq!(status, 200);
    assert_eq!(
        passkeys::count_for_user(&server.state.db, &id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(count_events(&server, "passkey_removed").await, 1);

    // reset-mfa takes the rest, recovery codes too.
    let out = server.cli(&["user", "reset-mfa", "alice"]);
    assert!(out.status.success());
    assert_eq!(
        passkeys::count_for_user(&server.state.db, &id)
            .await
            .unwrap(),
        0
    );
    let out = server.cli(&["user", "passkeys", "alice"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no passkeys"));
}

#[tokio::test]
async fn the_admin_api_lists_and_removes_passkeys() {
    let (server, id) = setup().await;
    let browser = account_browser(&server).await;
    let mut authenticator = Authenticator::new();
    add_passkey(&server, &browser, &mut authenticator, "Key").await;
    let mut ops = client("ops-bot", false, true, &["client_credentials"]);
    ops.allowed_scopes = vec!["gatehouse:admin".into()];
    server.register(&ops).await;
    let (status, _, body) = token_request(
        &server,
        Some(("ops-bot", SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "gatehouse:admin"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(server.url(&format!("/admin/api/v1/users/{id}/passkeys")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "Key");
    assert_eq!(
        items[0]["credential_id"],
        authenticator.credential_ids()[0].as_str()
    );
    let passkey_id = items[0]["id"].as_str().unwrap();
    let url = server.url(&format!("/admin/api/v1/users/{id}/passkeys/{passkey_id}"));
    let response = http.delete(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response = http.delete(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
