//! The UserInfo endpoint (OIDC Core §5.3), a protected resource (RFC 6750).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::error::{no_store, Error, Result};
use crate::oidc::{access_token, scopes};
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

pub async fn handle(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let token = bearer(&headers).ok_or_else(|| Error::bearer("no access token was provided"))?;
    let live = access_token::validate(&state, token).await?;
    if live.grant_id.is_none() {
        return Err(Error::bearer("the access token does not represent a user"));
    }
    let user = live
        .user
        .as_ref()
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::bearer("the user no longer exists"))?;
    let body = scopes::user_claims(user, live.claim("scope"));
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
}
