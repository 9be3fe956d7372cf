//! Token introspection (RFC 7662) for resource servers and clients.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::error::{no_store, Error, ErrorCode, Result};
use crate::oidc::grants::refresh_token;
use crate::oidc::{access_token, client_auth, form};
use crate::state::AppState;
use crate::store::refresh_tokens;

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let params = form::parse(&headers, &body)?;
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    // RFC 7662 §4: the caller must be authorized; a public client proves nothing.
    if client.is_public() {
        return Err(Error::InvalidClient {
            description: "introspection needs a confidential client".into(),
            basic: false,
        });
    }
    let token = params
        .get("token")
        .ok_or_else(|| Error::json(ErrorCode::InvalidRequest, "token is required"))?;
    let body = if access_token::is_jwt_shaped(token) {
        access_info(&state, token).await?
    } else {
        match refresh_info(&state, token, &client.client_id).await? {
            Some(info) => info,
            None => inactive(),
        }
    };
    Ok(no_store(Json(body).into_response()))
}

fn inactive() -> Value {
    json!({ "active": false })
}

/// A refresh token is shown only to the client it was issued to.
async fn refresh_info(state: &AppState, token: &str, client_id: &str) -> Result<Option<Value>> {
    let Some(link) = refresh_tokens::find_link(&state.db, token).await? else {
        return Ok(None);
    };
    let now = state.now();
    let usable = link.token.client_id == client_id
        && link.used_at().is_none()
        && link.token.expires_at > now;
    let refresh = link.token;
    if !usable {
        return Ok(Some(inactive()));
    }
    // Active means usable right now (RFC 7662 §2.2): the same rules as the token endpoint.
    let grant = match refresh_token::live_grant(state, &refresh, now).await {
        Ok(grant) => grant,
        Err(Error::Json(_)) => return Ok(Some(inactive())),
        Err(other) => return Err(other),
    };
    Ok(Some(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": refresh.scope,
        "client_id": refresh.client_id,
        "sub": grant.user_id,
        "aud": refresh.client_id,
        "iss": state.issuer(),
        "iat": refresh.issued_at,
        "exp": refresh.expires_at,
    })))
}

async fn access_info(state: &AppState, token: &str) -> Result<Value> {
    let live = match access_token::validate(state, token).await {
        Ok(live) => live,
        Err(Error::Bearer(_)) => return Ok(inactive()),
        Err(other) => return Err(other),
    };
    if live.grant_id.is_some() && live.user.as_ref().is_none_or(|u| u.disabled) {
        return Ok(inactive());
    }
    let mut body = json!({ "active": true, "token_type": "Bearer" });
    for claim in [
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "iss",
        "aud",
        "jti",
        "auth_time",
        "sid",
    ] {
        if let Some(value) = live.claims().get(claim) {
            body[claim] = value.clone();
        }
    }
    Ok(body)
}
