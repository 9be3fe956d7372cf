//! Prometheus metrics: one process-wide recorder, per-route request counts and
//! latencies, and counters for the security events operators alert on.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const REQUESTS: &str = "gatehouse_http_requests_total";
const DURATION: &str = "gatehouse_http_request_duration_seconds";
const LOGINS: &str = "gatehouse_logins_total";
const TOKENS: &str = "gatehouse_tokens_issued_total";
const REFRESH_REUSE: &str = "gatehouse_refresh_reuse_detected_total";
const KEY_ROTATIONS: &str = "gatehouse_key_rotations_total";

/// Latency buckets in seconds: fine below 10 ms where the protocol endpoints live,
/// coarse above for password hashing and slow databases.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Histogram samples pile up in memory until drained; a scrape drains them, and so
/// does this, so an unscraped node does not grow.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus handle. The global recorder can be set only once per
/// process, and tests start many servers in one, so the first call installs it and
/// every later call shares it.
pub fn handle() -> PrometheusHandle {
    HANDLE.get_or_init(install).clone()
}

fn install() -> PrometheusHandle {
    // Only fails on an empty bucket list, which BUCKETS is not.
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
        .unwrap_or_else(|_| PrometheusBuilder::new())
        .build_recorder();
    let handle = recorder.handle();
    if let Err(err) = ::metrics::set_global_recorder(recorder) {
        // Someone else installed a recorder first: /metrics stays empty rather than
        // the server failing to start.
        tracing::warn!(error = %err, "metrics recorder already installed; /metrics will be empty");
        return handle;
    }
    describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "cannot start the metrics upkeep thread");
    }
    handle
}

/// Help texts, and every event counter at zero so dashboards and alerts see the
/// series before the first event.
fn describe() {
    use ::metrics::{counter, describe_counter, describe_histogram, Unit};
    describe_counter!(
        REQUESTS,
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        DURATION,
        Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    describe_counter!(LOGINS, "Password logins by result (ok, failed)");
    describe_counter!(TOKENS, "Token responses by grant type");
    describe_counter!(
        REFRESH_REUSE,
        "Rotated refresh tokens presented again (grant revoked)"
    );
    describe_counter!(
        KEY_ROTATIONS,
        "Signing keys promoted to current by this node"
    );
    for result in ["ok", "failed"] {
        counter!(LOGINS, "result" => result).increment(0);
    }
    for grant in crate::grant_type::GrantType::ALL {
        counter!(TOKENS, "grant_type" => grant.as_str()).increment(0);
    }
    counter!(REFRESH_REUSE).increment(0);
    counter!(KEY_ROTATIONS).increment(0);
}

/// GET /metrics: the Prometheus text exposition format.
pub async fn render(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Middleware: counts every request and records its latency, labelled with the
/// route template (`/static/{file}`), never the raw path, so label values stay few.
pub async fn track(request: Request, next: Next) -> Response {
    let route = route_of(&request);
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    ::metrics::counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    ::metrics::histogram!(DURATION, "method" => method, "route" => route).record(elapsed);
    response
}

/// The matched route template, or one shared label for requests that matched none.
pub fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string())
}

/// Arbitrary methods would make arbitrary label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// A password login decided: `ok` or not.
pub fn login(ok: bool) {
    let result = if ok { "ok" } else { "failed" };
    ::metrics::counter!(LOGINS, "result" => result).increment(1);
}

/// A token response sent for `grant_type` (one of the supported grants).
pub fn token_issued(grant_type: crate::grant_type::GrantType) {
    ::metrics::counter!(TOKENS, "grant_type" => grant_type.as_str()).increment(1);
}

/// A rotated refresh token came back outside the grace window.
pub fn refresh_reuse_detected() {
    ::metrics::counter!(REFRESH_REUSE).increment(1);
}

/// This node promoted a signing key to current.
pub fn key_rotated() {
    ::metrics::counter!(KEY_ROTATIONS).increment(1);
}
