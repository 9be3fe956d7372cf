//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2), GET and POST.

pub mod checks;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, ErrorCode, ErrorRedirect, OAuthError, Result};
use crate::oidc::id_token_hint;
use crate::signin::interaction::RequestIdQuery;
use crate::signin::interaction::{self, Interaction};
use crate::state::AppState;
use crate::store::clients;
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
        if !crate::oidc::form::is_form(&headers) {
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
    let to_client = |error| {
        Error::Redirect(Box::new(ErrorRedirect {
            redirect_uri: redirect_uri.to_string(),
            state: params.get("state").map(str::to_string),
            issuer: state.issuer().to_string(),
            error,
            form_post: params.get("response_mode") == Some("form_post"),
        }))
    };
    let request = checks::validate(params, &client, redirect_uri).map_err(to_client)?;
    let mut session = interaction::signed_in_user(state, headers).await?;
    if let Some(raw) = params.get("id_token_hint") {
        // OIDC Core §3.1.2.1: a hint for another user than the signed-in one means
        // that user must sign in (login_required under prompt=none).
        let hint = id_token_hint::verify(state, raw).await.ok_or_else(|| {
            to_client(OAuthError::new(
                ErrorCode::InvalidRequest,
                "id_token_hint is not an ID token of this issuer",
            ))
        })?;
        if session
            .as_ref()
            .is_some_and(|(s, _)| s.user_id != hint.subject)
        {
            session = None;
        }
    }
    let (pending, cookie) = interaction::create(state, headers, request).await?;
    let signin = Interaction {
        pending,
        client: Some(client),
        session,
        password_user: None,
    };
    // The binding cookie goes with every answer, errors for the client included.
    match signin.advance(state, None).await {
        Ok(response) => Ok(interaction::with_cookies(response, cookie)),
        Err(err) => Ok(interaction::with_cookies(
            err.on_page().into_response(),
            cookie,
        )),
    }
}

/// Where the login page sends the browser once the person has signed in.
pub async fn resume(
    State(state): State<AppState>,
    Query(query): Query<RequestIdQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let signin = interaction::load(&state, &headers, &query.request_id).await?;
        signin.advance(&state, None).await
    }
    .await
    .map_err(Error::on_page)
}
