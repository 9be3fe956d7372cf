//! "Forgot password?": asks for a username or email address and always gives the
//! same answer, whether or not an account matches (the mail, if any, is sent
//! after the request). Offered only when mail is set up.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::domain::email::{self, Purpose};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::ui::login::locked_page;
use crate::ui::pages::{render_page, ForgotPasswordPage};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

#[derive(Deserialize, Default)]
pub struct ForgotQuery {
    #[serde(default)]
    request_id: String,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    identifier: String,
}

/// The answer where mail is off: the page does not exist.
pub fn mail_off() -> Error {
    Error::page(
        StatusCode::NOT_FOUND,
        "Not available",
        "This server does not send mail. Ask your administrator to reset your password.",
    )
}

/// `path` within the sign-in `request_id` (none: outside one).
fn within(path: &str, request_id: &str) -> String {
    if request_id.is_empty() {
        path.to_string()
    } else {
        let id: String = url::form_urlencoded::byte_serialize(request_id.as_bytes()).collect();
        format!("{path}?request_id={id}")
    }
}

/// Back to the sign-in the person came from, or (none) a new one.
fn back(request_id: &str) -> String {
    if request_id.is_empty() {
        "/account".into()
    } else {
        within("/login", request_id)
    }
}

/// This page, for the same sign-in (the login page links to it).
pub fn forgot_url(request_id: &str) -> String {
    within("/login/forgot", request_id)
}

fn page(state: &AppState, headers: &HeaderMap, request_id: &str, sent: bool) -> Response {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = ForgotPasswordPage {
        csrf,
        request_id: request_id.to_string(),
        back: back(request_id),
        sent,
        minutes: Purpose::ResetPassword.ttl() / 60,
    };
    csrf::attach(render_page(StatusCode::OK, &page), cookie)
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<ForgotQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    if !state.mailer.enabled() {
        return Err(mail_off());
    }
    Ok(page(&state, &headers, &query.request_id, false))
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Result<Response> {
    async {
        if !state.mailer.enabled() {
            return Err(mail_off());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let identifier = form.identifier.trim();
        if identifier.is_empty() || identifier.chars().count() > 320 {
            return Ok(page(&state, &headers, &form.request_id, false));
        }
        if let Some(wait) = email::request_reset(&state, identifier, &ip).await? {
            return Ok(locked_page(wait, &forgot_url(&form.request_id)));
        }
        Ok(page(&state, &headers, &form.request_id, true))
    }
    .await
    .map_err(Error::on_page)
}
