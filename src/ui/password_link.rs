//! The page a mailed password link opens, a reset (/login/reset) or an
//! invitation (/login/invite): the password, twice. Showing it leaves the link
//! unused; setting the password uses it up.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::domain::email::{self, Purpose};
use crate::domain::Refusal;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::users::User;
use crate::ui::forgot_password::mail_off;
use crate::ui::pages::{render_page, PasswordLinkPage};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
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

fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Invalid { message, .. } => dead_link(message),
        other => Error::from(other),
    }
}

/// What the page shows.
struct View<'a> {
    token: &'a str,
    user: &'a User,
    error: Option<String>,
    done: bool,
}

fn page(state: &AppState, purpose: Purpose, headers: &HeaderMap, view: View) -> Response {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PasswordLinkPage {
        action: purpose.path(),
        invitation: purpose == Purpose::Invitation,
        csrf,
        token: if view.done {
            String::new()
        } else {
            view.token.to_string()
        },
        username: view.user.username.clone(),
        error: view.error,
        done: view.done,
    };
    csrf::attach(render_page(status, &page), cookie)
}

pub async fn show_reset(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    show(state, Purpose::ResetPassword, query, headers).await
}

pub async fn show_invitation(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    show(state, Purpose::Invitation, query, headers).await
}

pub async fn submit_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    submit(state, Purpose::ResetPassword, ip, headers, form).await
}

pub async fn submit_invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    submit(state, Purpose::Invitation, ip, headers, form).await
}

async fn show(
    state: AppState,
    purpose: Purpose,
    query: TokenQuery,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        // A reset needs mail; an invitation link may have been printed by the CLI.
        if purpose == Purpose::ResetPassword && !state.mailer.enabled() {
            return Err(mail_off());
        }
        let user = email::password_link_user(&state, purpose, &query.token)
            .await
            .map_err(refused)?;
        let view = View {
            token: &query.token,
            user: &user,
            error: None,
            done: false,
        };
        Ok(page(&state, purpose, &headers, view))
    }
    .await
    .map_err(Error::on_page)
}

async fn submit(
    state: AppState,
    purpose: Purpose,
    ip: String,
    headers: HeaderMap,
    form: PasswordForm,
) -> Result<Response> {
    async {
        if purpose == Purpose::ResetPassword && !state.mailer.enabled() {
            return Err(mail_off());
        }
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf::failed());
        }
        let user = email::password_link_user(&state, purpose, &form.token)
            .await
            .map_err(refused)?;
        let again = |error: String| View {
            token: &form.token,
            user: &user,
            error: Some(error),
            done: false,
        };
        if form.new_password != form.confirm_password {
            let view = again("The two passwords are not the same.".into());
            return Ok(page(&state, purpose, &headers, view));
        }
        let set =
            email::set_password_by_link(&state, purpose, &form.token, &form.new_password, &ip)
                .await;
        match set {
            Ok(user) => {
                let view = View {
                    token: "",
                    user: &user,
                    error: None,
                    done: true,
                };
                Ok(page(&state, purpose, &headers, view))
            }
            Err(Refusal::Invalid {
                field: "password",
                message,
            }) => Ok(page(&state, purpose, &headers, again(message))),
            Err(other) => Err(refused(other)),
        }
    }
    .await
    .map_err(Error::on_page)
}
