//! The sign-in decided in one place: each attack below was possible when the steps
//! decided "what next" on their own. Every test sends the attack and checks the
//! refusal, then that the honest path still works.

mod common;

use common::*;
use gatehouse::store::{audit, sessions, users};
use serde_json::Value;

/// A server with alice and bob, a client that asks consent ("web") and one that
/// does not ("app"); both may refresh.
async fn setup() -> (TestServer, String, String) {
    let server = TestServer::start().await;
    let alice = server.add_user("alice", None, None).await;
    let bob = server.add_user("bob", None, None).await;
    let grant_types = ["authorization_code", "refresh_token"];
    server
        .add_client_with("web", false, false, &grant_types)
        .await;
    server
        .add_client_with("app", false, true, &grant_types)
        .await;
    (server, alice, bob)
}

fn action(html: &str) -> String {
    Form::parse(html).action
}

fn request_id(html: &str) -> String {
    Form::parse(html).get("request_id").unwrap().to_string()
}

async fn submit_code(browser: &Browser, page: &str, value: &str) -> Outcome {
    let mut form = Form::parse(page);
    form.set("code", value);
    browser.submit(&form).await
}

/// Signs `user` in to `client` with the password alone; returns the tokens.
async fn sign_in(server: &TestServer, browser: &Browser, client: &str, user: &str) -> Value {
    let back = browser
        .authorize(&authorize_url(server, client, ""), user)
        .await;
    let (status, tokens) = exchange(server, client, &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn refresh(server: &TestServer, client: &str, token: &str) -> (reqwest::StatusCode, Value) {
    let (status, _, body) = token_request(
        server,
        Some((client, SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    (status, body)
}

// Defect: a session lacking a second factor now due could post /consent and get a code.

#[tokio::test]
async fn consent_post_without_a_due_second_factor_goes_to_that_step() {
    let (server, alice, _) = setup().await;
    let browser = Browser::new(&server);
    // Signed in with the password only, at the consent page of "web".
    let (_, login) = browser.get(&authorize_url(&server, "web", "")).await.page();
    let (_, consent) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(action(&consent), "/consent");

    // Alice turns on TOTP meanwhile (another tab): the consent answer is no longer enough.
    enroll_totp(&server, &alice).await;
    let (status, step) = browser.consent(&consent, "allow").await.page();
    assert_eq!(status, 200);
    assert_eq!(action(&step), "/login/mfa", "{step}");

    // The code is asked for alone (step-up), then consent, then the code for the client.
    let (_, consent) = submit_code(&browser, &step, &totp_code(&server))
        .await
        .page();
    assert_eq!(action(&consent), "/consent");
    let back = browser.consent(&consent, "allow").await.redirect();
    let (status, tokens) = exchange(&server, "web", &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
    assert_eq!(id["acr"], "2");
}

#[tokio::test]
async fn consent_post_after_the_policy_became_required_asks_for_a_new_sign_in() {
    let (server, alice, _) = setup().await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&authorize_url(&server, "web", "")).await.page();
    let (_, consent) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(action(&consent), "/consent");

    users::set_mfa_policy(
        &server.state.db,
        &alice,
        Some("required"),
        server.clock.now(),
    )
    .await
    .unwrap();
    // Nothing set up yet: enrollment starts from the password, never from a cookie.
    let (status, login) = browser.consent(&consent, "allow").await.page();
    assert_eq!(status, 200);
    assert_eq!(action(&login), "/login");
    let (_, enroll) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(action(&enroll), "/login/mfa/enroll");
}

#[tokio::test]
async fn consent_form_replayed_onto_a_request_that_wants_acr_2_issues_nothing() {
    let (server, alice, _) = setup().await;
    enroll_totp(&server, &alice).await;
    let browser = Browser::new(&server);
    // A session with the second factor satisfies acr_values=2.
    let (_, login) = browser.get(&authorize_url(&server, "web", "")).await.page();
    let (_, step) = browser.login(&login, "alice", PASSWORD).await.page();
    let (_, consent) = submit_code(&browser, &step, &totp_code(&server))
        .await
        .page();
    assert_eq!(action(&consent), "/consent");
    let (_, again) = browser
        .get(&authorize_url(&server, "web", "&acr_values=2"))
        .await
        .page();
    assert_eq!(action(&again), "/consent");

    // A password-only session does not, whatever consent form is posted for it.
    let bob_browser = Browser::new(&server);
    let bob = users::find_by_username(&server.state.db, "bob")
        .await
        .unwrap()
        .unwrap();
    let (_, login) = bob_browser
        .get(&authorize_url(&server, "web", ""))
        .await
        .page();
    let (_, bob_consent) = bob_browser.login(&login, "bob", PASSWORD).await.page();
    enroll_totp(&server, &bob.id).await;
    let (_, acr_step) = bob_browser
        .get(&authorize_url(&server, "web", "&acr_values=2"))
        .await
        .page();
    assert_eq!(action(&acr_step), "/login/mfa");
    // Post the consent form of the first request with the acr=2 request's id.
    let mut form = Form::parse(&bob_consent);
    form.set("request_id", &request_id(&acr_step))
        .set("decision", "allow");
    let (status, page) = bob_browser.submit(&form).await.page();
    assert_eq!(status, 200);
    assert_eq!(
        action(&page),
        "/login/mfa",
        "no code without the second factor"
    );
}

// Defect: a second browser that knew a request_id could finish someone else's sign-in.

#[tokio::test]
async fn a_request_id_is_worthless_in_another_browser() {
    let (server, _, _) = setup().await;
    let victim = Browser::new(&server);
    let (_, victim_login) = victim.get(&authorize_url(&server, "app", "")).await.page();
    let stolen = request_id(&victim_login);

    let attacker = Browser::new(&server);
    sign_in(&server, &attacker, "app", "bob").await;
    // The attacker's own CSRF token, the victim's request.
    let (_, own) = attacker
        .get(&authorize_url(&server, "web", ""))
        .await
        .page();
    let csrf = Form::parse(&own).get("csrf").unwrap().to_string();
    let expect_refused = |outcome: Outcome, what: &str| {
        let (status, html) = outcome.page();
        assert_eq!(status, 400, "{what}: {html}");
        assert!(
            html.contains("started in another browser"),
            "{what}: {html}"
        );
    };
    for path in ["/authorize/continue", "/login", "/login/mfa", "/consent"] {
        let url = server.url(&format!("{path}?request_id={stolen}"));
        expect_refused(attacker.get(&url).await, path);
    }
    let mut login = Form::parse(&victim_login);
    login
        .set("csrf", &csrf)
        .set("username", "bob")
        .set("password", PASSWORD);
    expect_refused(attacker.submit(&login).await, "POST /login");
    let consent = Form {
        action: "/consent".into(),
        fields: vec![
            ("request_id".into(), stolen.clone()),
            ("csrf".into(), csrf.clone()),
            ("decision".into(), "allow".into()),
        ],
    };
    expect_refused(attacker.submit(&consent).await, "POST /consent");

    // The victim's own browser still finishes its sign-in.
    let back = victim
        .login(&victim_login, "alice", PASSWORD)
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
}

// Defect: a correct password reset the counter of wrong second factors.

#[tokio::test]
async fn wrong_second_factors_keep_counting_across_passwords() {
    let (server, alice, _) = setup().await;
    enroll_totp(&server, &alice).await;
    let browser = Browser::new(&server);
    let second_step = || async {
        let (_, login) = browser.get(&authorize_url(&server, "app", "")).await.page();
        let (status, step) = browser.login(&login, "alice", PASSWORD).await.page();
        assert_eq!(status, 200, "the password is never locked by wrong codes");
        assert_eq!(action(&step), "/login/mfa");
        step
    };
    // Three free wrong codes, each after a fresh, correct password.
    for round in 1..=3 {
        let step = second_step().await;
        let (status, _) = submit_code(&browser, &step, "000000").await.page();
        assert_eq!(status, 401, "round {round}");
    }
    // The fourth locks the second factor, even behind a new correct password.
    let step = second_step().await;
    let (status, _) = submit_code(&browser, &step, "000000").await.page();
    assert_eq!(status, 401);
    let step = second_step().await;
    let response = browser
        .http
        .post(server.url("/login/mfa"))
        .form(&Form::parse(&step).set("code", &totp_code(&server)).fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let events = audit::recent(&server.state.db, 50).await.unwrap();
    assert!(events.iter().any(|e| e.kind == "mfa_locked"));

    // After the wait the right code works and clears the count.
    server.clock.advance(1);
    let back = submit_code(&browser, &step, &totp_code(&server))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());
}

// Defect: turning off TOTP or regenerating codes needed only the session.

async fn signed_in_with_totp(server: &TestServer, alice: &str) -> Browser {
    enroll_totp(server, alice).await;
    let browser = Browser::new(server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (_, step) = browser.login(&login, "alice", PASSWORD).await.page();
    let (status, account) = submit_code(&browser, &step, &totp_code(server))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(account.contains("Your account"), "{account}");
    browser
}

fn account_form(html: &str, action: &str) -> Option<Form> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("form[action=\"{action}\"]")).unwrap();
    doc.select(&sel).next().map(|f| Form::parse(&f.html()))
}

#[tokio::test]
async fn security_changes_need_a_fresh_confirmation() {
    let (server, alice, _) = setup().await;
    let browser = signed_in_with_totp(&server, &alice).await;
    let (_, account) = browser.get(&server.url("/account")).await.page();
    server.clock.advance(6 * 60);
    for action in ["/account/totp/remove", "/account/recovery-codes"] {
        let form = account_form(&account, action).unwrap();
        let (status, page) = browser.submit(&form).await.page();
        assert_eq!(status, 200, "{action}");
        assert_eq!(Form::parse(&page).action, "/account/confirm", "{action}");
        assert!(page.contains("Confirm it"), "{action}");
    }
    let user = users::find(&server.state.db, &alice)
        .await
        .unwrap()
        .unwrap();
    assert!(user.totp_secret.is_some(), "nothing changed");

    // The password alone does not confirm a user who has a second factor.
    let (_, confirm) = browser.get(&server.url("/account/confirm")).await.page();
    let mut form = Form::parse(&confirm);
    form.set("password", PASSWORD).set("code", "000000");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 401);
    assert!(page.contains("not correct"));
    let mut form = Form::parse(&page);
    form.set("password", "wrong password")
        .set("code", &totp_code(&server));
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 401);

    server.clock.advance(30);
    let mut form = Form::parse(&page);
    form.set("password", PASSWORD)
        .set("code", &totp_code(&server));
    let (status, account) = browser.submit(&form).await.page();
    assert_eq!(status, 200);
    assert!(account.contains("Your account"));
    let (status, _) = browser
        .submit(&account_form(&account, "/account/totp/remove").unwrap())
        .await
        .page();
    assert_eq!(status, 200);
    let user = users::find(&server.state.db, &alice)
        .await
        .unwrap()
        .unwrap();
    assert!(user.totp_secret.is_none(), "turned off after confirming");
    let kinds: Vec<String> = audit::recent(&server.state.db, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for kind in [
        "reauth_failed",
        "mfa_failed",
        "reauthenticated",
        "mfa_removed",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn a_required_second_factor_cannot_be_turned_off() {
    let (server, alice, _) = setup().await;
    users::set_mfa_policy(
        &server.state.db,
        &alice,
        Some("required"),
        server.clock.now(),
    )
    .await
    .unwrap();
    let browser = signed_in_with_totp(&server, &alice).await;
    let (_, account) = browser.get(&server.url("/account")).await.page();
    assert!(
        account_form(&account, "/account/totp/remove").is_none(),
        "not offered"
    );
    assert!(account_form(&account, "/account/recovery-codes").is_some());
    let csrf = account_form(&account, "/account/recovery-codes")
        .unwrap()
        .get("csrf")
        .unwrap()
        .to_string();
    let forged = Form {
        action: "/account/totp/remove".into(),
        fields: vec![("csrf".into(), csrf)],
    };
    let (status, page) = browser.submit(&forged).await.page();
    assert_eq!(status, 403);
    assert!(page.contains("required"));
    let user = users::find(&server.state.db, &alice)
        .await
        .unwrap()
        .unwrap();
    assert!(user.totp_secret.is_some());
}

// Defect: /logout with anyone's ID token signed the browser out silently, and only
// cleared the cookie.

#[tokio::test]
async fn logout_with_another_users_hint_asks_and_every_logout_ends_the_session() {
    let (server, alice, _) = setup().await;
    let bob_browser = Browser::new(&server);
    let bob_tokens = sign_in(&server, &bob_browser, "app", "bob").await;
    let browser = Browser::new(&server);
    let tokens = sign_in(&server, &browser, "app", "alice").await;

    let hint = bob_tokens["id_token"].as_str().unwrap();
    let (status, page) = browser
        .get(&server.url(&format!("/logout?id_token_hint={hint}")))
        .await
        .page();
    assert_eq!(status, 200, "asks, never redirects");
    assert_eq!(action(&page), "/logout/confirm");
    assert!(page.contains("another account"));
    let now = server.clock.now();
    assert_eq!(
        sessions::list_active(&server.state.db, &alice, now)
            .await
            .unwrap()
            .len(),
        1,
        "still signed in"
    );

    // Confirmed: the server-side session and its grant end, not only the cookie.
    let (status, _) = browser.submit(&Form::parse(&page)).await.page();
    assert_eq!(status, 200);
    assert!(sessions::list_active(&server.state.db, &alice, now)
        .await
        .unwrap()
        .is_empty());
    let (status, body) = refresh(&server, "app", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    // Bob, in his own browser, is untouched.
    let (status, _) = refresh(
        &server,
        "app",
        bob_tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

// Defect: logout tokens (and access tokens) were accepted as id_token_hint.

#[tokio::test]
async fn only_id_tokens_are_accepted_as_hints() {
    let (server, alice, _) = setup().await;
    let browser = Browser::new(&server);
    let tokens = sign_in(&server, &browser, "app", "alice").await;
    let session = sessions::list_active(&server.state.db, &alice, server.clock.now())
        .await
        .unwrap()
        .remove(0);
    let logout_token = gatehouse::keys::jwt::sign(
        &server.state.keys.get(),
        "ES256",
        "logout+jwt",
        gatehouse::domain::backchannel::logout_token_claims(
            &server.base,
            "app",
            &alice,
            &session.id,
            server.clock.now(),
        ),
    )
    .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    for hint in [logout_token.as_str(), access_token] {
        let (status, page) = browser
            .get(&server.url(&format!("/logout?id_token_hint={hint}")))
            .await
            .page();
        assert_eq!(status, 400);
        assert!(page.contains("invalid ID token"), "{page}");
        let back = browser
            .get(&authorize_url(
                &server,
                "app",
                &format!("&prompt=none&id_token_hint={hint}"),
            ))
            .await
            .redirect();
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    }
    assert_eq!(
        sessions::list_active(&server.state.db, &alice, server.clock.now())
            .await
            .unwrap()
            .len(),
        1,
        "nothing ended"
    );
    // The real ID token still works as a hint and signs out at once.
    let hint = tokens["id_token"].as_str().unwrap();
    let (status, _) = browser
        .get(&server.url(&format!("/logout?id_token_hint={hint}")))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        sessions::list_active(&server.state.db, &alice, server.clock.now())
            .await
            .unwrap()
            .is_empty()
    );
}

// Defect: changing the password ended nothing.

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions() {
    let (server, _, _) = setup().await;
    let here = Browser::new(&server);
    let there = Browser::new(&server);
    let here_tokens = sign_in(&server, &here, "app", "alice").await;
    let there_tokens = sign_in(&server, &there, "app", "alice").await;
    let offline = {
        let url = authorize_url(&server, "web", "").replace(
            "scope=openid%20email%20profile",
            "scope=openid%20offline_access",
        );
        let back = there.authorize(&url, "alice").await;
        let (status, tokens) = exchange(&server, "web", &param(&back, "code").unwrap()).await;
        assert_eq!(status, 200);
        tokens
    };

    let (_, account) = here.get(&server.url("/account")).await.page();
    let mut form = account_form(&account, "/account/password").unwrap();
    form.set("current_password", PASSWORD)
        .set("new_password", "a brand new passphrase");
    let (status, page) = here.submit(&form).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("1 other session was signed out"), "{page}");

    // The other browser is signed out, server-side; its grant without offline_access ends.
    let (_, other) = there.get(&server.url("/account")).await.page();
    assert_eq!(action(&other), "/login");
    let (status, body) = refresh(
        &server,
        "app",
        there_tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&server, "web", offline["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "offline access outlives the session");
    // This browser stays signed in, with its grant.
    let (_, mine) = here.get(&server.url("/account")).await.page();
    assert!(mine.contains("Your account"));
    let (status, _) = refresh(
        &server,
        "app",
        here_tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}
