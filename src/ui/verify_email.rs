//! The page an address-verification link opens: a button, then the result. The
//! link is used up by the button's POST, not by opening it (mail scanners fetch
//! links, and must not confirm anything).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::domain::{email, Refusal};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::ui::forgot_password::mail_off;
use crate::ui::pages::{render_page, VerifyEmailPage};
use crate::ui::password_link::dead_link;
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    if !state.mailer.enabled() {
        return Err(mail_off());
    }
    let (csrf, cookie) = csrf::ensure(&headers, state.config.secure_cookies());
    let page = VerifyEmailPage {
        csrf,
        token: query.token,
        verified: None,
    };
    Ok(csrf::attach(render_page(StatusCode::OK, &page), cookie))
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Result<Response> {
    async {
        if !state.mailer.enabled() {
            return Err(mail_off());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let user = match email::verify(&state, &form.token, &ip).await {
            Ok(user) => user,
            Err(Refusal::Invalid { message, .. }) => return Err(dead_link(message)),
            Err(other) => return Err(other.into()),
        };
        let page = VerifyEmailPage {
            csrf: String::new(),
            token: String::new(),
            verified: user.email,
        };
        Ok(render_page(StatusCode::OK, &page))
    }
    .await
    .map_err(Error::on_page)
}
