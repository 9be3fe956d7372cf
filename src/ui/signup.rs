//! "Create an account" (GATEHOUSE_REGISTRATION=open): the form, and the page the
//! mailed link opens, whose button creates the account (opening the link alone
//! does not: mail scanners open links).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::domain::registration::{self, SignUp, TTL};
use crate::domain::Refusal;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::ui::login::locked_page;
use crate::ui::pages::{render_page, SignUpConfirmPage, SignUpPage};
use crate::ui::password_link::dead_link;
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

fn closed() -> Error {
    Error::page(
        StatusCode::NOT_FOUND,
        "Not available",
        "Accounts on this server are made by its administrators. Ask yours for one.",
    )
}

fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    form: &SignUpForm,
    error: Option<(&'static str, String)>,
    sent: bool,
) -> Response {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (field, error) = match error {
        Some((field, message)) => (field, Some(message)),
        None => ("", None),
    };
    let page = SignUpPage {
        csrf,
        username: form.username.clone(),
        email: form.email.clone(),
        error,
        field,
        sent,
        hours: TTL / 3600,
    };
    csrf::attach(render_page(status, &page), cookie)
}

/// "must be …" reads as a sentence on the page.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if !registration::is_open(&state) {
        return Err(closed());
    }
    let empty = SignUpForm {
        csrf: String::new(),
        username: String::new(),
        email: String::new(),
        password: String::new(),
    };
    Ok(form_page(&state, &headers, &empty, None, false))
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Result<Response> {
    async {
        if !registration::is_open(&state) {
            return Err(closed());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let signup = SignUp {
            username: &form.username,
            email: &form.email,
            password: &form.password,
        };
        match registration::start(&state, signup, &ip).await {
            Ok(None) => Ok(form_page(&state, &headers, &form, None, true)),
            Ok(Some(wait)) => Ok(locked_page(wait, "/signup")),
            Err(Refusal::Invalid { field, message }) => {
                let error = Some((field, sentence(&message)));
                Ok(form_page(&state, &headers, &form, error, false))
            }
            Err(other) => Err(other.into()),
        }
    }
    .await
    .map_err(Error::on_page)
}

pub async fn show_confirm(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        if !registration::is_open(&state) {
            return Err(closed());
        }
        let signup = match registration::pending(&state, &query.token).await {
            Ok(signup) => signup,
            Err(Refusal::Invalid { message, .. }) => return Err(dead_link(message)),
            Err(other) => return Err(other.into()),
        };
        let (csrf, cookie) = csrf::ensure(&headers, state.config.secure_cookies());
        let page = SignUpConfirmPage {
            csrf,
            token: query.token,
            username: signup.username,
            email: signup.email,
            created: false,
        };
        Ok(csrf::attach(render_page(StatusCode::OK, &page), cookie))
    }
    .await
    .map_err(Error::on_page)
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    async {
        if !registration::is_open(&state) {
            return Err(closed());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let user = match registration::confirm(&state, &form.token, &ip).await {
            Ok(user) => user,
            Err(Refusal::Invalid { message, .. }) => return Err(dead_link(sentence(&message))),
            Err(other) => return Err(other.into()),
        };
        let page = SignUpConfirmPage {
            csrf: String::new(),
            token: String::new(),
            username: user.username,
            email: user.email.unwrap_or_default(),
            created: true,
        };
        Ok(render_page(StatusCode::OK, &page))
    }
    .await
    .map_err(Error::on_page)
}
