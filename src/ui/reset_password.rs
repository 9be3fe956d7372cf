//! The page a password-reset link opens: the new password, twice. Showing it
//! leaves the link unused; setting the password uses it up.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::domain::{email, Refusal};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::users::User;
use crate::ui::forgot_password::mail_off;
use crate::ui::pages::{render_page, ResetPasswordPage};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// A link that does not work: the same page whatever the reason.
pub fn dead_link(message: String) -> Error {
    Error::page(StatusCode::BAD_REQUEST, "Link not valid", message)
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    user: &User,
    error: Option<String>,
    done: bool,
) -> Response {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ResetPasswordPage {
        csrf,
        token: if done {
            String::new()
        } else {
            token.to_string()
        },
        username: user.username.clone(),
        error,
        done,
    };
    csrf::attach(render_page(status, &page), cookie)
}

fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Invalid { message, .. } => dead_link(message),
        other => Error::from(other),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        if !state.mailer.enabled() {
            return Err(mail_off());
        }
        let user = email::reset_link(&state, &query.token)
            .await
            .map_err(refused)?;
        Ok(page(&state, &headers, &query.token, &user, None, false))
    }
    .await
    .map_err(Error::on_page)
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Result<Response> {
    async {
        if !state.mailer.enabled() {
            return Err(mail_off());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let user = email::reset_link(&state, &form.token)
            .await
            .map_err(refused)?;
        if form.new_password != form.confirm_password {
            let error = Some("The two passwords are not the same.".to_string());
            return Ok(page(&state, &headers, &form.token, &user, error, false));
        }
        match email::reset_password(&state, &form.token, &form.new_password, &ip).await {
            Ok(user) => Ok(page(&state, &headers, "", &user, None, true)),
            Err(Refusal::Invalid {
                field: "password",
                message,
            }) => Ok(page(
                &state,
                &headers,
                &form.token,
                &user,
                Some(message),
                false,
            )),
            Err(other) => Err(refused(other)),
        }
    }
    .await
    .map_err(Error::on_page)
}
