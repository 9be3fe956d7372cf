//! Test harness: a real Gatehouse on 127.0.0.1:0 over a fresh database (SQLite, or
//! PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is set), and a cookie-keeping
//! browser that follows redirects and fills HTML forms.
#![allow(dead_code)]

pub mod authenticator;
pub mod smtp;
pub mod webauthn_driver;

use std::sync::Arc;

use gatehouse::app::{self, AppState};
use gatehouse::auth::password;
pub use gatehouse::auth_method::AuthMethod;
use gatehouse::clock::Clock;
use gatehouse::config::Config;
use gatehouse::keys::master::MasterKey;
use gatehouse::secrets::hash_token;
use gatehouse::store::clients::{self, Client};
use gatehouse::store::users::{self, NewUser};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use scraper::{Html, Selector};
use sea_orm::ConnectionTrait;
use tokio::net::TcpListener;
use url::Url;

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "s3cret-s3cret-s3cret-s3cret-s3cret-0123456789";
pub const REDIRECT: &str = "http://127.0.0.1:9999/callback";

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    /// The master key every server on this database uses.
    pub master_key: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var("GATEHOUSE_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
                let admin = gatehouse::store::connect(&admin_url)
                    .await
                    .expect("admin db");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = Url::parse(&admin_url).expect("database url");
                url.set_path(&format!("/{name}"));
                TestDb {
                    url: url.to_string(),
                    master_key: MasterKey::generate().to_base64(),
                    admin: Some((admin_url, name)),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("gh.db").display());
                TestDb {
                    url,
                    master_key: MasterKey::generate().to_base64(),
                    admin: None,
                    _dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.admin.take() {
            // There is no async drop: remove the database from a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = gatehouse::store::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub clock: Clock,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub db: Arc<TestDb>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_on(Arc::new(TestDb::new().await)).await
    }

    /// A server on an existing database (a second node, or a restart).
    pub async fn start_on(db: Arc<TestDb>) -> TestServer {
        Self::start_with(db, |_| {}).await
    }

    /// A server whose configuration `adjust` changes first.
    pub async fn start_with(db: Arc<TestDb>, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut config = Config {
            issuer: base.clone(),
            listen: listener.local_addr().expect("addr").to_string(),
            database_url: db.url.clone(),
            master_key: Some(db.master_key.clone()),
            ..Config::default()
        };
        adjust(&mut config);
        config.validate().expect("test config");
        let clock = Clock::frozen();
        let state = AppState::start(config, clock.clone()).await.expect("start");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = state.clone();
        tokio::spawn(async move {
            app::serve(listener, serving, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            base,
            state,
            clock,
            shutdown: Some(tx),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Adds a user with the test password (hashed exactly as the CLI does).
    pub async fn add_user(
        &self,
        username: &str,
        email: Option<&str>,
        name: Option<&str>,
    ) -> String {
        let hash = password::hash_blocking(PASSWORD).expect("hash");
        users::create(
            &self.state.db,
            NewUser {
                username: username.into(),
                email: email.map(str::to_string),
                name: name.map(str::to_string),
                phone_number: None,
                address: None,
                password_hash: Some(hash),
            },
            self.clock.now(),
        )
        .await
        .expect("user")
        .id
    }

    /// Registers a client for the code grant; confidential ones get `SECRET`.
    pub async fn add_client(&self, client_id: &str, public: bool, skip_consent: bool) {
        self.add_client_with(client_id, public, skip_consent, &["authorization_code"])
            .await
    }

    /// Registers a client allowed `grant_types`.
    pub async fn add_client_with(
        &self,
        client_id: &str,
        public: bool,
        skip_consent: bool,
        grant_types: &[&str],
    ) {
        self.register(&client(client_id, public, skip_consent, grant_types))
            .await
    }

    /// Runs the `gatehouse` command line on this server's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .env("GATEHOUSE_DATABASE_URL", &self.db.url)
            .env("GATEHOUSE_MASTER_KEY", &self.db.master_key)
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    }

    /// Registers a client as given (start from `client(…)`).
    pub async fn register(&self, client: &Client) {
        clients::create(&self.state.db, client)
            .await
            .expect("client");
    }
}

/// A client registration for tests: confidential ones have `SECRET`, every one
/// redirects to `REDIRECT`.
pub fn client(client_id: &str, public: bool, skip_consent: bool, grant_types: &[&str]) -> Client {
    Client {
        client_id: client_id.into(),
        name: format!("{client_id} app"),
        secret_hash: (!public).then(|| hash_token(SECRET)),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        grant_types: grant_types.iter().map(|g| g.to_string()).collect(),
        allowed_scopes: vec!["orders:read".into()],
        backchannel_logout_uri: None,
        token_endpoint_auth_method: if public {
            AuthMethod::None
        } else {
            AuthMethod::ClientSecretBasic
        },
        id_token_signed_response_alg: "ES256".into(),
        skip_consent,
        created_at: 0,
        updated_at: 0,
        allowed_group_ids: vec![],
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// What a navigation ended on: a page of ours, or a redirect leaving the server.
#[derive(Debug)]
pub enum Outcome {
    Page {
        status: StatusCode,
        headers: reqwest::header::HeaderMap,
        html: String,
    },
    Redirect(Url),
}

impl Outcome {
    pub fn page(self) -> (StatusCode, String) {
        match self {
            Outcome::Page { status, html, .. } => (status, html),
            Outcome::Redirect(url) => panic!("expected a page, got a redirect to {url}"),
        }
    }

    pub fn redirect(self) -> Url {
        match self {
            Outcome::Redirect(url) => url,
            Outcome::Page { status, html, .. } => {
                panic!("expected a redirect, got a {status} page: {html}")
            }
        }
    }
}

/// An HTML form as a browser sees it: action and the named inputs with their values.
pub struct Form {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl Form {
    pub fn parse(html: &str) -> Form {
        let doc = Html::parse_document(html);
        let form_sel = Selector::parse("form").unwrap();
        let input_sel = Selector::parse("input[name]").unwrap();
        let form = doc.select(&form_sel).next().expect("page has a form");
        let action = form.value().attr("action").unwrap_or_default().to_string();
        let fields = form
            .select(&input_sel)
            .map(|i| {
                (
                    i.value().attr("name").unwrap_or_default().to_string(),
                    i.value().attr("value").unwrap_or_default().to_string(),
                )
            })
            .collect();
        Form { action, fields }
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name.to_string(), value.to_string())),
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A cookie-keeping client that follows redirects only within the server.
pub struct Browser {
    pub http: reqwest::Client,
    /// The browser's cookies (a test may plant one).
    pub jar: Arc<reqwest::cookie::Jar>,
    base: String,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(Policy::none())
                .build()
                .unwrap(),
            jar,
            base: server.base.clone(),
        }
    }

    pub async fn get(&self, url: &str) -> Outcome {
        let response = self.http.get(url).send().await.expect("GET");
        self.follow(response).await
    }

    pub async fn submit(&self, form: &Form) -> Outcome {
        let url = format!("{}{}", self.base, form.action);
        let response = self
            .http
            .post(url)
            .form(&form.fields)
            .send()
            .await
            .expect("POST");
        self.follow(response).await
    }

    pub async fn follow(&self, mut response: Response) -> Outcome {
        loop {
            if !response.status().is_redirection() {
                let status = response.status();
                let headers = response.headers().clone();
                let html = response.text().await.unwrap_or_default();
                return Outcome::Page {
                    status,
                    headers,
                    html,
                };
            }
            let location = response.headers()["location"].to_str().unwrap().to_string();
            let next = response.url().join(&location).expect("location");
            if !next.as_str().starts_with(&self.base) {
                return Outcome::Redirect(next);
            }
            response = self.http.get(next).send().await.expect("follow");
        }
    }

    /// Signs in on the login page; returns where the browser ends up.
    pub async fn login(&self, login_page: &str, username: &str, password: &str) -> Outcome {
        let mut form = Form::parse(login_page);
        assert_eq!(form.action, "/login");
        form.set("username", username).set("password", password);
        self.submit(&form).await
    }

    /// Answers the consent page.
    pub async fn consent(&self, consent_page: &str, decision: &str) -> Outcome {
        let mut form = Form::parse(consent_page);
        assert_eq!(form.action, "/consent");
        form.set("decision", decision);
        self.submit(&form).await
    }

    /// The whole interaction: login (if asked), consent (if asked), the redirect back.
    pub async fn authorize(&self, url: &str, username: &str) -> Url {
        let mut outcome = self.get(url).await;
        for _ in 0..2 {
            let Outcome::Page { html, .. } = &outcome else {
                break;
            };
            let action = Form::parse(html).action;
            outcome = match action.as_str() {
                "/login" => self.login(html, username, PASSWORD).await,
                "/consent" => self.consent(html, "allow").await,
                other => panic!("unexpected form {other}"),
            };
        }
        outcome.redirect()
    }
}

/// A query parameter of a URL.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// RFC 7636 Appendix B values.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// An authorization URL with PKCE S256 plus `extra` (already encoded) parameters.
pub fn authorize_url(server: &TestServer, client_id: &str, extra: &str) -> String {
    format!(
        "{}/authorize?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid%20email%20profile\
         &state=st4te&nonce=n0nce&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        server.base,
        urlencode(REDIRECT)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Runs the browser part and returns a fresh code for `client_id`.
pub async fn obtain_code(
    server: &TestServer,
    browser: &Browser,
    client_id: &str,
    username: &str,
) -> String {
    let back = browser
        .authorize(&authorize_url(server, client_id, ""), username)
        .await;
    param(&back, "code").expect("code in redirect")
}

/// Posts to the token endpoint; `basic` authenticates with HTTP Basic.
pub async fn token_request(
    server: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, serde_json::Value) {
    let mut request = reqwest::Client::new().post(server.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.expect("token request");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

/// Exchanges a code the way a confidential client does.
pub async fn exchange(
    server: &TestServer,
    client_id: &str,
    code: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = token_request(
        server,
        Some((client_id, SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    (status, body)
}

/// GET /userinfo with a bearer token.
pub async fn userinfo(
    server: &TestServer,
    token: &str,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(server.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, challenge, body)
}

/// A part of a JWT, decoded: 0 the header, 1 the claims.
pub fn jwt_part(jwt: &str, part: usize) -> serde_json::Value {
    use base64::Engine;
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(part).expect("JWT part"))
            .expect("base64url"),
    )
    .expect("JSON")
}

/// The claims of a JWT.
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    jwt_part(jwt, 1)
}

/// The TOTP secret `enroll_totp` gives a user.
pub const TOTP_SECRET: &[u8; 20] = b"gatehouse-test-totp!";

/// Enrolls `user_id` directly, as a confirmed enrollment leaves it.
pub async fn enroll_totp(server: &TestServer, user_id: &str) {
    let sealed = server
        .state
        .keys
        .master()
        .seal(&format!("totp:{user_id}"), TOTP_SECRET);
    users::set_totp(&server.state.db, user_id, &sealed, 0, server.clock.now())
        .await
        .expect("enroll");
}

/// The current code for `TOTP_SECRET`.
pub fn totp_code(server: &TestServer) -> String {
    gatehouse::auth::totp::code_at(TOTP_SECRET, server.clock.now())
}

/// `gatehouse serve` as its own process, logging JSON lines that the test reads.
pub struct ServeProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// `host:port` it listens on.
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts it on `db` and 127.0.0.1:0 with `env` added, and waits until it listens.
    pub fn start(db: &TestDb, env: &[(&str, &str)]) -> ServeProcess {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .current_dir(dir.path())
            .env("GATEHOUSE_DATABASE_URL", &db.url)
            .env("GATEHOUSE_MASTER_KEY", &db.master_key)
            .env("GATEHOUSE_LISTEN", "127.0.0.1:0")
            .env("GATEHOUSE_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gatehouse");
        let stderr = child.stderr.take().unwrap();
        // Read lines on a thread: a blocking read must not stall the test's runtime.
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut serve = ServeProcess {
            child,
            lines,
            addr: String::new(),
            _dir: dir,
        };
        let listening = serve.log_until(|e| e["fields"]["message"] == "gatehouse is listening");
        serve.addr = listening["fields"]["addr"].as_str().unwrap().to_string();
        serve
    }

    /// The next log entry.
    pub fn next_log(&self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a log line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// The first log entry from now on that `found` accepts.
    pub fn log_until(&self, found: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        loop {
            let entry = self.next_log();
            if found(&entry) {
                return entry;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The form of `html` that posts to `action`.
pub fn form_at(html: &str, action: &str) -> Form {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("form[action=\"{action}\"]")).unwrap();
    let form = doc
        .select(&sel)
        .next()
        .unwrap_or_else(|| panic!("no form {action} in {html}"));
    Form::parse(&form.html())
}

/// The audit events of `kind`, newest first.
pub async fn audit_events(
    server: &TestServer,
    kind: &str,
) -> Vec<gatehouse::store::audit::AuditEvent> {
    let filter = gatehouse::store::audit::Filter {
        kind: Some(kind.into()),
        ..Default::default()
    };
    gatehouse::store::audit::page(&server.state.db, &filter, None, 100)
        .await
        .expect("audit events")
        .0
}

/// The TOTP secret an enrollment page shows (in groups of four).
pub fn shown_secret(page: &str) -> Vec<u8> {
    let doc = Html::parse_document(page);
    let sel = Selector::parse(".secret code").unwrap();
    let text: String = doc
        .select(&sel)
        .next()
        .expect("secret shown")
        .text()
        .collect();
    totp_rs::Secret::try_from_base32(text.replace(' ', ""))
        .expect("base32")
        .as_bytes()
        .to_vec()
}
