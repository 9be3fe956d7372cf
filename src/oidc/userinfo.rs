//! The UserInfo endpoint (OIDC Core §5.3), a protected resource (RFC 6750).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::error::{no_store, Error, ErrorCode, OAuthError, Result};
use crate::oidc::{access_token, form, scopes};
use crate::state::AppState;

/// RFC 6750 §2.1: `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// RFC 6750 §2.2: `access_token` in a form-encoded POST body. A body of any other
/// type carries no token.
fn body_token(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<Option<String>> {
    if method != Method::POST || !form::is_form(headers) {
        return Ok(None);
    }
    let params = form::parse(headers, body).map_err(to_bearer)?;
    Ok(params.get("access_token").map(str::to_string))
}

/// A malformed request at a protected resource is answered with a bearer challenge.
fn to_bearer(error: Error) -> Error {
    match error {
        Error::Json(e) => Error::Bearer(e),
        other => other,
    }
}

/// The one token of the request: RFC 6750 §2 allows a single method per request.
fn presented(method: &Method, headers: &HeaderMap, body: &[u8]) -> Result<String> {
    let in_header = bearer(headers);
    let in_body = body_token(method, headers, body)?;
    match (in_header, in_body) {
        (Some(_), Some(_)) => Err(Error::Bearer(OAuthError::new(
            ErrorCode::InvalidRequest,
            "send the access token once: in the Authorization header or in the body, not both",
        ))),
        (Some(token), None) => Ok(token.to_string()),
        (None, Some(token)) => Ok(token),
        // A malformed Authorization header is a token that fails to validate, so a
        // client gets invalid_token rather than a bare challenge.
        (None, None) if headers.contains_key(header::AUTHORIZATION) => Err(Error::bearer(
            "the Authorization header holds no bearer token",
        )),
        (None, None) => Err(Error::BearerRequired),
    }
}

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let token = presented(&method, &headers, &body)?;
    let live = access_token::validate(&state, &token).await?;
    if live.grant_id.is_none() {
        return Err(Error::bearer("the access token does not represent a user"));
    }
    let user = live
        .user
        .as_ref()
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::bearer("the user no longer exists"))?;
    let scope = live.claim("scope");
    let groups = if scopes::releases_groups(scope) {
        crate::store::groups::names_of_user(&state.db, &user.id).await?
    } else {
        Vec::new()
    };
    let body = scopes::user_claims(user, &groups, scope);
    Ok(no_store(Json(Value::Object(body)).into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_header_parsing() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }

    fn form_headers(authorization: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn one_token_per_request() {
        let post = Method::POST;
        let code = |r: Result<String>| match r {
            Ok(token) => token,
            Err(Error::Bearer(e)) => e.code.as_str().to_string(),
            Err(Error::BearerRequired) => "bare challenge".into(),
            Err(other) => format!("{other}"),
        };
        let table: &[(&Method, Option<&'static str>, &[u8], &str)] = &[
            (&post, None, b"access_token=abc", "abc"),
            (&post, Some("Bearer abc"), b"", "abc"),
            (
                &post,
                Some("Bearer abc"),
                b"access_token=abc",
                "invalid_request",
            ),
            (&post, None, b"", "bare challenge"),
            (&post, None, b"other=1", "bare challenge"),
            // RFC 6749 §3.2: a parameter without a value is omitted.
            (&post, None, b"access_token=", "bare challenge"),
            (
                &post,
                None,
                b"access_token=a&access_token=b",
                "invalid_request",
            ),
            (&post, Some("Basic abc"), b"", "invalid_token"),
            // §2.2: never in a GET body.
            (&Method::GET, None, b"access_token=abc", "bare challenge"),
        ];
        for (method, authorization, body, expected) in table {
            let got = code(presented(method, &form_headers(*authorization), body));
            assert_eq!(&got, expected, "{method} {authorization:?} {body:?}");
        }
        // A body that is not a form carries no token.
        let json = HeaderMap::new();
        assert!(matches!(
            presented(&post, &json, b"access_token=abc"),
            Err(Error::BearerRequired)
        ));
    }
}
