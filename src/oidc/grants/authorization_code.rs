//! The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5–4.6).

use crate::error::{Error, ErrorCode, Result};
use crate::grant_type::GrantType;
use crate::oidc::pkce;
use crate::oidc::token::TokenResponse;
use crate::state::AppState;
use crate::store::authorization_codes::{self, AuthorizationCode};
use crate::store::clients::Client;
use crate::store::grants;
use crate::store::refresh_tokens::{self, NewRefresh};
use crate::web::params::Params;
use sea_orm::TransactionTrait;

use super::issue;

fn invalid_grant(description: &str) -> Error {
    Error::json(ErrorCode::InvalidGrant, description)
}

/// The code's bindings, checked before it is consumed (pure, for unit tests).
pub fn check_binding(
    code: &AuthorizationCode,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
    now: i64,
) -> Result<()> {
    if code.client_id != client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if now >= code.expires_at {
        return Err(invalid_grant("the code has expired"));
    }
    // RFC 6749 §4.1.3: identical to the redirect_uri of the authorization request.
    if code.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify_s256(verifier, &code.code_challenge) {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    Ok(())
}

pub async fn exchange(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(Error::json(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization_code grant",
        ));
    }
    let required = |name: &str| {
        params
            .get(name)
            .ok_or_else(|| Error::json(ErrorCode::InvalidRequest, format!("{name} is required")))
    };
    let code = required("code")?;
    let redirect_uri = required("redirect_uri")?;
    let verifier = required("code_verifier")?;
    let now = state.now();

    let Some(found) = authorization_codes::find(&state.db, code).await? else {
        return Err(invalid_grant("the code is invalid"));
    };
    if found.consumed_at.is_some() {
        // RFC 6749 §4.1.2 / RFC 9700 §4.5: a replayed code revokes what it issued.
        grants::revoke(&state.db, &found.grant_id, "authorization code reuse", now).await?;
        return Err(invalid_grant("the code was already used"));
    }
    check_binding(&found, &client.client_id, redirect_uri, verifier, now)?;
    let Some(grant) = grants::find_usable(&state.db, &found.grant_id, now, false).await? else {
        let user_enabled = grants::find_with_context(&state.db, &found.grant_id)
            .await?
            .filter(|c| c.grant_is_live(now))
            .ok_or_else(|| invalid_grant("the grant was revoked"))?
            .user_is_enabled();
        return Err(invalid_grant(if user_enabled {
            "the grant can no longer be used"
        } else {
            "the user can no longer sign in"
        }));
    };

    // Consuming the code and starting the refresh chain happen together or not at all.
    let txn = state.db.begin().await?;
    if !authorization_codes::consume(&txn, &found.code_hash, now).await? {
        txn.rollback().await?;
        // Lost a race with a concurrent exchange of the same code: that is reuse too.
        grants::revoke(&state.db, &found.grant_id, "authorization code reuse", now).await?;
        return Err(invalid_grant("the code was already used"));
    }
    let refresh_token = if client.allows_grant(GrantType::RefreshToken) {
        let expires_at = (now + state.config.refresh_token_idle_ttl as i64).min(grant.expires_at);
        let new = NewRefresh {
            grant_id: &grant.id,
            client_id: &client.client_id,
            scope: &found.scope,
            expires_at,
        };
        Some(refresh_tokens::issue(&txn, new, now).await?)
    } else {
        None
    };
    txn.commit().await?;
    issue::for_grant(
        state,
        client,
        &grant,
        &found.scope,
        found.nonce.as_deref(),
        refresh_token,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code() -> AuthorizationCode {
        AuthorizationCode {
            code_hash: "h".into(),
            grant_id: "g".into(),
            client_id: "app".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: CHALLENGE.into(),
            created_at: 100,
            expires_at: 160,
            consumed_at: None,
        }
    }

    fn code_err(client: &str, uri: &str, verifier: &str, now: i64) -> bool {
        matches!(
            check_binding(&code(), client, uri, verifier, now),
            Err(Error::Json(e)) if e.code == ErrorCode::InvalidGrant
        )
    }

    #[test]
    fn binding_rules() {
        let uri = "https://app.example.com/cb";
        assert!(check_binding(&code(), "app", uri, VERIFIER, 159).is_ok());
        assert!(code_err("other", uri, VERIFIER, 120));
        assert!(code_err("app", uri, VERIFIER, 160));
        assert!(code_err(
            "app",
            "https://app.example.com/cb2",
            VERIFIER,
            120
        ));
        assert!(code_err("app", uri, &VERIFIER.replace('d', "x"), 120));
    }
}
