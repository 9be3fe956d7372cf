//! RP-Initiated Logout 1.0 (`end_session_endpoint`), GET and POST.
//!
//! A request proven by a valid id_token_hint of the signed-in user ends the session
//! at once and returns to a registered post_logout_redirect_uri; anything else
//! (no hint, or a hint naming another user) asks the person first (§2, §6).
//! Every sign-out ends the server-side session and its grants.
//! A redirect goes only to an exactly registered URI, never anywhere else.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::session;
use crate::domain::sessions::end_session;
use crate::error::{Error, Result};
use crate::oidc::id_token_hint;
use crate::redirect_uri;
use crate::state::AppState;
use crate::store::clients::{self, Client};
use crate::store::users;
use crate::ui::pages::{render_page, LoggedOutPage, LogoutPage};
use crate::web::csrf;
use crate::web::csrf::failed as csrf_failed;
use crate::web::params::Params;

fn bad(message: &str) -> Error {
    Error::page(StatusCode::BAD_REQUEST, "Sign-out not possible", message)
}

/// The client and return address a request names, checked: the URI must be one the
/// client registered, to the letter (RP-Initiated Logout §3).
async fn destination(
    state: &AppState,
    client_id: Option<&str>,
    uri: Option<&str>,
) -> Result<(Option<Client>, Option<String>)> {
    let client = match client_id {
        Some(id) if clients::is_valid_client_id(id) => Some(
            clients::find(&state.db, id)
                .await?
                .ok_or_else(|| bad("The application that sent you here is not registered."))?,
        ),
        Some(_) => return Err(bad("The application identifier is not valid.")),
        None => None,
    };
    let Some(uri) = uri else {
        return Ok((client, None));
    };
    let registered = client
        .as_ref()
        .is_some_and(|c| redirect_uri::matches_registered(uri, &c.post_logout_redirect_uris));
    if !registered {
        return Err(bad(
            "The application asked to return to an address it has not registered.",
        ));
    }
    Ok((client, Some(uri.to_string())))
}

fn finish(
    state: &AppState,
    back_to: Option<&str>,
    state_param: Option<&str>,
    clear_cookie: bool,
) -> Response {
    let mut response = match back_to {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = state_param.map(|s| ("state", s)).into_iter().collect();
            crate::web::redirect::with_query(uri, &pairs)
                .unwrap_or_else(|| bad("The return address is not valid.").into_response())
        }
        None => render_page(StatusCode::OK, &LoggedOutPage {}),
    };
    if clear_cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session::clear_cookie(state));
    }
    response
}

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    async {
        let raw: &[u8] = if method == Method::POST {
            &body
        } else {
            query.as_deref().unwrap_or_default().as_bytes()
        };
        let params = Params::parse(raw);
        if params.first_duplicate().is_some() || params.first_malformed().is_some() {
            return Err(bad("The sign-out request is malformed."));
        }
        let hint = match params.get("id_token_hint") {
            Some(raw) => Some(
                id_token_hint::verify(&state, raw)
                    .await
                    .ok_or_else(|| bad("The sign-out request carries an invalid ID token."))?,
            ),
            None => None,
        };
        let client_id = match (&hint, params.get("client_id")) {
            (Some(h), Some(id)) if h.client_id != id => {
                return Err(bad("The ID token was issued to another application."))
            }
            (Some(h), _) => Some(h.client_id.clone()),
            (None, id) => id.map(str::to_string),
        };
        let (client, back_to) = destination(
            &state,
            client_id.as_deref(),
            params.get("post_logout_redirect_uri"),
        )
        .await?;
        let current = session::current(&state, &headers).await?;
        let Some(current) = current else {
            // Nothing to end: go where the client asked, if it may go there.
            return Ok(finish(
                &state,
                back_to.as_deref(),
                params.get("state"),
                false,
            ));
        };
        // A valid hint proves the client; it proves the person only when it names the
        // user signed in here. Otherwise ask, so a link cannot sign people out.
        let other_account = match &hint {
            Some(h) if h.subject == current.user_id => {
                end_session(&state, &current.user_id, &current.id).await?;
                return Ok(finish(
                    &state,
                    back_to.as_deref(),
                    params.get("state"),
                    true,
                ));
            }
            Some(_) => true,
            None => false,
        };
        let user = users::find(&state.db, &current.user_id).await?;
        let (csrf, cookie) = csrf::ensure(&headers, state.config.secure_cookies());
        let page = LogoutPage {
            username: user.map(|u| u.username).unwrap_or_default(),
            other_account,
            client_name: client.as_ref().map(|c| c.name.clone()),
            csrf,
            client_id: client_id.unwrap_or_default(),
            post_logout_redirect_uri: back_to.unwrap_or_default(),
            state: params.get("state").unwrap_or_default().to_string(),
        };
        Ok(csrf::attach(render_page(StatusCode::OK, &page), cookie))
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    post_logout_redirect_uri: String,
    #[serde(default)]
    state: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let client_id = nonempty(&form.client_id);
        let uri = nonempty(&form.post_logout_redirect_uri);
        // Checked again: the form came back from the browser.
        let (_, back_to) = destination(&state, client_id.as_deref(), uri.as_deref()).await?;
        if let Some(current) = session::current(&state, &headers).await? {
            end_session(&state, &current.user_id, &current.id).await?;
        }
        let state_param = nonempty(&form.state);
        Ok(finish(
            &state,
            back_to.as_deref(),
            state_param.as_deref(),
            true,
        ))
    }
    .await
    .map_err(Error::on_page)
}
