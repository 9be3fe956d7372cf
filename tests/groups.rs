//! Groups: the `groups` scope and claim, and clients that admit only some groups.

mod common;

use common::*;
use gatehouse::store::audit;
use serde_json::{json, Value};

const GROUPS_SCOPE: &str = "scope=openid%20groups";

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn server() -> TestServer {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_user("bob", None, None).await;
    server
        .add_client_with("app", false, true, &["authorization_code", "refresh_token"])
        .await;
    server
}

async fn sign_in(server: &TestServer, client_id: &str, user: &str, scope: &str) -> Value {
    let browser = Browser::new(server);
    let url = authorize_url(server, client_id, "").replace("scope=openid%20email%20profile", scope);
    let back = browser.authorize(&url, user).await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let (status, body) = exchange(server, client_id, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(server: &TestServer, token: &str) -> (reqwest::StatusCode, Value) {
    let (status, _, body) = token_request(
        server,
        Some(("app", SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn group_commands_fold_names_and_refuse_what_is_wrong() {
    let server = server().await;
    ok(server.cli(&["group", "add", "Finance", "--description", "Money people"]));
    // One group whatever the case.
    let err = refused(server.cli(&["group", "add", "finance"]));
    assert!(err.contains("already exists"), "{err}");
    for bad in ["", "a b", "fin/ance", "naïve"] {
        let err = refused(server.cli(&["group", "add", bad]));
        assert!(err.contains("is not a group name"), "{bad}: {err}");
    }
    let out = ok(server.cli(&["group", "add-member", "FINANCE", "Alice", "--json"]));
    let added: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        added,
        json!({"group": "finance", "username": "alice", "added": true})
    );
    let out = ok(server.cli(&["group", "add-member", "finance", "alice"]));
    assert!(out.contains("already is a member"), "{out}");
    assert!(refused(server.cli(&["group", "add-member", "finance", "nobody"])).contains("no user"));
    assert!(refused(server.cli(&["group", "add-member", "ghosts", "alice"])).contains("no group"));

    let list: Value = serde_json::from_str(&ok(server.cli(&["group", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["name"], "finance");
    assert_eq!(list[0]["description"], "Money people");
    assert_eq!(list[0]["members"], 1);
    assert_eq!(
        ok(server.cli(&["group", "members", "finance"])).trim(),
        "alice"
    );

    let out = ok(server.cli(&["group", "remove-member", "finance", "alice"]));
    assert!(out.contains("removed alice from finance"), "{out}");
    let out = ok(server.cli(&["group", "remove-member", "finance", "alice"]));
    assert!(out.contains("was not a member"), "{out}");
    ok(server.cli(&["group", "remove", "Finance"]));
    assert!(refused(server.cli(&["group", "remove", "finance"])).contains("no group"));
}

#[tokio::test]
async fn the_groups_scope_releases_the_groups_claim() {
    let server = server().await;
    ok(server.cli(&["group", "add", "ops"]));
    ok(server.cli(&["group", "add", "finance"]));
    ok(server.cli(&["group", "add-member", "ops", "alice"]));
    ok(server.cli(&["group", "add-member", "finance", "alice"]));

    let tokens = sign_in(&server, "app", "alice", GROUPS_SCOPE).await;
    let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["groups"], json!(["finance", "ops"]));
    let (status, _, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["groups"], json!(["finance", "ops"]));

    // A member of none gets an empty list; without the scope there is no claim.
    let bob = sign_in(&server, "app", "bob", GROUPS_SCOPE).await;
    assert_eq!(
        jwt_claims(bob["id_token"].as_str().unwrap())["groups"],
        json!([])
    );
    let plain = sign_in(&server, "app", "alice", "scope=openid").await;
    assert!(jwt_claims(plain["id_token"].as_str().unwrap())
        .get("groups")
        .is_none());
    let (_, _, info) = userinfo(&server, plain["access_token"].as_str().unwrap()).await;
    assert!(info.get("groups").is_none());

    // A change is seen at the next token, a refresh included.
    ok(server.cli(&["group", "remove-member", "ops", "alice"]));
    let (status, refreshed) = refresh(&server, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        jwt_claims(refreshed["id_token"].as_str().unwrap())["groups"],
        json!(["finance"])
    );

    // Advertised, and described on the consent page.
    let discovery: Value = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("groups")));
    assert!(discovery["claims_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("groups")));
    server.add_client("asks", false, false).await;
    let browser = Browser::new(&server);
    let url =
        authorize_url(&server, "asks", "").replace("scope=openid%20email%20profile", GROUPS_SCOPE);
    let (_, login) = browser.get(&url).await.page();
    let (status, consent) = browser.login(&login, "alice", PASSWORD).await.page();
    assert_eq!(status, 200);
    assert!(
        consent.contains("the groups you are a member of"),
        "{consent}"
    );
}

#[tokio::test]
async fn a_client_admits_only_its_allowed_groups() {
    let server = server().await;
    ok(server.cli(&["group", "add", "finance"]));
    ok(server.cli(&["group", "add", "audit"]));
    ok(server.cli(&["group", "add-member", "finance", "alice"]));
    let err = refused(server.cli(&[
        "client",
        "add",
        "ledger",
        "--redirect-uri",
        REDIRECT,
        "--allowed-group",
        "treasury",
    ]));
    assert!(err.contains("no group 'treasury'"), "{err}");
    let out = ok(server.cli(&[
        "client",
        "add",
        "ledger",
        "--redirect-uri",
        REDIRECT,
        "--skip-consent",
        "--allowed-group",
        "Finance",
        "--allowed-group",
        "audit",
        "--json",
    ]));
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["allowed_groups"], json!(["audit", "finance"]));
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let exchange_code = |code: String| {
        let (server, secret) = (&server, secret.clone());
        async move {
            token_request(
                server,
                Some(("ledger", &secret)),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await
        }
    };

    // Bob is in neither group: refused after signing in, with no code.
    let browser = Browser::new(&server);
    let back = browser
        .authorize(&authorize_url(&server, "ledger", ""), "bob")
        .await;
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        param(&back, "error_description").as_deref(),
        Some("the user may not use this application")
    );
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert!(param(&back, "code").is_none());
    let events = audit::recent(&server.state.db, 20).await.unwrap();
    let bob_id = gatehouse::store::users::find_by_username(&server.state.db, "bob")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(events.iter().any(|e| e.kind == "access_denied"
        && e.user_id.as_deref() == Some(bob_id.as_str())
        && e.client_id.as_deref() == Some("ledger")));
    // Signed in all the same: another client that admits everyone needs no password.
    let back = browser
        .get(&authorize_url(&server, "app", ""))
        .await
        .redirect();
    assert!(param(&back, "code").is_some(), "{back}");

    // Alice is in finance: admitted, until she leaves it.
    let browser = Browser::new(&server);
    let back = browser
        .authorize(&authorize_url(&server, "ledger", ""), "alice")
        .await;
    let code = param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let (status, _, tokens) = exchange_code(code).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let (status, _, tokens) = token_request(
        &server,
        Some(("ledger", &secret)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let next = tokens["refresh_token"].as_str().unwrap().to_string();

    ok(server.cli(&["group", "remove-member", "finance", "alice"]));
    let (status, _, body) = token_request(
        &server,
        Some(("ledger", &secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", &next)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        body["error_description"],
        "the user may no longer use this application"
    );
    // The grant ended: its access token is no longer accepted either.
    let (status, _, _) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    // Back in the group, a new sign-in is admitted again.
    ok(server.cli(&["group", "add-member", "audit", "alice"]));
    let back = browser
        .get(&authorize_url(&server, "ledger", ""))
        .await
        .redirect();
    assert!(param(&back, "code").is_some(), "{back}");

    // A group a client admits cannot be removed: that would open the client to all.
    let err = refused(server.cli(&["group", "remove", "finance"]));
    assert!(err.contains("client 'ledger'"), "{err}");
    let list: Value = serde_json::from_str(&ok(server.cli(&["client", "list", "--json"]))).unwrap();
    let ledger = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == "ledger")
        .unwrap();
    assert_eq!(ledger["allowed_groups"], json!(["audit", "finance"]));
}
