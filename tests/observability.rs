//! Health and readiness probes, Prometheus metrics, request ids, JSON logs and the
//! `healthcheck` command.

mod common;

use std::process::Command;

use common::*;

/// The sum of the samples of `name` whose labels include every pair in `labels`.
/// Metrics are process-wide and tests run in parallel, so callers compare
/// before/after rather than expect exact values.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // `name{labels} value` or `name value`; not a longer name sharing the prefix.
        let (label_text, value) = match rest.strip_prefix('{') {
            Some(rest) => match rest.split_once("} ") {
                Some(split) => split,
                None => continue,
            },
            None => match rest.strip_prefix(' ') {
                Some(value) => ("", value),
                None => continue,
            },
        };
        let matches = labels
            .iter()
            .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")));
        if matches {
            let value: f64 = value.trim().parse().expect("sample value");
            found = Some(found.unwrap_or(0.0) + value);
        }
    }
    found
}

async fn scrape(server: &TestServer) -> String {
    let response = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_follows_the_database() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ready");

    // The pool is shared by every clone of the connection: closing it is an outage.
    server.state.db.close_by_ref().await.unwrap();
    let response = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "database unavailable");
    // Liveness does not depend on the database.
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let server = TestServer::start().await;
    let jwks = [("method", "GET"), ("route", "/jwks"), ("status", "200")];
    let before = metric(
        &scrape(&server).await,
        "gatehouse_http_requests_total",
        &jwks,
    )
    .unwrap_or(0.0);
    for _ in 0..3 {
        let response = reqwest::get(server.url("/jwks")).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let css = reqwest::get(server.url("/static/gatehouse.css"))
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    let missing = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(missing.status(), 404);

    let text = scrape(&server).await;
    let after = metric(&text, "gatehouse_http_requests_total", &jwks).expect("jwks counted");
    assert!(after >= before + 3.0, "before {before}, after {after}");
    // The template, not the raw path: label values stay few whatever clients send.
    assert!(metric(
        &text,
        "gatehouse_http_requests_total",
        &[("route", "/static/{file}"), ("status", "200")]
    )
    .is_some());
    assert!(!text.contains("gatehouse.css"));
    assert!(!text.contains("/no/such/page"));
    assert!(metric(
        &text,
        "gatehouse_http_requests_total",
        &[("route", "unmatched"), ("status", "404")]
    )
    .is_some());
    // A real histogram with buckets, per route.
    let le = metric(
        &text,
        "gatehouse_http_request_duration_seconds_bucket",
        &[("route", "/jwks"), ("le", "+Inf")],
    )
    .expect("latency histogram");
    assert!(le >= 3.0);
    assert!(text.contains("# TYPE gatehouse_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn logins_are_counted_ok_and_failed() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let failed = [("result", "failed")];
    let ok = [("result", "ok")];
    let text = scrape(&server).await;
    let failed_before = metric(&text, "gatehouse_logins_total", &failed).expect("failed at 0");
    let ok_before = metric(&text, "gatehouse_logins_total", &ok).expect("ok at 0");

    let (_, page) = browser.get(&authorize_url(&server, "app", "")).await.page();
    let (status, page) = browser.login(&page, "alice", "wrong password").await.page();
    assert_eq!(status, 401);
    let text = scrape(&server).await;
    let failed_after = metric(&text, "gatehouse_logins_total", &failed).unwrap();
    assert!(failed_after >= failed_before + 1.0);

    browser.login(&page, "alice", PASSWORD).await.redirect();
    let text = scrape(&server).await;
    let ok_after = metric(&text, "gatehouse_logins_total", &ok).unwrap();
    assert!(ok_after >= ok_before + 1.0);
}

#[tokio::test]
async fn tokens_are_counted_by_grant_type() {
    let server = TestServer::start().await;
    server
        .add_client_with("svc", false, true, &["client_credentials"])
        .await;
    let labels = [("grant_type", "client_credentials")];
    let before = metric(
        &scrape(&server).await,
        "gatehouse_tokens_issued_total",
        &labels,
    )
    .expect("counter at 0");
    let (status, _, _) = token_request(
        &server,
        Some(("svc", SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    // A refused request issues nothing.
    let (status, _, _) = token_request(
        &server,
        Some(("svc", "wrong")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);
    let text = scrape(&server).await;
    let after = metric(&text, "gatehouse_tokens_issued_total", &labels).unwrap();
    assert!(after >= before + 1.0);
    assert!(metric(&text, "gatehouse_refresh_reuse_detected_total", &[]).is_some());
    assert!(metric(&text, "gatehouse_key_rotations_total", &[]).is_some());
}

#[tokio::test]
async fn request_id_is_generated_or_echoed() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();

    let response = client.get(server.url("/healthz")).send().await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 32);
    assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    let again = client.get(server.url("/healthz")).send().await.unwrap();
    assert_ne!(again.headers()["x-request-id"], generated);

    let response = client
        .get(server.url("/jwks"))
        .header("x-request-id", "trace-42.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42.abc");

    // Too long, or characters that could forge log fields: replaced, not echoed.
    for bad in ["x".repeat(65), "a b".to_string(), "a\"b".to_string()] {
        let response = client
            .get(server.url("/jwks"))
            .header("x-request-id", &bad)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
    }
    // Errors carry it too.
    let response = client
        .post(server.url("/token"))
        .header("x-request-id", "err-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-request-id"], "err-1");
}

/// `gatehouse serve` as a child process, killed when dropped.
#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secrets() {
    let db = TestDb::new().await;
    let serve = ServeProcess::start(&db, &[]);

    let secret_code = "c0de-that-must-not-be-logged";
    let response = reqwest::Client::new()
        .get(format!(
            "http://{}/authorize?client_id=nobody&code={secret_code}",
            serve.addr
        ))
        .header("x-request-id", "json-log-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "json-log-test-1");
    let entry = serve.log_until(|entry| {
        entry["span"]["request_id"] == "json-log-test-1" && entry["fields"]["message"] == "request"
    });
    assert_eq!(entry["level"], "INFO");
    assert_eq!(entry["span"]["route"], "/authorize");
    assert_eq!(entry["span"]["method"], "GET");
    assert_eq!(entry["fields"]["status"], response.status().as_u16());
    assert!(!entry.to_string().contains(secret_code));
}

#[tokio::test]
async fn healthcheck_command_exits_0_when_healthy_and_1_otherwise() {
    let server = TestServer::start().await;
    let listen = server.base.trim_start_matches("http://").to_string();
    // Off the runtime's thread: the server under test runs on it.
    let healthcheck = |listen: String| async move {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_gatehouse"))
                .arg("healthcheck")
                .env("GATEHOUSE_LISTEN", listen)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let out = healthcheck(listen).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = healthcheck(format!("127.0.0.1:{port}")).await;
    assert_eq!(out.status.code(), Some(1));

    // A bad configuration is "unhealthy" too: Docker reserves exit code 2.
    let out = healthcheck("not-an-address".to_string()).await;
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn invalid_log_format_is_a_config_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("migrate")
        .env("GATEHOUSE_LOG_FORMAT", "xml")
        .env("GATEHOUSE_DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GATEHOUSE_LOG_FORMAT"), "{err}");
}
