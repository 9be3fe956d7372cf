//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2), GET and POST.

pub mod checks;
pub mod complete;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::session;
use crate::error::{Error, ErrorRedirect, Result};
use crate::store::{authorization_requests, clients};
use crate::web::params::Params;

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let raw: &[u8] = if method == Method::POST {
        // OIDC Core §3.1.2.1: POST uses form serialization.
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Error::page(
                StatusCode::BAD_REQUEST,
                "Invalid sign-in request",
                "The request must be sent as a form (application/x-www-form-urlencoded).",
            ));
        }
        &body
    } else {
        query.as_deref().unwrap_or_default().as_bytes()
    };
    let params = Params::parse(raw);
    start(&state, &headers, &params)
        .await
        .map_err(Error::on_page)
}

async fn start(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<Response> {
    let client_id = checks::check_client_id(params)?;
    let client = clients::find(&state.db, client_id).await?.ok_or_else(|| {
        Error::page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "The application that sent you here is not registered with Gatehouse.",
        )
    })?;
    let redirect_uri = checks::check_redirect_uri(params, &client)?;
    let request = checks::validate(params, &client, redirect_uri).map_err(|error| {
        Error::Redirect(Box::new(ErrorRedirect {
            redirect_uri: redirect_uri.to_string(),
            state: params.get("state").map(str::to_string),
            issuer: state.issuer().to_string(),
            error,
        }))
    })?;
    let pending = authorization_requests::create(
        &state.db,
        request,
        state.now(),
        state.config.authorization_request_ttl as i64,
    )
    .await?;
    let session = session::current(state, headers).await?;
    complete::proceed(state, headers, Some(&client), pending, session).await
}

#[derive(Deserialize)]
pub struct ResumeQuery {
    #[serde(default)]
    request_id: String,
}

/// Where the login page sends the browser once the person has signed in.
pub async fn resume(
    State(state): State<AppState>,
    Query(query): Query<ResumeQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let pending = complete::pending(&state, &query.request_id).await?;
        let client = complete::client_of(&state, &pending).await?;
        let session = session::current(&state, &headers).await?;
        complete::proceed(&state, &headers, client.as_ref(), pending, session).await
    }
    .await
    .map_err(Error::on_page)
}
