//! The urlencoded body every back-channel endpoint (token, revoke, introspect) takes.

use axum::http::{header, HeaderMap};

use crate::error::{Error, ErrorCode, Result};
use crate::web::params::Params;

/// Parses a form body; RFC 6749 §3.2 and RFC 7009/7662 §2.1 require this content type,
/// and no parameter may repeat.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Params> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Error::json(
            ErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse(body);
    if let Some(name) = params.first_duplicate() {
        return Err(Error::json(
            ErrorCode::InvalidRequest,
            format!("parameter '{name}' is repeated"),
        ));
    }
    if let Some(name) = params.first_malformed() {
        return Err(Error::json(
            ErrorCode::InvalidRequest,
            format!("parameter '{name}' is too long or has control characters"),
        ));
    }
    Ok(params)
}
