//! A pending request belongs to the browser that started it: the browser holds a
//! random value in an HttpOnly cookie and the request stores its hash. Another
//! browser that learns a request id cannot finish that sign-in (login CSRF,
//! RFC 9700 §4.7; OIDC Core §15.5.2 for the session it would plant).

use axum::http::{HeaderMap, HeaderValue};

use crate::secrets::{constant_time_eq, hash_token, random_token};
use crate::web::cookies;

/// `__Host-` pins the cookie to this origin; it needs `Secure` (https issuers).
fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_browser"
    } else {
        "gatehouse_browser"
    }
}

/// The hash to store with a new request, and the cookie to set when the browser
/// had none yet (one value per browser, so several tabs can sign in at once).
pub fn ensure(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookies::get(headers, cookie_name(secure)) {
        Some(secret) if secret.len() == 43 => (hash_token(secret), None),
        _ => {
            let secret = random_token();
            let cookie = cookies::build(cookie_name(secure), &secret, "Lax", secure, None);
            (hash_token(&secret), Some(cookie))
        }
    }
}

/// Whether this browser is the one a request with `stored_hash` is bound to.
pub fn matches(headers: &HeaderMap, secure: bool, stored_hash: Option<&str>) -> bool {
    match (cookies::get(headers, cookie_name(secure)), stored_hash) {
        (Some(secret), Some(hash)) => constant_time_eq(&hash_token(secret), hash),
        _ => false,
    }
}
