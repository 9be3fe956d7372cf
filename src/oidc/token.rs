//! The token endpoint (RFC 6749 §3.2): authenticates the client, then dispatches
//! by grant_type to one module per grant.

use crate::grant_type::GrantType;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::{no_store, Error, ErrorCode, Result};
use crate::oidc::{client_auth, form, grants};
use crate::state::AppState;
use crate::web::client_ip::ClientIp;

/// RFC 6749 §5.1 / OIDC Core §3.1.3.3.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

pub async fn handle(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let params = form::parse(&headers, &body)?;
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let grant_type = match params.get("grant_type") {
        None => {
            return Err(Error::json(
                ErrorCode::InvalidRequest,
                "grant_type is required",
            ))
        }
        Some(name) => GrantType::parse(name).ok_or_else(|| {
            Error::json(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type '{name}' is not supported"),
            )
        })?,
    };
    let response = match grant_type {
        GrantType::AuthorizationCode => {
            grants::authorization_code::exchange(&state, &client, &params).await?
        }
        GrantType::RefreshToken => {
            grants::refresh_token::exchange(&state, &client, &params, Some(&ip)).await?
        }
        GrantType::ClientCredentials => {
            grants::client_credentials::exchange(&state, &client, &params)?
        }
    };
    crate::observability::metrics::token_issued(grant_type);
    Ok(no_store(Json(response).into_response()))
}
