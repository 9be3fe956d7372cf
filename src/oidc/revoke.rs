//! Token revocation (RFC 7009). Revoking a refresh or access token revokes its whole
//! grant, so every token of the family dies with it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{no_store, Error, ErrorCode, Result};
use crate::oidc::{access_token, client_auth, form};
use crate::state::AppState;
use crate::store::{grants, refresh_tokens};

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
    if let Some(grant_id) = grant_of(&state, token, &client.client_id).await? {
        grants::revoke(&state.db, &grant_id, "revoked by the client", state.now()).await?;
    }
    // RFC 7009 §2.2: 200 whether or not the token was known, valid or this client's.
    Ok(no_store(StatusCode::OK.into_response()))
}

/// The grant of `token` if it is a refresh or access token issued to `client_id`.
async fn grant_of(state: &AppState, token: &str, client_id: &str) -> Result<Option<String>> {
    if !access_token::is_jwt_shaped(token) {
        let refresh = refresh_tokens::find(&state.db, token).await?;
        return Ok(refresh
            .filter(|r| r.client_id == client_id)
            .map(|r| r.grant_id));
    }
    match access_token::validate(state, token).await {
        Ok(live) if live.claim("client_id") == client_id => Ok(live.grant_id),
        Ok(_) | Err(Error::Bearer(_)) => Ok(None),
        Err(other) => Err(other),
    }
}
