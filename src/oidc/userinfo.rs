//! The UserInfo endpoint (OIDC Core §5.3), a protected resource (RFC 6750).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::error::{no_store, Error, Result};
use crate::keys::jwt;
use crate::oidc::grants::issue::grant_of_jti;
use crate::oidc::scopes;
use crate::store::{grants, users};

/// RFC 6750 §2.1: `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The claims of a live access token issued by this server, or the reason it is not.
pub fn check_access_token(
    claims: &Map<String, Value>,
    typ: Option<&str>,
    issuer: &str,
    now: i64,
) -> std::result::Result<(), &'static str> {
    // RFC 9068 §4: the typ keeps ID tokens from being replayed as access tokens.
    if !typ.is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return Err("not an access token");
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("issued by another server");
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => Ok(()),
        _ => Err("the access token has expired"),
    }
}

pub async fn handle(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let token = bearer(&headers).ok_or_else(|| Error::bearer("no access token was provided"))?;
    let verified = jwt::verify(&state.keys.get(), token)
        .ok_or_else(|| Error::bearer("the access token is invalid"))?;
    let claims = verified.claims;
    check_access_token(
        &claims,
        verified.typ.as_deref(),
        state.issuer(),
        state.now(),
    )
    .map_err(Error::bearer)?;
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    let grant_id = grant_of_jti(str_claim("jti")).unwrap_or_default();
    let grant_live = grants::find(&state.db, grant_id)
        .await?
        .is_some_and(|g| g.revoked_at.is_none());
    if !grant_live {
        return Err(Error::bearer("the access token was revoked"));
    }
    let user = users::find(&state.db, str_claim("sub"))
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| Error::bearer("the user no longer exists"))?;
    let body = scopes::user_claims(&user, str_claim("scope"));
    Ok(no_store(Json(Value::Object(body)).into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

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

    #[test]
    fn access_token_rules() {
        let claims =
            |iss: &str, exp: i64| json!({"iss": iss, "exp": exp}).as_object().unwrap().clone();
        let iss = "https://id.example.com";
        assert!(check_access_token(&claims(iss, 200), Some("at+jwt"), iss, 100).is_ok());
        assert!(check_access_token(&claims(iss, 200), Some("JWT"), iss, 100).is_err());
        assert!(
            check_access_token(&claims("https://other", 200), Some("at+jwt"), iss, 100).is_err()
        );
        assert!(check_access_token(&claims(iss, 100), Some("at+jwt"), iss, 100).is_err());
    }
}
