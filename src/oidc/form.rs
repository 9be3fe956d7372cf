//! The urlencoded body every back-channel endpoint (token, revoke, introspect) takes.

use axum::http::{header, HeaderMap};

use crate::error::{Error, ErrorCode, Result};
use crate::web::params::Params;

/// Whether the body is a form: the media type, before any parameters, compared
/// without regard to case (RFC 9110 §8.3.1).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Parses a form body; RFC 6749 §3.2 and RFC 7009/7662 §2.1 require this content type,
/// and no parameter may repeat.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Params> {
    if !is_form(headers) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_media_type_is_compared_without_case_and_parameters() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            is_form(&headers)
        };
        assert!(with("application/x-www-form-urlencoded"));
        assert!(with("Application/X-WWW-Form-URLEncoded; charset=UTF-8"));
        assert!(!with("application/x-www-form-urlencodedx"));
        assert!(!with("application/json"));
        assert!(!is_form(&HeaderMap::new()));
    }
}
