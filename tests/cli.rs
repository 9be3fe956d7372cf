//! The `gatehouse` binary: user and client administration, exit codes, config errors.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::TestDb;

fn gatehouse(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gatehouse");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

/// A database made the way an operator makes one: `gatehouse migrate`.
async fn migrated_db() -> TestDb {
    let db = TestDb::new().await;
    let out = gatehouse(&db, &["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

/// A misspelt setting name: no such variable exists.
const SESSION_TTL_TYPO: &str = concat!("GATEHOUSE_", "SESION_TTL");

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn clients(db: &TestDb) -> Vec<serde_json::Value> {
    let out = gatehouse(db, &["client", "list", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn client_add_list_remove() {
    let db = migrated_db().await;
    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            "web",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--redirect-uri",
            "http://127.0.0.1:8000/cb",
            "--name",
            "Web App",
            "--json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let secret = created["client_secret"]
        .as_str()
        .expect("generated secret shown once");
    assert_eq!(secret.len(), 43, "256-bit secret");
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");

    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            "spa",
            "--public",
            "--skip-consent",
            "--redirect-uri",
            "https://spa.example.com/cb",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("client_secret"));

    let list = clients(&db);
    assert_eq!(list.len(), 2);
    assert!(
        list.iter().all(|c| c.get("client_secret").is_none()),
        "secrets never listed"
    );
    let spa = list.iter().find(|c| c["client_id"] == "spa").unwrap();
    assert_eq!(spa["token_endpoint_auth_method"], "none");
    assert_eq!(spa["skip_consent"], true);

    let out = gatehouse(&db, &["client", "remove", "spa"], None);
    assert!(out.status.success());
    assert_eq!(clients(&db).len(), 1);
    let out = gatehouse(&db, &["client", "remove", "spa"], None);
    assert!(!out.status.success());
}

#[tokio::test]
async fn bad_client_arguments_write_nothing() {
    let db = migrated_db().await;
    let ok = gatehouse(
        &db,
        &[
            "client",
            "add",
            "web",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        None,
    );
    assert!(ok.status.success());
    let cases: &[&[&str]] = &[
        // Duplicate client.
        &[
            "client",
            "add",
            "web",
            "--redirect-uri",
            "https://b.example/cb",
        ],
        // Malformed redirect URI.
        &["client", "add", "x1", "--redirect-uri", "not a uri"],
        // http:// that is not loopback.
        &[
            "client",
            "add",
            "x2",
            "--redirect-uri",
            "http://app.example.com/cb",
        ],
        // Fragment.
        &[
            "client",
            "add",
            "x3",
            "--redirect-uri",
            "https://a.example/cb#f",
        ],
        // A good URI and a bad one: nothing is written.
        &[
            "client",
            "add",
            "x4",
            "--redirect-uri",
            "https://a.example/cb",
            "--redirect-uri",
            "javascript:alert(1)",
        ],
        // Unsupported grant type.
        &[
            "client",
            "add",
            "x5",
            "--redirect-uri",
            "https://a.example/cb",
            "--grant-type",
            "password",
        ],
        // Bad client id.
        &[
            "client",
            "add",
            "bad id",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        // No redirect URI.
        &["client", "add", "x6"],
        // --public with a secret.
        &[
            "client",
            "add",
            "x7",
            "--public",
            "--secret-stdin",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        // An authentication method nobody implements, or one that contradicts the kind.
        &[
            "client",
            "add",
            "x9",
            "--auth-method",
            "private_key_jwt",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        &[
            "client",
            "add",
            "x10",
            "--public",
            "--auth-method",
            "client_secret_post",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        &[
            "client",
            "add",
            "x11",
            "--auth-method",
            "none",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        // The code grant without a redirect URI.
        &[
            "client",
            "add",
            "x12",
            "--grant-type",
            "client_credentials",
            "--grant-type",
            "authorization_code",
        ],
    ];
    for args in cases {
        let out = gatehouse(&db, args, None);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!stderr(&out).is_empty(), "{args:?} explains itself");
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    let list = clients(&db);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["redirect_uris"][0], "https://a.example/cb");

    // A given secret must be long (only its SHA-256 is kept).
    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            "x8",
            "--secret-stdin",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            "x8",
            "--secret-stdin",
            "--redirect-uri",
            "https://a.example/cb",
        ],
        Some("0123456789abcdef0123456789abcdef-long-enough\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("0123456789abcdef"),
        "a given secret is not echoed"
    );
}

#[tokio::test]
async fn auth_methods_are_registered_shown_and_changed() {
    let db = migrated_db().await;
    let add = |id: &str, extra: &[&str]| {
        let mut args = vec!["client", "add", id, "--json"];
        args.extend_from_slice(extra);
        let out = gatehouse(&db, &args, None);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let post = add(
        "poster",
        &[
            "--auth-method",
            "client_secret_post",
            "--redirect-uri",
            "https://a.example/cb",
        ],
    );
    assert_eq!(post["token_endpoint_auth_method"], "client_secret_post");
    let public = add(
        "spa",
        &[
            "--public",
            "--auth-method",
            "none",
            "--redirect-uri",
            "https://a.example/cb",
        ],
    );
    assert_eq!(public["token_endpoint_auth_method"], "none");
    // A service that only uses client_credentials needs no redirect URI; a request
    // without scope then gets the scopes listed here.
    let service = add(
        "reports",
        &[
            "--grant-type",
            "client_credentials",
            "--scope",
            "reports:read",
        ],
    );
    assert_eq!(service["redirect_uris"], serde_json::json!([]));
    assert_eq!(service["token_endpoint_auth_method"], "client_secret_basic");
    assert!(service["client_secret"].is_string());

    let out = gatehouse(&db, &["client", "list"], None);
    let line = stdout(&out)
        .lines()
        .find(|l| l.starts_with("poster "))
        .unwrap()
        .to_string();
    assert!(line.contains("client_secret_post"), "{line}");

    let out = gatehouse(
        &db,
        &["client", "set-auth-method", "poster", "client_secret_basic"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = clients(&db);
    let poster = list.iter().find(|c| c["client_id"] == "poster").unwrap();
    assert_eq!(poster["token_endpoint_auth_method"], "client_secret_basic");
    // A public client stays public; unknown clients and methods are refused.
    for args in [
        &["client", "set-auth-method", "spa", "client_secret_basic"][..],
        &["client", "set-auth-method", "poster", "none"],
        &["client", "set-auth-method", "ghost", "client_secret_post"],
        &["client", "set-auth-method", "poster", "tls_client_auth"],
    ] {
        let out = gatehouse(&db, args, None);
        assert!(!out.status.success(), "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?}");
    }
    let list = clients(&db);
    let spa = list.iter().find(|c| c["client_id"] == "spa").unwrap();
    assert_eq!(spa["token_endpoint_auth_method"], "none");
}

#[tokio::test]
async fn user_add_hashes_with_argon2id() {
    let db = migrated_db().await;
    let out = gatehouse(
        &db,
        &[
            "user",
            "add",
            "Alice",
            "--email",
            "alice@example.com",
            "--name",
            "Alice L",
            "--password-stdin",
            "--json",
        ],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let user: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(user["username"], "alice", "usernames are case-folded");

    let conn = gatehouse::store::connect(&db.url).await.unwrap();
    let stored = gatehouse::store::users::find_by_username(&conn, "ALICE")
        .await
        .unwrap()
        .unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    conn.close().await.ok();

    // Duplicate (case-insensitively), short password, bad email, no password source.
    let dup = gatehouse(
        &db,
        &["user", "add", "ALICE", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"));
    let short = gatehouse(
        &db,
        &["user", "add", "bob", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!short.status.success());
    let email = gatehouse(
        &db,
        &["user", "add", "bob", "--email", "nope", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert!(!email.status.success());
    let no_tty = gatehouse(&db, &["user", "add", "bob"], None);
    assert!(!no_tty.status.success());
    assert!(stderr(&no_tty).contains("--password-stdin"));
}

#[tokio::test]
async fn keys_list_shows_the_signing_key() {
    let db = std::sync::Arc::new(TestDb::new().await);
    let server = common::TestServer::start_on(db.clone()).await;
    let out = gatehouse(&db, &["keys", "list", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let keys: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(keys[0]["alg"], "ES256");
    assert_eq!(keys[0]["state"], "current");
    let jwks: serde_json::Value = reqwest::get(server.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], keys[0]["kid"]);
    let out = gatehouse(&db, &["keys", "list"], None);
    assert!(stdout(&out).contains("ES256"));
}

#[tokio::test]
async fn invalid_configuration_is_one_line_and_exit_code_2() {
    let db = TestDb::new().await;
    let cases: &[(&str, &str, &str)] = &[
        ("GATEHOUSE_LISTEN", "not-an-address", "GATEHOUSE_LISTEN"),
        (
            "GATEHOUSE_ISSUER",
            "https://id.example.com/",
            "GATEHOUSE_ISSUER",
        ),
        (
            "GATEHOUSE_ACCESS_TOKEN_TTL",
            "ten",
            "GATEHOUSE_ACCESS_TOKEN_TTL",
        ),
        (
            "GATEHOUSE_AUTHORIZATION_CODE_TTL",
            "600",
            "GATEHOUSE_AUTHORIZATION_CODE_TTL",
        ),
        (
            "GATEHOUSE_DATABASE_URL",
            "mysql://x",
            "GATEHOUSE_DATABASE_URL",
        ),
        (
            "GATEHOUSE_CLIENT_CACHE_TTL",
            "301",
            "GATEHOUSE_CLIENT_CACHE_TTL",
        ),
        // A typo is named, not ignored (the misspelt name of GATEHOUSE_SESSION_TTL).
        (SESSION_TTL_TYPO, "60", SESSION_TTL_TYPO),
        (
            "GATEHOUSE_TRUSTED_PROXIES",
            "10.0.0.0/99",
            "GATEHOUSE_TRUSTED_PROXIES",
        ),
    ];
    for (name, value, named) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .env("GATEHOUSE_DATABASE_URL", &db.url)
            .env(name, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(named), "{err}");
        assert!(!err.contains("panicked"));
    }
    // A config file sets values; the environment wins over it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gatehouse.toml");
    std::fs::write(&file, "listen = \"bad-from-file\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_LISTEN", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Type errors in words, with where the value came from; unknown keys are named.
    std::fs::write(&file, "session_ttl = \"long\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'long' is not a whole number of seconds"),
        "{err}"
    );
    assert!(err.contains("key `session_ttl`"), "{err}");
    std::fs::write(&file, "sesion_ttl = 60\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`sesion_ttl` is not a Gatehouse setting"));
    // A database password is never printed.
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["client", "list"])
        .env(
            "GATEHOUSE_DATABASE_URL",
            "postgres://gh:hunter2-secret@127.0.0.1:1/gatehouse",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("PostgreSQL gh@127.0.0.1:1/gatehouse"), "{err}");
}

#[tokio::test]
async fn operator_commands_never_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("GATEHOUSE_DATABASE_URL")
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    };
    for args in [
        &["client", "list"][..],
        &["user", "disable", "alice"],
        &["keys", "list"],
        &["audit", "tail"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("no database at gatehouse.db"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!dir.path().join("gatehouse.db").exists(), "{args:?}");
    }
    // --json: the error is JSON too.
    let out = run(&["client", "list", "--json"]);
    let error: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert!(error["error"].as_str().unwrap().contains("no database"));
    assert_eq!(error["exit_code"], 1);
    // --verbose says which database a command uses.
    let out = run(&["--verbose", "migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("database: SQLite file gatehouse.db"));
    assert!(
        dir.path().join("gatehouse.db").exists(),
        "migrate creates it"
    );
    let out = run(&["--verbose", "client", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test]
async fn a_closed_pipe_ends_the_command_quietly() {
    let db = std::sync::Arc::new(TestDb::new().await);
    let server = common::TestServer::start_on(db.clone()).await;
    for _ in 0..20 {
        server
            .add_client(
                &format!("app{}", uuid::Uuid::new_v4().simple()),
                true,
                false,
            )
            .await;
    }
    // The reader goes away before the command writes (as `| head -1` does).
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["client", "list", "--json"])
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test]
async fn metrics_can_move_to_an_address_of_their_own() {
    let db = TestDb::new().await;
    let port = |_: ()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (public, private) = (port(()), port(()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .env("GATEHOUSE_ISSUER", format!("http://127.0.0.1:{public}"))
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{public}"))
        .env("GATEHOUSE_METRICS_LISTEN", format!("127.0.0.1:{private}"))
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http
            .get(format!("http://127.0.0.1:{public}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up);
    let on_public = http
        .get(format!("http://127.0.0.1:{public}/metrics"))
        .send()
        .await
        .unwrap();
    let on_private = http
        .get(format!("http://127.0.0.1:{private}/metrics"))
        .send()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(on_public.status(), 404);
    assert_eq!(on_private.status(), 200);
    assert!(on_private
        .text()
        .await
        .unwrap()
        .contains("gatehouse_http_requests_total"));
}

#[tokio::test]
async fn a_client_id_can_never_be_a_users_subject() {
    let db = migrated_db().await;
    let out = gatehouse(
        &db,
        &["user", "add", "alice", "--password-stdin"],
        Some("correct horse battery staple\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let uuid_shaped = "0b6f3a8e-2c9d-4f1a-9e3b-5d7c8a1f2e4b";
    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            uuid_shaped,
            "--redirect-uri",
            "https://app.example.com/cb",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("user identifier"), "{}", stderr(&out));
    assert!(clients(&db).is_empty(), "nothing written");
}

#[tokio::test]
async fn a_given_client_secret_is_stored_as_a_keyed_digest() {
    let db = migrated_db().await;
    let secret = "a-client-secret-that-an-operator-typed-in";
    let out = gatehouse(
        &db,
        &[
            "client",
            "add",
            "typed",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--secret-stdin",
        ],
        Some(&format!("{secret}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = gatehouse::store::connect(&db.url).await.unwrap();
    let client = gatehouse::store::clients::find(&conn, "typed")
        .await
        .unwrap()
        .unwrap();
    let stored = client.secret_hash.unwrap();
    assert!(stored.starts_with("h1."), "{stored}");
    assert_ne!(stored, gatehouse::secrets::hash_token(secret));
    let master = gatehouse::keys::master::MasterKey::parse(&db.master_key).unwrap();
    assert_eq!(
        stored,
        master
            .digest_key(gatehouse::secrets::CLIENT_SECRETS)
            .digest(secret)
    );
}

#[tokio::test]
async fn users_and_clients_are_managed_like_through_the_api() {
    let db = migrated_db().await;
    let run = |args: &[&str], stdin: Option<&str>| {
        let out = gatehouse(&db, args, stdin);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
    run(
        &[
            "user",
            "add",
            "zed",
            "--email",
            "zed@example.com",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    run(
        &["user", "add", "amy", "--password-stdin"],
        Some("correct horse battery staple\n"),
    );
    let list = json(run(&["user", "list", "--json"], None));
    assert_eq!(list[0]["username"], "amy");
    assert_eq!(list[1]["username"], "zed");
    assert!(!list.to_string().contains("argon2"), "no password hashes");
    let found = json(run(&["user", "list", "--q", "EXAMPLE", "--json"], None));
    assert_eq!(found.as_array().unwrap().len(), 1);

    let updated = json(run(
        &[
            "user", "update", "zed", "--name", "Zed Z", "--email", "", "--json",
        ],
        None,
    ));
    assert_eq!(updated["name"], "Zed Z");
    assert_eq!(updated["email"], serde_json::Value::Null);
    let bad = gatehouse(
        &db,
        &["user", "update", "zed", "--email", "not-an-address"],
        None,
    );
    assert!(!bad.status.success() && stderr(&bad).contains("not an email address"));
    let shown = json(run(&["user", "show", "zed", "--json"], None));
    assert_eq!(shown["groups"], serde_json::json!([]));
    let short = gatehouse(
        &db,
        &["user", "set-password", "zed", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!short.status.success() && stderr(&short).contains("at least 8"));
    run(
        &["user", "set-password", "zed", "--password-stdin"],
        Some("another long passphrase\n"),
    );
    run(&["user", "remove", "zed"], None);
    assert!(!gatehouse(&db, &["user", "show", "zed"], None)
        .status
        .success());

    let created = json(run(
        &[
            "client",
            "add",
            "svc",
            "--grant-type",
            "client_credentials",
            "--json",
        ],
        None,
    ));
    let first = created["client_secret"].as_str().unwrap().to_string();
    let updated = json(run(
        &[
            "client", "update", "svc", "--name", "Service", "--scope", "a", "--json",
        ],
        None,
    ));
    assert_eq!(updated["name"], "Service");
    assert_eq!(updated["allowed_scopes"], serde_json::json!(["a"]));
    let refused = gatehouse(
        &db,
        &[
            "client",
            "update",
            "svc",
            "--grant-type",
            "authorization_code",
        ],
        None,
    );
    assert!(!refused.status.success() && stderr(&refused).contains("redirect URI"));
    let rotated = json(run(&["client", "rotate-secret", "svc", "--json"], None));
    assert_ne!(rotated["client_secret"].as_str().unwrap(), first);
    assert_eq!(
        rotated["previous_secret_expires_at"],
        serde_json::Value::Null
    );
    let shown = json(run(&["client", "show", "svc", "--json"], None));
    assert_eq!(shown["allowed_groups"], serde_json::json!([]));
    assert!(!shown
        .to_string()
        .contains(rotated["client_secret"].as_str().unwrap()));
    assert!(!gatehouse(&db, &["client", "show", "ghost"], None)
        .status
        .success());
}

#[tokio::test]
async fn user_add_admin_makes_the_first_administrator() {
    let db = migrated_db().await;
    let out = gatehouse(
        &db,
        &["user", "add", "root", "--admin", "--password-stdin"],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("an administrator (group admins)"));
    let members = gatehouse(&db, &["group", "members", "admins", "--json"], None);
    assert!(members.status.success(), "{}", stderr(&members));
    let members: serde_json::Value = serde_json::from_str(&stdout(&members)).unwrap();
    assert_eq!(members[0]["username"], "root");
    // A second admin joins the group that now exists.
    let out = gatehouse(
        &db,
        &[
            "user",
            "add",
            "second",
            "--admin",
            "--json",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["admin"], true);
    let members = gatehouse(&db, &["group", "members", "admins", "--json"], None);
    let members: serde_json::Value = serde_json::from_str(&stdout(&members)).unwrap();
    assert_eq!(members.as_array().unwrap().len(), 2);
    let events = gatehouse(&db, &["audit", "tail", "--json"], None);
    assert!(
        stdout(&events).contains("group_member_added"),
        "{}",
        stdout(&events)
    );
}
