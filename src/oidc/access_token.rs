//! Checking the access tokens Gatehouse issued: signature, type, issuer, expiry, and
//! that the grant they belong to is still live.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::keys::jwt::Verified;
use crate::state::AppState;
use crate::store::users::User;
use crate::store::{clients, grants, revoked_client_tokens};

/// Prefix of the jti of tokens that belong to no grant (client_credentials).
const NO_GRANT: &str = "cc";

/// A fresh jti. Tokens of a grant name it (`<grant id>.<random>`), so a resource
/// check learns whether the grant was revoked with one key lookup.
pub fn new_jti(grant_id: Option<&str>) -> String {
    let random = &crate::secrets::random_token()[..22];
    format!("{}.{random}", grant_id.unwrap_or(NO_GRANT))
}

/// The grant a jti names, if any.
pub fn grant_of_jti(jti: &str) -> Option<&str> {
    jti.split_once('.')
        .map(|(grant, _)| grant)
        .filter(|g| *g != NO_GRANT)
}

/// Whether a presented token has the shape of a JWS (RFC 7515 §7.1: three parts
/// joined by dots). Refresh tokens are base64url without dots, so a JWT-shaped token
/// needs no refresh-token look-up.
pub fn is_jwt_shaped(token: &str) -> bool {
    token.split('.').count() == 3
}

/// The claims rules of a verified token (pure).
pub fn check_claims(
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

/// A live access token.
pub struct LiveAccessToken {
    verified: Arc<Verified>,
    pub grant_id: Option<String>,
    /// The person the grant belongs to (read with the grant); None for a client's
    /// own token.
    pub user: Option<User>,
}

impl LiveAccessToken {
    pub fn claims(&self) -> &Map<String, Value> {
        &self.verified.claims
    }

    pub fn claim(&self, name: &str) -> &str {
        self.claims()
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Validates a bearer access token; every failure is `invalid_token` (RFC 6750 §3.1).
pub async fn validate(state: &AppState, token: &str) -> Result<LiveAccessToken> {
    let verified = state
        .keys
        .verify(&state.db, token, state.now())
        .await
        .ok_or_else(|| Error::bearer("the access token is invalid"))?;
    check_claims(
        &verified.claims,
        verified.typ.as_deref(),
        state.issuer(),
        state.now(),
    )
    .map_err(Error::bearer)?;
    let jti = verified
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let grant_id = grant_of_jti(jti).map(str::to_string);
    let mut user = None;
    if let Some(id) = &grant_id {
        // A grant whose user is gone is gone too (ON DELETE CASCADE).
        user = Some(
            grants::live_user(&state.db, id, state.now())
                .await?
                .ok_or_else(|| Error::bearer("the access token was revoked"))?,
        );
    } else {
        // A client's own token (client_credentials) lives while its client is
        // registered (read now, not from a node's cache) and it was not revoked.
        let client_id = verified
            .claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let registered = clients::find(&state.db, client_id).await?.is_some();
        if !registered || revoked_client_tokens::is_revoked(&state.db, jti).await? {
            return Err(Error::bearer("the access token was revoked"));
        }
    }
    Ok(LiveAccessToken {
        verified,
        grant_id,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jti_names_its_grant() {
        let jti = new_jti(Some("g-1"));
        assert_eq!(grant_of_jti(&jti), Some("g-1"));
        assert_eq!(grant_of_jti(&new_jti(None)), None);
        assert_eq!(grant_of_jti("nodot"), None);
    }

    #[test]
    fn jwt_shape() {
        assert!(is_jwt_shaped("a.b.c"));
        assert!(!is_jwt_shaped(&crate::secrets::random_token()));
        assert!(!is_jwt_shaped("a.b"));
    }

    #[test]
    fn claim_rules() {
        let claims =
            |iss: &str, exp: i64| json!({"iss": iss, "exp": exp}).as_object().unwrap().clone();
        let iss = "https://id.example.com";
        assert!(check_claims(&claims(iss, 200), Some("at+jwt"), iss, 100).is_ok());
        assert!(check_claims(&claims(iss, 200), Some("JWT"), iss, 100).is_err());
        assert!(check_claims(&claims(iss, 200), None, iss, 100).is_err());
        assert!(check_claims(&claims("https://other", 200), Some("at+jwt"), iss, 100).is_err());
        assert!(check_claims(&claims(iss, 100), Some("at+jwt"), iss, 100).is_err());
    }
}
