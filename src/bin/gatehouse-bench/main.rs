//! gatehouse-bench: starts Gatehouse in this process on 127.0.0.1:0 over a fresh
//! database, seeds a user and clients through the repositories, and drives each
//! endpoint with N concurrent keep-alive HTTP workers for a bounded time.
//!
//! cargo run --release --features bench --bin gatehouse-bench -- \
//!     [--database-url postgres://…] [--duration SECS] [--concurrency N] [--scenarios a,b]
//!
//! Traffic goes to loopback only. The token and discovery scenarios are driven by a
//! child process (this binary with `--load-spec`, see `load.rs`): a minimal HTTP/1.1
//! client on one thread, so that the CPU time measured in this process is the
//! server's. Password logins are driven from this process (they are argon2-bound).

mod load;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Parser;
use gatehouse::app::{self, AppState};
use gatehouse::auth::password;
use gatehouse::clock::Clock;
use gatehouse::config::Config;
use gatehouse::keys::master::MasterKey;
use gatehouse::secrets::hash_token;
use gatehouse::store::authorization_codes::{self, NewCode};
use gatehouse::store::clients::{self, Client};
use gatehouse::store::grants::{self, NewGrant};
use gatehouse::store::refresh_tokens::{self, NewRefresh};
use gatehouse::store::sessions;
use gatehouse::store::users::{self, NewUser};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use tokio::net::TcpListener;

const USERNAME: &str = "bench";
const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123456789";
const REDIRECT: &str = "http://127.0.0.1:9999/callback";
const SCOPE: &str = "openid profile email";
/// RFC 7636 Appendix B: the verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// Codes created ahead per second of the code-exchange scenario (more than the
/// server can exchange on two cores), capped to keep seeding short.
const CODES_PER_SECOND: u64 = 4000;
const MAX_CODES: u64 = 60_000;

const SCENARIOS: &[&str] = &[
    "discovery",
    "jwks",
    "client_credentials",
    "userinfo",
    "introspection",
    "authorization_code",
    "refresh",
    "login",
    "discovery+login_flood",
    "client_credentials+login_flood",
    "db_lookup",
];

#[derive(Parser)]
#[command(about = "Load-test an in-process Gatehouse over loopback")]
struct Args {
    /// A PostgreSQL URL to create a scratch database from (dropped afterwards);
    /// without it, a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent workers (virtual users).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Only these scenarios (comma-separated).
    #[arg(long, value_delimiter = ',')]
    scenarios: Option<Vec<String>>,
    /// GATEHOUSE_PASSWORD_HASH_CONCURRENCY for the server (default: the server's).
    #[arg(long)]
    password_hash_concurrency: Option<usize>,
    /// Internal: run as the load generator described by this file.
    #[arg(long, hide = true)]
    load_spec: Option<String>,
}

fn main() {
    let args = Args::parse();
    let result = match args.load_spec.clone() {
        Some(spec) => load::main(&spec),
        None => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(run(args))),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    if args.duration == 0 || args.concurrency == 0 || args.password_hash_concurrency == Some(0) {
        bail!("--duration, --concurrency and --password-hash-concurrency must be at least 1");
    }
    let selected: Vec<&str> = match &args.scenarios {
        None => SCENARIOS.to_vec(),
        Some(names) => {
            for name in names {
                if !SCENARIOS.contains(&name.as_str()) {
                    bail!("unknown scenario {name}; known: {}", SCENARIOS.join(", "));
                }
            }
            SCENARIOS
                .iter()
                .copied()
                .filter(|s| names.iter().any(|n| n == s))
                .collect()
        }
    };
    let db = ScratchDb::create(args.database_url.as_deref()).await?;
    let result = bench(&args, &selected, &db).await;
    db.drop_database().await;
    result
}

