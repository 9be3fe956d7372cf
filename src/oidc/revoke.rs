//! Token revocation (RFC 7009). Revoking a refresh or access token revokes its whole
//! grant, so every token of the family dies with it; a client's own access token
//! (client_credentials, no grant) is listed as revoked until it expires.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{no_store, Error, ErrorCode, Result};
use crate::oidc::{access_token, client_auth, form};
use crate::state::AppState;
use crate::store::{grants, refresh_tokens, revoked_client_tokens};

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let params = form::parse(&headers, &body)?;
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let token = params
        .get("token")
        .ok_or_else(|| Error::json(ErrorCode::InvalidRequest, "token is required"))?;
    // The hint only orders the look-ups (RFC 7009 §2.1); both kinds are tried.
    match issued_to(&state, token, &client.client_id).await? {
        Some(Revocable::Grant(grant_id)) => {
            grants::revoke(&state.db, &grant_id, "revoked by the client", state.now()).await?;
        }
        Some(Revocable::ClientToken { jti, expires_at }) => {
            revoked_client_tokens::revoke(&state.db, &jti, &client.client_id, expires_at).await?;
        }
        None => {}
    }
    // RFC 7009 §2.2: 200 whether or not the token was known, valid or this client's.
    Ok(no_store(StatusCode::OK.into_response()))
}

/// What revoking a token ends.
enum Revocable {
    /// A user's grant: every token of the family.
    Grant(String),
    /// A client's own access token, which belongs to no grant.
    ClientToken { jti: String, expires_at: i64 },
}

/// What `token` ends if it is a refresh or access token issued to `client_id`.
async fn issued_to(state: &AppState, token: &str, client_id: &str) -> Result<Option<Revocable>> {
    if !access_token::is_jwt_shaped(token) {
        let refresh = refresh_tokens::find(&state.db, token).await?;
        return Ok(refresh
            .filter(|r| r.client_id == client_id)
            .map(|r| Revocable::Grant(r.grant_id)));
    }
    match access_token::validate(state, token).await {
        Ok(live) if live.claim("client_id") == client_id => Ok(Some(match live.grant_id {
            Some(grant_id) => Revocable::Grant(grant_id),
            None => Revocable::ClientToken {
                jti: live.claim("jti").to_string(),
                expires_at: live
                    .claims()
                    .get("exp")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or_else(|| state.now()),
            },
        })),
        Ok(_) | Err(Error::Bearer(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
