//! The admin console, driven like a browser: who gets in (sign-in, step-up, 403),
//! every kind of action through its form, CSRF, the confirmation step, and the
//! audit events naming the admin.

mod common;

use common::*;
use gatehouse::store::audit::{self, Filter};
use gatehouse::store::{clients, groups, users};
use reqwest::StatusCode;

/// The form on `html` whose action is `action`, with what a browser would send:
/// ticked boxes only, text areas, and each select's chosen option.
fn form_at(html: &str, action: &str) -> Form {
    let doc = scraper::Html::parse_document(html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let form = doc
        .select(&sel(&format!("form[action=\"{action}\"]")))
        .next()
        .unwrap_or_else(|| panic!("no form {action} in {html}"));
    let mut fields = Vec::new();
    for field in form.select(&sel("input[name], textarea[name], select[name]")) {
        let e = field.value();
        let name = e.attr("name").unwrap_or_default().to_string();
        let value = match e.name() {
            "textarea" => field.text().collect::<String>(),
            "select" => {
                let options: Vec<_> = field.select(&sel("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                chosen
                    .and_then(|o| o.value().attr("value"))
                    .unwrap_or_default()
                    .to_string()
            }
            _ => {
                let kind = e.attr("type").unwrap_or("text");
                if (kind == "checkbox" || kind == "radio") && e.attr("checked").is_none() {
                    continue;
                }
                e.attr("value").unwrap_or_default().to_string()
            }
        };
        fields.push((name, value));
    }
    Form {
        action: action.to_string(),
        fields,
    }
}

/// Ticks or unticks the box `name`=`value`.
fn tick(form: &mut Form, name: &str, value: &str, on: bool) {
    form.fields.retain(|(n, v)| !(n == name && v == value));
    if on {
        form.fields.push((name.to_string(), value.to_string()));
    }
}

/// A server with an administrator `root` (TOTP enrolled, in the admin group).
async fn with_admin() -> (TestServer, String) {
    admin_on(TestServer::start().await).await
}

/// `server` with the administrator `root`.
async fn admin_on(server: TestServer) -> (TestServer, String) {
    let id = server.add_user("root", None, Some("Root Admin")).await;
    enroll_totp(&server, &id).await;
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    gatehouse::domain::groups::make_admin(&server.state.db, "admins", &user, server.clock.now())
        .await
        .unwrap();
    (server, id)
}

/// Signs `root` in to the console at `path` with password and code; returns the page.
async fn admin_browser(server: &TestServer, path: &str) -> (Browser, String) {
    let browser = Browser::new(server);
    let (status, login) = browser.get(&server.url(path)).await.page();
    assert_eq!(status, 200);
    let (_, mfa) = browser.login(&login, "root", PASSWORD).await.page();
    let mut form = Form::parse(&mfa);
    assert_eq!(form.action, "/login/mfa", "{mfa}");
    form.set("code", &totp_code(server));
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{page}");
    (browser, page)
}

async fn console_events(server: &TestServer, kind: &str) -> Vec<audit::AuditEvent> {
    audit::page(
        &server.state.db,
        &Filter {
            kind: Some(kind.into()),
            ..Filter::default()
        },
        None,
        100,
    )
    .await
    .unwrap()
    .0
}

#[tokio::test]
async fn a_browser_without_a_session_signs_in_with_two_factors_and_comes_back() {
    let (server, _) = with_admin().await;
    let (_, page) = admin_browser(&server, "/admin/users?q=ro").await;
    assert!(page.contains("<h1>Users</h1>"), "{page}");
    assert!(page.contains("href=\"/admin/users/"), "root is listed");
    // The overview, with its counts, keys and recent events (a new code: each is
    // good once).
    server.clock.advance(30);
    let browser = admin_browser(&server, "/admin").await.0;
    let (status, overview) = browser.get(&server.url("/admin")).await.page();
    assert_eq!(status, 200);
    assert!(overview.contains("active sessions"));
    assert!(overview.contains("state-current"), "a current signing key");
    assert!(overview.contains("login_ok"), "recent events");
}

#[tokio::test]
async fn console_pages_carry_the_security_headers_and_are_not_cached() {
    let (server, _) = with_admin().await;
    let (browser, _) = admin_browser(&server, "/admin").await;
    let response = browser
        .http
        .get(server.url("/admin/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_session_without_a_second_factor_is_stepped_up_first() {
    let server = TestServer::start().await;
    let id = server.add_user("root", None, None).await;
    let user = users::find(&server.state.db, &id).await.unwrap().unwrap();
    gatehouse::domain::groups::make_admin(&server.state.db, "admins", &user, 0)
        .await
        .unwrap();
    let browser = Browser::new(&server);
    // Signed in to the account page with a password only...
    let (_, login) = browser.get(&server.url("/account")).await.page();
    let (_, account) = browser.login(&login, "root", PASSWORD).await.page();
    assert!(account.contains("Your account"));
    // ...the console asks for a second factor, which root must first set up,
    // starting from the password (a session cookie alone does not enroll one).
    let (status, login) = browser.get(&server.url("/admin")).await.page();
    assert_eq!(status, 200);
    assert_eq!(Form::parse(&login).action, "/login");
    let (_, page) = browser.login(&login, "root", PASSWORD).await.page();
    assert!(
        page.contains("action=\"/login/mfa/enroll\""),
        "enrollment is offered: {page}"
    );
    assert!(!page.contains("Overview"));

    // With TOTP enrolled, a password-only session is asked for the code.
    enroll_totp(&server, &id).await;
    let other = Browser::new(&server);
    let (_, page) = other.get(&server.url("/admin/groups")).await.page();
    let (_, mfa) = other.login(&page, "root", PASSWORD).await.page();
    assert_eq!(Form::parse(&mfa).action, "/login/mfa");
    let mut form = Form::parse(&mfa);
    form.set("code", "000000");
    let (status, _) = other.submit(&form).await.page();
    assert_eq!(status, 401, "a wrong code does not get in");
    let (_, still) = other.get(&server.url("/admin/groups")).await.page();
    assert!(!still.contains("<h1>Groups</h1>"));
}

#[tokio::test]
async fn a_member_of_no_admin_group_gets_403() {
    let (server, _) = with_admin().await;
    let bob = server.add_user("bob", None, None).await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&server.url("/account")).await.page();
    browser.login(&login, "bob", PASSWORD).await.page();
    for path in ["/admin", "/admin/users", "/admin/keys"] {
        let (status, page) = browser.get(&server.url(path)).await.page();
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("Not an administrator"));
    }
    // A form post is refused the same way, and changes nothing.
    let response = browser
        .http
        .post(server.url("/admin/groups"))
        .form(&[("csrf", "x"), ("name", "sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(groups::find_by_name(&server.state.db, "sneaky")
        .await
        .unwrap()
        .is_none());
    let denied = console_events(&server, "console_denied").await;
    assert_eq!(denied.len(), 4);
    assert_eq!(denied[0].user_id.as_deref(), Some(bob.as_str()));
}

#[tokio::test]
async fn users_are_created_edited_disabled_and_deleted_through_the_forms() {
    let (server, admin_id) = with_admin().await;
    let (browser, _) = admin_browser(&server, "/admin/users/new").await;
    let (_, new) = browser.get(&server.url("/admin/users/new")).await.page();
    let mut form = form_at(&new, "/admin/users");
    form.set("username", "Carol")
        .set("name", "Carol C")
        .set("email", "carol@example.com")
        .set("password", "a long enough password");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Created."));
    let carol = users::find_by_username(&server.state.db, "carol")
        .await
        .unwrap()
        .expect("created, case-folded");
    let path = format!("/admin/users/{}", carol.id);

    // The same username again is refused with the reason, and a 409.
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 409);
    assert!(page.contains("already exists"), "{page}");
    // A bad email is a 400 naming the problem.
    form.set("username", "dave").set("email", "not an email");
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 400);

    // Edit the profile.
    let (_, shown) = browser.get(&server.url(&path)).await.page();
    let mut profile = form_at(&shown, &path);
    profile
        .set("name", "Carol Cooper")
        .set("mfa_policy", "required");
    let (status, page) = browser.submit(&profile).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("Saved."));
    let edited = users::find(&server.state.db, &carol.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(edited.name.as_deref(), Some("Carol Cooper"));
    assert_eq!(edited.mfa_policy.as_deref(), Some("required"));
    // The form read before that change is stale now: 412, nothing overwritten.
    profile.set("name", "Overwritten");
    let (status, page) = browser.submit(&profile).await.page();
    assert_eq!(status, 412, "{page}");
    let kept = users::find(&server.state.db, &carol.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.name.as_deref(), Some("Carol Cooper"));

    // A password under the policy is refused; a good one is set.
    let (_, shown) = browser.get(&server.url(&path)).await.page();
    let mut password = form_at(&shown, &format!("{path}/password"));
    password.set("password", "short");
    let (status, page) = browser.submit(&password).await.page();
    assert_eq!(status, 400);
    assert!(page.contains("Not saved"));
    password.set("password", "another long password");
    let (_, page) = browser.submit(&password).await.page();
    assert!(page.contains("The password is set."));

    // Disable asks first, naming what will happen; only the confirmed post acts.
    let disable = form_at(&shown, &format!("{path}/disable"));
    let (status, confirm) = browser.submit(&disable).await.page();
    assert_eq!(status, 200);
    assert!(confirm.contains("Disable carol?"), "{confirm}");
    assert!(confirm.contains("signed out everywhere"));
    assert!(
        !users::find(&server.state.db, &carol.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/disable")))
        .await
        .page();
    assert!(page.contains("The user is disabled"));
    assert!(
        users::find(&server.state.db, &carol.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let (_, shown) = browser.get(&server.url(&path)).await.page();
    let (_, page) = browser
        .submit(&form_at(&shown, &format!("{path}/enable")))
        .await
        .page();
    assert!(page.contains("enabled again"));

    // An admin cannot disable or delete their own account here.
    let own = format!("/admin/users/{admin_id}");
    let (_, mine) = browser.get(&server.url(&own)).await.page();
    assert!(!mine.contains(&format!("action=\"{own}/disable\"")));
    let csrf = form_at(&mine, &own).get("csrf").unwrap().to_string();
    let response = browser
        .http
        .post(server.url(&format!("{own}/delete")))
        .form(&[("csrf", csrf.as_str()), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);

    // A wrong CSRF token changes nothing, even confirmed.
    let response = browser
        .http
        .post(server.url(&format!("{path}/delete")))
        .form(&[("csrf", "forged"), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(users::find(&server.state.db, &carol.id)
        .await
        .unwrap()
        .is_some());

    // Delete, confirmed.
    let (_, shown) = browser.get(&server.url(&path)).await.page();
    let (_, confirm) = browser
        .submit(&form_at(&shown, &format!("{path}/delete")))
        .await
        .page();
    assert!(confirm.contains("cannot be undone"));
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/delete")))
        .await
        .page();
    assert!(page.contains("Removed."));
    assert!(users::find(&server.state.db, &carol.id)
        .await
        .unwrap()
        .is_none());
    let (status, _) = browser.get(&server.url(&path)).await.page();
    assert_eq!(status, 404);

    // Every change is audited with the admin as actor.
    let actor = audit::actor_user(&admin_id);
    for kind in [
        "user_created",
        "user_updated",
        "password_set",
        "user_removed",
    ] {
        let events = console_events(&server, kind).await;
        assert!(!events.is_empty(), "{kind}");
        assert!(events
            .iter()
            .all(|e| e.actor.as_deref() == Some(actor.as_str())));
        assert!(events[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("by root in the console"));
        assert!(events[0].ip.is_some());
    }
}

#[tokio::test]
async fn sessions_are_revoked_and_second_factors_reset() {
    let (server, _) = with_admin().await;
    let eve_id = server.add_user("eve", None, None).await;
    enroll_totp(&server, &eve_id).await;
    // Eve signs in to her account page.
    let eve = Browser::new(&server);
    let (_, login) = eve.get(&server.url("/account")).await.page();
    let (_, mfa) = eve.login(&login, "eve", PASSWORD).await.page();
    let mut code = Form::parse(&mfa);
    code.set("code", &totp_code(&server));
    let (_, account) = eve.submit(&code).await.page();
    assert!(account.contains("Your account"));

    let (browser, _) = admin_browser(&server, "/admin").await;
    let path = format!("/admin/users/{eve_id}");
    let (_, shown) = browser.get(&server.url(&path)).await.page();
    assert!(shown.contains("Authenticator app: set up"));
    let end = form_at(&shown, &format!("{path}/sessions/end"));
    let (_, confirm) = browser.submit(&end).await.page();
    assert!(confirm.contains("End this session?"));
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/sessions/end")))
        .await
        .page();
    assert!(page.contains("The session is ended."));
    // Eve's browser is signed out.
    let (_, again) = eve.get(&server.url("/account")).await.page();
    assert!(!again.contains("Your account"));
    assert_eq!(console_events(&server, "session_ended").await.len(), 1);

    let (_, confirm) = browser
        .submit(&form_at(&page, &format!("{path}/reset-mfa")))
        .await
        .page();
    assert!(confirm.contains("Reset the second factors of eve?"));
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/reset-mfa")))
        .await
        .page();
    assert!(page.contains("Authenticator app: none"));
    assert_eq!(console_events(&server, "mfa_reset").await.len(), 1);
}

#[tokio::test]
async fn groups_and_memberships() {
    let (server, _) = with_admin().await;
    let frank = server.add_user("frank", None, None).await;
    let (browser, page) = admin_browser(&server, "/admin/groups").await;
    let mut create = form_at(&page, "/admin/groups");
    create
        .set("name", "Staff")
        .set("description", "Everyone on the payroll");
    let (_, page) = browser.submit(&create).await.page();
    assert!(page.contains("Created."));
    let staff = groups::find_by_name(&server.state.db, "staff")
        .await
        .unwrap()
        .expect("folded name");
    let path = format!("/admin/groups/{}", staff.id);
    // A bad name is refused.
    create.set("name", "no spaces allowed");
    let (status, _) = browser.submit(&create).await.page();
    assert_eq!(status, 400);

    let mut add = form_at(&page, &format!("{path}/members/add"));
    add.set("username", "nobody");
    let (status, _) = browser.submit(&add).await.page();
    assert_eq!(status, 400, "an unknown user");
    add.set("username", "frank");
    let (_, page) = browser.submit(&add).await.page();
    assert!(page.contains("The member is added."));
    assert!(
        gatehouse::domain::groups::is_member(&server.state.db, "staff", &frank)
            .await
            .unwrap()
    );

    let mut edit = form_at(&page, &path);
    edit.set("name", "employees");
    let (_, page) = browser.submit(&edit).await.page();
    assert!(page.contains("<h1>employees</h1>"));

    let (_, confirm) = browser
        .submit(&form_at(&page, &format!("{path}/members/remove")))
        .await
        .page();
    assert!(confirm.contains("Take frank out of employees?"));
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/members/remove")))
        .await
        .page();
    assert!(page.contains("The member is removed."));

    // The admin group is neither renamed nor deleted from the console.
    let admins = groups::find_by_name(&server.state.db, "admins")
        .await
        .unwrap()
        .unwrap();
    let admins_path = format!("/admin/groups/{}", admins.id);
    let (_, shown) = browser.get(&server.url(&admins_path)).await.page();
    let (status, _) = browser
        .submit(&form_at(&shown, &format!("{admins_path}/delete")))
        .await
        .page();
    assert_eq!(status, 409);

    let (_, confirm) = browser
        .submit(&form_at(&page, &format!("{path}/delete")))
        .await
        .page();
    let (_, page) = browser
        .submit(&form_at(&confirm, &format!("{path}/delete")))
        .await
        .page();
    assert!(page.contains("Removed."));
    for kind in [
        "group_created",
        "group_member_added",
        "group_updated",
        "group_member_removed",
        "group_removed",
    ] {
        assert_eq!(console_events(&server, kind).await.len(), 1, "{kind}");
    }
}

async fn client_credentials(server: &TestServer, client_id: &str, secret: &str) -> StatusCode {
    reqwest::Client::new()
        .post(server.url("/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .status()
}

fn shown_secret(page: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse("#client-secret").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|i| i.value().attr("value"))
        .expect("the secret is shown")
        .to_string()
}

#[tokio::test]
async fn applications_are_created_edited_rotated_and_deleted() {
    let (server, _) = with_admin().await;
    let (browser, page) = admin_browser(&server, "/admin/applications/new").await;
    let mut form = form_at(&page, "/admin/applications");
    form.set("client_id", "reports").set("name", "Reports").set(
        "redirect_uris",
        "https://reports.example/cb\r\nhttps://reports.example/cb2",
    );
    tick(&mut form, "grant_types", "client_credentials", true);
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("shown only this once"));
    assert!(page.contains("data-copy=\"client-secret\""));
    assert!(page.contains("/static/pages.js"));
    let secret = shown_secret(&page);
    assert_eq!(client_credentials(&server, "reports", &secret).await, 200);
    let stored = clients::find(&server.state.db, "reports")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redirect_uris.len(), 2);
    // The secret is not on the application's page afterwards.
    let (_, shown) = browser
        .get(&server.url("/admin/applications/reports"))
        .await
        .page();
    assert!(!shown.contains(&secret));

    // A redirect URI that is not absolute is refused.
    let mut edit = form_at(&shown, "/admin/applications/reports");
    edit.set("redirect_uris", "not a uri");
    let (status, _) = browser.submit(&edit).await.page();
    assert_eq!(status, 400);
    edit.set("redirect_uris", "https://reports.example/new")
        .set("name", "Reports 2");
    let (_, page) = browser.submit(&edit).await.page();
    assert!(page.contains("Saved."), "{page}");
    let stored = clients::find(&server.state.db, "reports")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redirect_uris, vec!["https://reports.example/new"]);
    assert_eq!(stored.name, "Reports 2");

    // Rotate: confirmation, then a new secret shown once; the old one stops.
    let (_, confirm) = browser
        .submit(&form_at(&page, "/admin/applications/reports/rotate-secret"))
        .await
        .page();
    assert!(confirm.contains("stops working now"), "{confirm}");
    let (status, page) = browser
        .submit(&form_at(
            &confirm,
            "/admin/applications/reports/rotate-secret",
        ))
        .await
        .page();
    assert_eq!(status, 200);
    let rotated = shown_secret(&page);
    assert_ne!(rotated, secret);
    assert_eq!(client_credentials(&server, "reports", &secret).await, 401);
    assert_eq!(client_credentials(&server, "reports", &rotated).await, 200);

    // A public client gets no secret.
    let (_, new) = browser
        .get(&server.url("/admin/applications/new"))
        .await
        .page();
    let mut public = form_at(&new, "/admin/applications");
    public
        .set("client_id", "spa")
        .set("kind", "public")
        .set("redirect_uris", "https://spa.example/cb");
    let (status, page) = browser.submit(&public).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("Public (PKCE, no secret)"));
    assert!(!page.contains("rotate-secret"));

    // Delete, confirmed.
    let (_, shown) = browser
        .get(&server.url("/admin/applications/reports"))
        .await
        .page();
    let (_, confirm) = browser
        .submit(&form_at(&shown, "/admin/applications/reports/delete"))
        .await
        .page();
    let (_, page) = browser
        .submit(&form_at(&confirm, "/admin/applications/reports/delete"))
        .await
        .page();
    assert!(page.contains("Removed."));
    assert!(clients::find(&server.state.db, "reports")
        .await
        .unwrap()
        .is_none());
    assert_eq!(client_credentials(&server, "reports", &rotated).await, 401);
    for kind in [
        "client_created",
        "client_updated",
        "client_secret_rotated",
        "client_removed",
    ] {
        let events = console_events(&server, kind).await;
        assert!(!events.is_empty(), "{kind}");
        assert!(events[0].actor.as_deref().unwrap().starts_with("user:"));
    }
}

#[tokio::test]
async fn keys_rotate_once_the_next_key_is_published_and_the_audit_log_filters() {
    let (server, admin_id) = with_admin().await;
    let (browser, page) = admin_browser(&server, "/admin/keys").await;
    assert!(page.contains("state-next") && page.contains("state-current"));
    let (_, confirm) = browser
        .submit(&form_at(&page, "/admin/keys/rotate"))
        .await
        .page();
    assert!(confirm.contains("Rotate the signing keys?"));
    // The next key is younger than JWKS caches: refused with the reason.
    let (status, refused) = browser
        .submit(&form_at(&confirm, "/admin/keys/rotate"))
        .await
        .page();
    assert_eq!(status, 409, "{refused}");
    assert!(refused.contains("JWKS caches"));
    server.clock.advance(301);
    let (status, page) = browser
        .submit(&form_at(&confirm, "/admin/keys/rotate"))
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("The signing keys are rotated."));
    assert_eq!(console_events(&server, "keys_rotated").await.len(), 1);

    // The audit log: by actor (a username stands for its user), by type.
    let (_, log) = browser
        .get(&server.url("/admin/audit?actor=root"))
        .await
        .page();
    assert!(log.contains("keys_rotated"), "{log}");
    assert!(!log.contains("login_ok"), "sign-ins have no actor");
    let (_, log) = browser
        .get(&server.url(&format!(
            "/admin/audit?type=keys_rotated&actor=user:{admin_id}"
        )))
        .await
        .page();
    assert!(log.contains("keys_rotated"));
    let (_, none) = browser
        .get(&server.url("/admin/audit?type=no_such_type"))
        .await
        .page();
    assert!(none.contains("No events."));
    // A cursor that is not ours starts from the newest rather than failing.
    let (status, _) = browser
        .get(&server.url("/admin/audit?before=garbage"))
        .await
        .page();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_audit_log_pages() {
    let (server, _) = with_admin().await;
    for i in 0..60 {
        audit::record(
            &server.state.db,
            audit::Event {
                kind: "test_event",
                detail: Some(&format!("event {i}")),
                ..audit::Event::default()
            },
            server.clock.now() + i,
        )
        .await
        .unwrap();
    }
    let (browser, _) = admin_browser(&server, "/admin").await;
    let (_, first) = browser
        .get(&server.url("/admin/audit?type=test_event"))
        .await
        .page();
    assert!(first.contains("event 59") && first.contains("event 10"));
    assert!(!first.contains("event 9<"));
    let doc = scraper::Html::parse_document(&first);
    let older = doc
        .select(&scraper::Selector::parse("a").unwrap())
        .find(|a| a.text().collect::<String>() == "Older events")
        .and_then(|a| a.value().attr("href"))
        .expect("a link to older events")
        .to_string();
    let (_, second) = browser.get(&server.url(&older)).await.page();
    assert!(second.contains("event 9<") && second.contains("event 0<"));
    assert!(!second.contains("event 10<"));
    assert!(!second.contains("Older events"));
}

#[tokio::test]
async fn users_are_invited_when_mail_is_set_up() {
    let smtp = common::smtp::SmtpServer::start().await;
    let db = std::sync::Arc::new(TestDb::new().await);
    let server =
        TestServer::start_with(db, |config| common::smtp::configure(config, &smtp.url)).await;
    let (server, _) = admin_on(server).await;
    let (browser, _) = admin_browser(&server, "/admin/users/new").await;
    let (_, page) = browser.get(&server.url("/admin/users/new")).await.page();
    assert!(page.contains("Mail an invitation instead"), "{page}");
    // An invitation with a password, or without an address, is refused.
    let mut form = form_at(&page, "/admin/users");
    form.set("username", "zoe")
        .set("password", "a password for zoe")
        .set("invite", "yes");
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    let mut form = form_at(&page, "/admin/users");
    form.set("username", "zoe").set("invite", "yes");
    let (status, _) = browser.submit(&form).await.page();
    assert_eq!(status, 400);
    let mut form = form_at(&page, "/admin/users");
    form.set("username", "zoe")
        .set("email", "zoe@example.test")
        .set("invite", "yes");
    let (status, page) = browser.submit(&form).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("An invitation was mailed."), "{page}");
    let first = smtp
        .wait_for("zoe@example.test", 1)
        .await
        .link("/login/invite");
    // A new one from the user's page; the first stops working.
    let (_, page) = browser.submit(&invite_form(&page)).await.page();
    assert!(page.contains("An invitation was mailed."), "{page}");
    let second = smtp
        .wait_for("zoe@example.test", 2)
        .await
        .link("/login/invite");
    assert_ne!(first, second);
    let invited = console_events(&server, "invitation_sent").await;
    assert_eq!(invited.len(), 2);
    assert!(invited[0].actor.as_deref().unwrap().starts_with("user:"));
    let person = Browser::new(&server);
    assert_eq!(person.get(&first).await.page().0, 400);
    assert_eq!(person.get(&second).await.page().0, 200);
}

/// The user page's "Mail a new invitation" form.
fn invite_form(page: &str) -> Form {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse("form[action$='/invite']").unwrap();
    let form = doc.select(&sel).next().expect("an invite form");
    Form::parse(&form.html())
}
