//! One id per request: taken from an incoming `x-request-id` when it is short and
//! harmless, generated otherwise; returned in the response header and carried by a
//! tracing span, so every log line of the request names it.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids are replaced: the id goes into every log line of the request.
const MAX_LEN: usize = 64;

/// The request's id, for handlers that want to show or forward it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Accepts ids made of characters that cannot break a log line or a header
/// (letters, digits and `-_.:+/=@`), at most `MAX_LEN` long.
pub fn acceptable(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(b));
    if ok {
        value.to_str().ok()
    } else {
        None
    }
}

fn generate() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Middleware. Logs one line per request with the route template (never the raw
/// path or query, which can hold codes and tokens), the status and the latency.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(acceptable)
        .map(str::to_string)
        .unwrap_or_else(generate);
    let route = super::metrics::route_of(&request);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        route = %route,
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            "request"
        )
    });
    // Either generated (hex) or already checked printable: always a valid value.
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str) -> bool {
        acceptable(&HeaderValue::from_str(value).unwrap()).is_some()
    }

    #[test]
    fn accepts_short_printable_ids() {
        assert!(check("abc-123"));
        assert!(check("Root=1-67891233-abcdef012345678912345678"));
        assert!(check(&"a".repeat(MAX_LEN)));
    }

    #[test]
    fn refuses_long_empty_or_odd_ids() {
        assert!(!check(""));
        assert!(!check(&"a".repeat(MAX_LEN + 1)));
        assert!(!check("two words"));
        assert!(!check("quote\"d"));
        assert!(!check("{\"json\":1}"));
    }

    #[test]
    fn generated_ids_are_accepted_back() {
        let id = generate();
        assert!(check(&id));
        assert_ne!(id, generate());
    }
}
