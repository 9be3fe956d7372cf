//! CSRF protection for the forms: a random token in a SameSite cookie that each
//! form must echo (double submit), compared in constant time.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::error::Error;

use crate::secrets::{constant_time_eq, random_token};
use crate::web::cookies;

/// `__Host-` (https only) stops a sibling subdomain from planting its own token.
fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_csrf"
    } else {
        "gatehouse_csrf"
    }
}

/// The browser's CSRF token, and the cookie to set when it had none.
pub fn ensure(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookies::get(headers, cookie_name(secure)) {
        Some(token) if token.len() == 43 => (token.to_string(), None),
        _ => {
            let token = random_token();
            let cookie = cookies::build(cookie_name(secure), &token, "Lax", secure, None);
            (token, Some(cookie))
        }
    }
}

/// True when the form's token matches the cookie.
pub fn verify(headers: &HeaderMap, submitted: &str, secure: bool) -> bool {
    match cookies::get(headers, cookie_name(secure)) {
        Some(token) => !submitted.is_empty() && constant_time_eq(token, submitted),
        None => false,
    }
}

/// Adds the CSRF cookie to a page response when one was created.
pub fn attach(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The answer to a form whose token does not match.
pub fn failed() -> Error {
    Error::page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form could not be verified. Go back, reload the page and try again.",
    )
}
