//! Minting the signed tokens of a grant.

use crate::app::AppState;
use crate::error::Result;
use crate::keys::jwt;
use crate::oidc::token::TokenResponse;
use crate::oidc::tokens::{self, AccessTokenClaims, IdTokenClaims};
use crate::store::grants::Grant;

/// Access tokens name their grant in the jti (`<grant id>.<random>`), so a resource
/// check can see whether the grant was revoked with one key lookup.
pub fn grant_of_jti(jti: &str) -> Option<&str> {
    jti.split_once('.').map(|(grant, _)| grant)
}

/// An access token and, when `nonce` is given or the grant has openid, an ID token.
pub fn tokens_for(
    state: &AppState,
    grant: &Grant,
    scope: &str,
    nonce: Option<&str>,
) -> Result<TokenResponse> {
    let keys = state.keys.get();
    let now = state.now();
    let config = &state.config;
    let jti = format!("{}.{}", grant.id, &crate::secrets::random_token()[..22]);
    let access_token = jwt::sign(
        &keys,
        "at+jwt",
        tokens::access_token(&AccessTokenClaims {
            issuer: &config.issuer,
            subject: &grant.user_id,
            client_id: &grant.client_id,
            scope,
            auth_time: grant.auth_time,
            session_id: grant.session_id.as_deref(),
            jti: &jti,
            issued_at: now,
            ttl: config.access_token_ttl as i64,
        }),
    )?;
    let id_token = jwt::sign(
        &keys,
        "JWT",
        tokens::id_token(&IdTokenClaims {
            issuer: &config.issuer,
            subject: &grant.user_id,
            client_id: &grant.client_id,
            nonce,
            auth_time: grant.auth_time,
            session_id: grant.session_id.as_deref(),
            access_token: &access_token,
            issued_at: now,
            ttl: config.id_token_ttl as i64,
        }),
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl,
        id_token: Some(id_token),
        scope: scope.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::grant_of_jti;

    #[test]
    fn jti_names_its_grant() {
        assert_eq!(grant_of_jti("g-1.abc"), Some("g-1"));
        assert_eq!(grant_of_jti("nodot"), None);
    }
}