async fn bench(args: &Args, selected: &[&str], db: &ScratchDb) -> anyhow::Result<()> {
    let settings = Settings {
        database_url: db.url.clone(),
        master_key: MasterKey::generate().to_base64(),
        password_hash_concurrency: args
            .password_hash_concurrency
            .unwrap_or(Config::default().password_hash_concurrency),
    };
    println!("gatehouse-bench");
    println!(
        "  database: {}   duration: {} s per scenario   concurrency: {}   cores: {}",
        db.kind,
        args.duration,
        args.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  password hash concurrency: {}",
        settings.password_hash_concurrency
    );
    println!("  load: a separate single-threaded client process on the same two cores, except");
    println!("  logins (driven from this process); logging is off (no subscriber installed)");
    println!("  server CPU: this process per request; load CPU: the client process per request");
    println!();

    // A first server creates the schema and the keys; the second starts on the now
    // existing database, as a restart or a new node does.
    let fresh = Server::start(&settings).await?;
    let existing = Server::start(&settings).await?;
    println!(
        "start-up to ready (AppState::start to first 200 from /readyz): new database {:.1} ms, existing database {:.1} ms",
        ms(fresh.ready_after),
        ms(existing.ready_after)
    );
    fresh.stop().await;
    let server = existing;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = memory();
    println!(
        "RSS idle (server ready, nothing seeded, no load): {}",
        idle.describe_split()
    );

    let fixture = Fixture::seed(&server).await?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let access_token = fixture.access_token(&server, &http).await?;
    // From here, VmHWM is the peak under load (Linux: "5" resets the peak RSS).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    println!();
    println!(
        "{:<20} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>11} {:>9}",
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "requests",
        "errors",
        "RSS MiB",
        "server CPU",
        "load CPU"
    );
    println!("{:>97}", "(µs per request)");
    let duration = Duration::from_secs(args.duration);
    let n = args.concurrency;
    let mut peak_before_login = None;
    for scenario in selected {
        if *scenario == "login" {
            peak_before_login = Some(memory());
        }
        let report = match *scenario {
            "discovery" => {
                get_scenario(&server, "/.well-known/openid-configuration", n, duration).await
            }
            "jwks" => get_scenario(&server, "/jwks", n, duration).await,
            "client_credentials" => client_credentials(&server, n, duration).await,
            "userinfo" => userinfo(&server, &access_token, n, duration).await,
            "introspection" => introspection(&server, &access_token, n, duration).await,
            "authorization_code" => code_exchange(&server, &fixture, n, duration).await?,
            "refresh" => refresh(&server, &fixture, n, duration).await?,
            // What one statement costs through the ORM and driver, without HTTP:
            // `n` tasks in the server's runtime read a client by its key.
            "db_lookup" => db_lookups(&server, n, duration).await,
            "login" => logins(&server, n, duration).await?,
            // Argon2 runs on a bounded blocking pool: while `n` workers flood the login
            // form, a few workers measure what everyone else sees.
            "discovery+login_flood" => {
                let (flood, probe) = tokio::join!(
                    logins(&server, n, duration),
                    get_scenario(&server, "/.well-known/openid-configuration", 4, duration)
                );
                flood?.print("  (the login flood)");
                probe
            }
            "client_credentials+login_flood" => {
                let (flood, probe) = tokio::join!(
                    logins(&server, n, duration),
                    client_credentials(&server, 4, duration)
                );
                flood?.print("  (the login flood)");
                probe
            }
            other => bail!("unknown scenario {other}"),
        };
        report.print(scenario);
    }
    let end = memory();
    println!();
    if reset {
        if let Some(before) = peak_before_login {
            println!(
                "RSS peak under load before the login scenario: {}",
                before.peak_mib()
            );
        }
        println!(
            "RSS peak under load, all scenarios (VmHWM): {}",
            end.peak_mib()
        );
    } else {
        println!(
            "RSS peak since process start (VmHWM; could not reset it): {}",
            end.peak_mib()
        );
    }
    println!("RSS after the load: {}", end.describe());
    // Memory freed under load is returned lazily (see allocator.rs).
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("RSS 2 s later: {}", memory().describe_split());
    server.stop().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------
// The database and the server

/// A database of its own for one run: a temporary SQLite file, or a PostgreSQL
/// database created from the given URL and dropped at the end.
struct ScratchDb {
    url: String,
    kind: &'static str,
    admin: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl ScratchDb {
    async fn create(admin_url: Option<&str>) -> anyhow::Result<ScratchDb> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        match admin_url {
            Some(admin_url) => {
                if !admin_url.starts_with("postgres://") && !admin_url.starts_with("postgresql://")
                {
                    bail!("--database-url must be a postgres:// URL (SQLite is the default)");
                }
                let name = format!("gh_bench_{suffix}");
                let admin = gatehouse::store::connect(admin_url)
                    .await
                    .context("cannot connect to --database-url")?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .context("cannot create the scratch database")?;
                admin.close().await.ok();
                let mut url = url::Url::parse(admin_url).context("--database-url")?;
                url.set_path(&format!("/{name}"));
                Ok(ScratchDb {
                    url: url.to_string(),
                    kind: "PostgreSQL",
                    admin: Some((admin_url.to_string(), name)),
                    dir: None,
                })
            }
            None => {
                let dir = std::env::temp_dir().join(format!("gatehouse-bench-{suffix}"));
                std::fs::create_dir_all(&dir).context("cannot create a temporary directory")?;
                let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
                Ok(ScratchDb {
                    url,
                    kind: "SQLite (temporary file)",
                    admin: None,
                    dir: Some(dir),
                })
            }
        }
    }

    async fn drop_database(&self) {
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(admin) = gatehouse::store::connect(admin_url).await {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                if let Err(err) = admin.execute_unprepared(&sql).await {
                    eprintln!("warning: could not drop {name}: {err}");
                }
                admin.close().await.ok();
            }
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// What every server of the run is configured with.
struct Settings {
    database_url: String,
    master_key: String,
    password_hash_concurrency: usize,
}

struct Server {
    base: String,
    /// host:port, for the load generator.
    addr: String,
    state: AppState,
    ready_after: Duration,
    shutdown: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts a server and measures the time from `AppState::start` to the first
    /// successful /readyz.
    async fn start(settings: &Settings) -> anyhow::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let config = Config {
            issuer: base.clone(),
            listen: addr.to_string(),
            database_url: settings.database_url.clone(),
            master_key: Some(settings.master_key.clone()),
            password_hash_concurrency: settings.password_hash_concurrency,
            ..Config::default()
        };
        config.validate()?;
        let probe = reqwest::Client::builder().no_proxy().build()?;
        let started = Instant::now();
        let state = AppState::start(config, Clock::system()).await?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving_state = state.clone();
        let serving = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(err) = app::serve(listener, serving_state, shutdown).await {
                eprintln!("server failed: {err:#}");
            }
        });
        let ready_url = format!("{base}/readyz");
        loop {
            if let Ok(response) = probe.get(&ready_url).send().await {
                if response.status() == StatusCode::OK {
                    break;
                }
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("the server was not ready after 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let ready_after = started.elapsed();
        Ok(Server {
            base,
            addr: addr.to_string(),
            state,
            ready_after,
            shutdown: tx,
            serving,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        // Graceful shutdown waits for keep-alive connections; do not wait forever.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.serving).await;
        self.state.db.close_by_ref().await.ok();
    }
}

/// The user, clients and a browser session the scenarios use.
struct Fixture {
    user_id: String,
    session_id: String,
}

impl Fixture {
    async fn seed(server: &Server) -> anyhow::Result<Fixture> {
        let now = server.state.now();
        // Hashed exactly as `gatehouse user add` does, off the runtime's threads.
        let hash = tokio::task::spawn_blocking(|| password::hash_blocking(PASSWORD)).await??;
        let user = users::create(
            server.db(),
            NewUser {
                username: USERNAME.into(),
                email: Some("bench@example.com".into()),
                name: Some("Bench User".into()),
                phone_number: None,
                address: None,
                password_hash: Some(hash),
            },
            now,
        )
        .await?;
        let client = |client_id: &str, grant_types: &[&str]| Client {
            client_id: client_id.into(),
            name: format!("{client_id} app"),
            secret_hash: Some(hash_token(SECRET)),
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![],
            grant_types: grant_types.iter().map(|g| g.to_string()).collect(),
            allowed_scopes: vec!["orders:read".into()],
            backchannel_logout_uri: None,
            token_endpoint_auth_method: gatehouse::auth_method::AuthMethod::ClientSecretBasic,
            id_token_signed_response_alg: "ES256".into(),
            skip_consent: true,
            created_at: now,
            updated_at: 0,
            allowed_group_ids: vec![],
        };
        clients::create(
            server.db(),
            &client("web", &["authorization_code", "refresh_token"]),
        )
        .await?;
        clients::create(server.db(), &client("svc", &["client_credentials"])).await?;
        let ttl = server.state.config.session_ttl as i64;
        let (session, _) = sessions::create(
            server.db(),
            &user.id,
            &["pwd".to_string()],
            None,
            None,
            now,
            ttl,
        )
        .await?;
        Ok(Fixture {
            user_id: user.id,
            session_id: session.id,
        })
    }

    /// A grant of the bench user to the `web` client, as a password login makes.
    fn grant<'a>(&'a self, amr: &'a [String], now: i64) -> NewGrant<'a> {
        NewGrant {
            user_id: &self.user_id,
            client_id: "web",
            session_id: Some(&self.session_id),
            scope: SCOPE,
            auth_time: now,
            amr,
            acr: Some("1"),
            claims: None,
        }
    }

    /// Creates `count` authorization codes, each with its grant, as a finished
    /// browser flow would have; `ttl` covers the scenario (codes normally live ≤ 60 s).
    async fn codes(&self, server: &Server, count: u64, ttl: i64) -> anyhow::Result<Vec<String>> {
        let mut codes = Vec::with_capacity(count as usize);
        let now = server.state.now();
        let grant_ttl = server.state.config.grant_ttl as i64;
        let amr = vec!["pwd".to_string()];
        while (codes.len() as u64) < count {
            // Batched in transactions: one commit per thousand rows, not per row.
            let txn = server.db().begin().await?;
            for _ in 0..1000.min(count - codes.len() as u64) {
                let grant = grants::create(&txn, self.grant(&amr, now), now, grant_ttl).await?;
                let code = authorization_codes::create(
                    &txn,
                    NewCode {
                        grant_id: &grant.id,
                        client_id: "web",
                        redirect_uri: REDIRECT,
                        scope: SCOPE,
                        nonce: Some("n0nce"),
                        code_challenge: CHALLENGE,
                    },
                    now,
                    ttl,
                )
                .await?;
                codes.push(code);
            }
            txn.commit().await?;
        }
        Ok(codes)
    }

    /// One refresh-token chain per virtual user, each in a grant of its own.
    async fn refresh_chains(&self, server: &Server, count: usize) -> anyhow::Result<Vec<String>> {
        let now = server.state.now();
        let config = &server.state.config;
        let mut tokens = Vec::with_capacity(count);
        let amr = vec!["pwd".to_string()];
        for _ in 0..count {
            let grant = grants::create(
                server.db(),
                self.grant(&amr, now),
                now,
                config.grant_ttl as i64,
            )
            .await?;
            let token = refresh_tokens::issue(
                server.db(),
                NewRefresh {
                    grant_id: &grant.id,
                    client_id: "web",
                    scope: SCOPE,
                    expires_at: now + config.refresh_token_idle_ttl as i64,
                },
                now,
            )
            .await?;
            tokens.push(token);
        }
        Ok(tokens)
    }

    /// An access token for userinfo and introspection, through a real code exchange.
    async fn access_token(
        &self,
        server: &Server,
        http: &reqwest::Client,
    ) -> anyhow::Result<String> {
        let code = self
            .codes(server, 1, 60)
            .await?
            .pop()
            .ok_or_else(|| anyhow!("no code created"))?;
        let (status, body) = exchange_code(http, server, &code)
            .await
            .map_err(|e| anyhow!(e))?;
        if status != StatusCode::OK {
            bail!("code exchange failed: {status} {body}");
        }
        body["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("no access_token in {body}"))
    }
}

// ---------------------------------------------------------------------------
// The load driver

/// What one operation of a worker came to.
enum Outcome {
    /// Done as expected; the latency of the measured request.
    Ok(Duration),
    Failed(String),
}

#[derive(Default)]
struct Report {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
    exhausted: bool,
    elapsed: Duration,
    /// CPU time of this process (the server, and for logins their load too).
    cpu: Option<Duration>,
    /// CPU time of the load generator's process, when it ran in one.
    load_cpu: Option<Duration>,
}

impl Report {
    fn percentile_ms(&self, p: usize) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = (self.latencies_us.len() * p / 100).min(self.latencies_us.len() - 1);
        f64::from(self.latencies_us[index]) / 1000.0
    }

    fn print(&self, name: &str) {
        let done = self.latencies_us.len() as f64;
        let rate = done / self.elapsed.as_secs_f64();
        let rss = memory()
            .rss_kib
            .map_or("?".into(), |kib| format!("{:.1}", kib as f64 / 1024.0));
        let per_request = |cpu: Option<Duration>| match cpu {
            Some(cpu) if done > 0.0 => format!("{:.0}", cpu.as_secs_f64() * 1e6 / done),
            Some(_) => "?".into(),
            None => "-".into(),
        };
        println!(
            "{:<20} {:>10.0} {:>9.2} {:>9.2} {:>9} {:>8} {:>9} {:>11} {:>9}",
            name,
            rate,
            self.percentile_ms(50),
            self.percentile_ms(99),
            self.latencies_us.len(),
            self.errors,
            rss,
            per_request(self.cpu),
            per_request(self.load_cpu)
        );
        if self.exhausted {
            println!(
                "    (pre-made inputs ran out after {:.1} s; rate over that time)",
                self.elapsed.as_secs_f64()
            );
        }
        if let Some(err) = &self.first_error {
            println!("    first error: {err}");
        }
    }
}

/// Runs `op` in a loop on every worker state until `duration` has passed. The op
/// takes its state by value and hands it back, so a worker can carry a rotating
/// refresh token or a cookie jar.
async fn drive<W, F, Fut>(workers: Vec<W>, duration: Duration, op: F) -> Report
where
    W: Send + 'static,
    F: Fn(W) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (W, Outcome)> + Send + 'static,
{
    let op = Arc::new(op);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(workers.len());
    for worker in workers {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut worker = worker;
            let mut report = load::LoadReport::default();
            while Instant::now() < deadline {
                let (next, outcome) = (*op)(worker).await;
                worker = next;
                match outcome {
                    Outcome::Ok(latency) => report
                        .latencies_us
                        .push(latency.as_micros().min(u32::MAX as u128) as u32),
                    Outcome::Failed(err) => {
                        report.errors += 1;
                        report.first_error.get_or_insert(err);
                    }
                }
            }
            report
        }));
    }
    let mut total = load::LoadReport::default();
    for task in tasks {
        total.absorb(task.await.map_err(|err| err.to_string()));
    }
    let mut total = Report {
        latencies_us: total.latencies_us,
        errors: total.errors,
        first_error: total.first_error,
        exhausted: total.exhausted,
        ..Report::default()
    };
    total.elapsed = started.elapsed();
    total.cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    total.latencies_us.sort_unstable();
    total
}

/// A response read to its end.
struct Answer {
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

/// Sends a request, reads the whole body, and checks the status.
async fn timed(
    request: reqwest::RequestBuilder,
    expect: StatusCode,
) -> Result<(Duration, Answer), String> {
    let started = Instant::now();
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let latency = started.elapsed();
    if status != expect {
        return Err(format!(
            "expected {expect}, got {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    Ok((
        latency,
        Answer {
            headers,
            body: body.to_vec(),
        },
    ))
}

// ---------------------------------------------------------------------------
// Scenarios

/// Runs one scenario in the load generator's process and waits for its report. The
/// CPU time of this process over that span is the server's.
async fn external(
    server: &Server,
    request: load::Request,
    inputs: load::Inputs,
    workers: usize,
    expect: Option<&str>,
    duration: Duration,
) -> Report {
    match run_external(server, request, inputs, workers, expect, duration).await {
        Ok(report) => report,
        Err(err) => Report {
            errors: 1,
            first_error: Some(format!("the load generator failed: {err:#}")),
            elapsed: duration,
            ..Report::default()
        },
    }
}

async fn run_external(
    server: &Server,
    request: load::Request,
    inputs: load::Inputs,
    workers: usize,
    expect: Option<&str>,
    duration: Duration,
) -> anyhow::Result<Report> {
    let spec = load::Spec {
        addr: server.addr.clone(),
        duration_ms: duration.as_millis() as u64,
        workers,
        request,
        inputs,
        expect: expect.map(str::to_string),
    };
    let path = std::env::temp_dir().join(format!(
        "gatehouse-bench-load-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, serde_json::to_vec(&spec)?)?;
    let cpu_before = cpu_time();
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--load-spec")
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .output()
        .await;
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let _ = std::fs::remove_file(&path);
    let output = output.context("cannot start the load generator")?;
    if !output.status.success() {
        bail!(
            "the load generator exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: load::LoadReport = serde_json::from_slice(&output.stdout)?;
    Ok(Report {
        latencies_us: report.latencies_us,
        errors: report.errors,
        first_error: report.first_error,
        exhausted: report.exhausted,
        elapsed: Duration::from_secs_f64(report.elapsed_ms / 1000.0),
        cpu,
        load_cpu: report.cpu_ms.map(|ms| Duration::from_secs_f64(ms / 1000.0)),
    })
}

fn get(path: &str) -> load::Request {
    load::Request {
        method: "GET".into(),
        path: path.into(),
        headers: vec![],
        body: String::new(),
    }
}

/// A form POST authenticated with client_secret_basic.
fn form_post(path: &str, client_id: &str, body: String) -> load::Request {
    let credentials = STANDARD.encode(format!("{client_id}:{SECRET}"));
    load::Request {
        method: "POST".into(),
        path: path.into(),
        headers: vec![
            ("authorization".into(), format!("Basic {credentials}")),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
        ],
        body,
    }
}

async fn get_scenario(server: &Server, path: &str, n: usize, duration: Duration) -> Report {
    external(server, get(path), load::Inputs::Fixed, n, None, duration).await
}

async fn client_credentials(server: &Server, n: usize, duration: Duration) -> Report {
    let request = form_post(
        "/token",
        "svc",
        "grant_type=client_credentials&scope=orders%3Aread".into(),
    );
    external(server, request, load::Inputs::Fixed, n, None, duration).await
}

async fn userinfo(server: &Server, token: &str, n: usize, duration: Duration) -> Report {
    let mut request = get("/userinfo");
    request
        .headers
        .push(("authorization".into(), format!("Bearer {token}")));
    external(server, request, load::Inputs::Fixed, n, None, duration).await
}

async fn introspection(server: &Server, token: &str, n: usize, duration: Duration) -> Report {
    let request = form_post("/introspect", "web", format!("token={token}"));
    // An inactive answer would be fast and wrong: it counts as an error.
    let expect = Some("\"active\":true");
    external(server, request, load::Inputs::Fixed, n, expect, duration).await
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn exchange_code(
    http: &reqwest::Client,
    server: &Server,
    code: &str,
) -> Result<(StatusCode, serde_json::Value), String> {
    let response = http
        .post(server.url("/token"))
        .basic_auth("web", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_slice(&body).unwrap_or_default()))
}

async fn code_exchange(
    server: &Server,
    fixture: &Fixture,
    n: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let count = (duration.as_secs() * CODES_PER_SECOND).clamp(1000, MAX_CODES);
    let codes = fixture
        .codes(server, count, duration.as_secs() as i64 + 60)
        .await?;
    let redirect: String = url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect();
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={redirect}&code_verifier={VERIFIER}",
        load::ITEM
    );
    let request = form_post("/token", "web", body);
    Ok(external(
        server,
        request,
        load::Inputs::Drain(codes),
        n,
        None,
        duration,
    )
    .await)
}

async fn refresh(
    server: &Server,
    fixture: &Fixture,
    n: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    let chains = fixture.refresh_chains(server, n).await?;
    let body = format!("grant_type=refresh_token&refresh_token={}", load::ITEM);
    let request = form_post("/token", "web", body);
    Ok(external(
        server,
        request,
        load::Inputs::Chains(chains),
        n,
        None,
        duration,
    )
    .await)
}

async fn db_lookups(server: &Server, n: usize, duration: Duration) -> Report {
    let workers = vec![server.state.db.clone(); n];
    drive(workers, duration, |db| async move {
        let started = Instant::now();
        let outcome = match clients::find(&db, "svc").await {
            Ok(Some(_)) => Outcome::Ok(started.elapsed()),
            Ok(None) => Outcome::Failed("the client was not found".into()),
            Err(err) => Outcome::Failed(err.to_string()),
        };
        (db, outcome)
    })
    .await
}

/// Full password logins: /authorize (prompt=login) → login page → form POST. The
/// latency is the POST's (argon2 bound); the rate counts whole logins.
async fn logins(server: &Server, n: usize, duration: Duration) -> anyhow::Result<Report> {
    let authorize = format!(
        "{}/authorize?client_id=web&redirect_uri={}&response_type=code&scope=openid\
         &state=st4te&nonce=n0nce&code_challenge={CHALLENGE}&code_challenge_method=S256&prompt=login",
        server.base,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let mut workers = Vec::with_capacity(n);
    for _ in 0..n {
        // A cookie jar per virtual user, as each browser has.
        let browser = reqwest::Client::builder()
            .no_proxy()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()?;
        workers.push((browser, server.base.clone(), authorize.clone()));
    }
    Ok(
        drive(workers, duration, |(browser, base, authorize)| async move {
            let result = login_once(&browser, &base, &authorize).await;
            let outcome = match result {
                Ok(latency) => Outcome::Ok(latency),
                Err(err) => Outcome::Failed(err),
            };
            ((browser, base, authorize), outcome)
        })
        .await,
    )
}

async fn login_once(
    browser: &reqwest::Client,
    base: &str,
    authorize: &str,
) -> Result<Duration, String> {
    let (_, start) = timed(browser.get(authorize), StatusCode::SEE_OTHER).await?;
    let location = header(&start.headers, "location")?;
    if !location.starts_with("/login") {
        return Err(format!("/authorize sent the browser to {location}"));
    }
    let (_, page) = timed(browser.get(format!("{base}{location}")), StatusCode::OK).await?;
    let html = String::from_utf8_lossy(&page.body);
    let request_id = hidden_field(&html, "request_id")?;
    let csrf = hidden_field(&html, "csrf")?;
    let form = [
        ("request_id", request_id.as_str()),
        ("csrf", csrf.as_str()),
        ("username", USERNAME),
        ("password", PASSWORD),
    ];
    let (latency, done) = timed(
        browser.post(format!("{base}/login")).form(&form),
        StatusCode::SEE_OTHER,
    )
    .await?;
    let next = header(&done.headers, "location")?;
    if !next.starts_with("/authorize/continue") {
        return Err(format!("the login sent the browser to {next}"));
    }
    Ok(latency)
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Result<String, String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("no {name} header"))
}

/// The value of a hidden input; ours are URL-safe tokens, so no HTML unescaping.
fn hidden_field(html: &str, name: &str) -> Result<String, String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .ok_or_else(|| format!("no {name} field on the login page"))?;
    let end = html[start..]
        .find('"')
        .map(|i| i + start)
        .ok_or_else(|| format!("unterminated {name} field"))?;
    Ok(html[start..end].to_string())
}

// ---------------------------------------------------------------------------
// Memory and CPU

/// User plus system CPU time of this process, from /proc/self/stat (Linux; the
/// kernel counts in ticks of 1/100 s, fine over seconds of load).
fn cpu_time() -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis(
        (utime + stime) * 1000 / TICKS_PER_SECOND,
    ))
}

/// Resident set size now and its peak, from /proc/self/status (Linux).
struct Memory {
    rss_kib: Option<u64>,
    hwm_kib: Option<u64>,
    anon_kib: Option<u64>,
    file_kib: Option<u64>,
}

fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Memory {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
        anon_kib: field("RssAnon:"),
        file_kib: field("RssFile:"),
    }
}

impl Memory {
    fn describe(&self) -> String {
        match self.rss_kib {
            Some(kib) => format!("{:.1} MiB (VmRSS)", kib as f64 / 1024.0),
            None => "unknown (no /proc/self/status)".into(),
        }
    }

    /// VmRSS split into private memory and pages mapped from files (code).
    fn describe_split(&self) -> String {
        match (self.anon_kib, self.file_kib) {
            (Some(anon), Some(file)) => format!(
                "{}: {:.1} MiB anonymous, {:.1} MiB mapped from files (the binary's and libraries' code)",
                self.describe(),
                anon as f64 / 1024.0,
                file as f64 / 1024.0
            ),
            _ => self.describe(),
        }
    }

    fn peak_mib(&self) -> String {
        match self.hwm_kib {
            Some(kib) => format!("{:.1} MiB", kib as f64 / 1024.0),
            None => "unknown".into(),
        }
    }
}
