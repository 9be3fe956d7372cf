//! The token endpoint (RFC 6749 §3.2): authenticates the client, then dispatches
//! by grant_type to one module per grant.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::app::AppState;
use crate::error::{no_store, Error, ErrorCode, Result};
use crate::oidc::{client_auth, grants};
use crate::web::params::Params;

/// RFC 6749 §5.1 / OIDC Core §3.1.3.3.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Error::json(
            ErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let params = Params::parse(&body);
    if let Some(name) = params.first_duplicate() {
        return Err(Error::json(
            ErrorCode::InvalidRequest,
            format!("parameter '{name}' is repeated"),
        ));
    }
    let client = client_auth::authenticate(&state.db, &headers, &params).await?;
    let response = match params.get("grant_type") {
        None => {
            return Err(Error::json(
                ErrorCode::InvalidRequest,
                "grant_type is required",
            ))
        }
        Some("authorization_code") => {
            grants::authorization_code::exchange(&state, &client, &params).await?
        }
        Some(other) => {
            return Err(Error::json(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type '{other}' is not supported"),
            ))
        }
    };
    Ok(no_store(Json(response).into_response()))
}
