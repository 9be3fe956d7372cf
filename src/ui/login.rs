//! The password login page.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::session;
use crate::error::{Error, Result};
use crate::oidc::authorize::complete;
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::users;
use crate::ui::csrf;
use crate::ui::pages::{render_page, LoginPage};

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    request_id: String,
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<ShowQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let pending = complete::pending(&state, &query.request_id).await?;
        let username = pending.login_hint.clone().unwrap_or_default();
        render(&state, &headers, &pending, username, None, StatusCode::OK).await
    }
    .await
    .map_err(Error::on_page)
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    pending: &PendingRequest,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let client = complete::client_of(state, pending).await?;
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = LoginPage {
        client_name: client.name,
        request_id: pending.id.clone(),
        csrf,
        username,
        error,
    };
    Ok(csrf::attach(render_page(status, &page), cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let pending = complete::pending(&state, &form.request_id).await?;
        let user = users::find_by_username(&state.db, &form.username).await?;
        // An unknown user is checked against a dummy hash: same work, same answer.
        let password_ok = state
            .passwords
            .verify(
                &form.password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await?;
        let user = match user {
            Some(user) if password_ok && !user.disabled => user,
            _ => {
                crate::observability::metrics::login(false);
                let message = "Incorrect username or password.".to_string();
                return render(
                    &state,
                    &headers,
                    &pending,
                    form.username,
                    Some(message),
                    StatusCode::UNAUTHORIZED,
                )
                .await;
            }
        };
        if !authorization_requests::mark_authenticated(&state.db, &pending).await? {
            // Finished or purged while the password was checked.
            return Err(complete::expired());
        }
        let (_session, cookie) = session::start(&state, &user.id, &["pwd".to_string()]).await?;
        crate::observability::metrics::login(true);
        let location = format!(
            "/authorize/continue?request_id={}",
            url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
        );
        let mut response = Redirect::to(&location).into_response();
        response.headers_mut().append(header::SET_COOKIE, cookie);
        Ok(response)
    }
    .await
    .map_err(Error::on_page)
}

pub fn csrf_failed() -> Error {
    Error::page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form could not be verified. Go back, reload the page and try again.",
    )
}
