//! The password login page: throttled per account and per IP, and the first step of
//! a two-step sign-in when a second factor is due.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{mfa, session, throttle};
use crate::error::{Error, Result};
use crate::oidc::authorize::complete;
use crate::store::audit::{self, Event};
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::users;
use crate::ui::pages::{render_page, LoginPage};
use crate::ui::{csrf, mfa_step};
use crate::web::client_ip::ClientIp;

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
        client_name: complete::audience_name(client.as_ref()),
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

/// 429 with Retry-After: too many failures for this account or address.
pub fn locked_page(retry_after: i64) -> Response {
    let mut response = Error::page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Too many failed attempts. Wait a little, then try again.",
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let pending = complete::pending(&state, &form.request_id).await?;
        let now = state.now();
        // Unknown usernames are throttled like known ones: the same answers for both.
        let account = throttle::account_key(&form.username);
        let keys = [account.clone(), throttle::ip_key(&ip)];
        if let Some(wait) = throttle::retry_after(&state.db, &keys, now).await? {
            return Ok(locked_page(wait));
        }
        let user = users::find_by_username(&state.db, &form.username).await?;
        // An unknown user is checked against a dummy hash: same work, same answer.
        let password_ok = state
            .passwords
            .verify(
                &form.password,
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
            )
            .await?;
        let client_id = pending.client_id.as_deref();
        let user = match user {
            Some(user) if password_ok && !user.disabled => user,
            other => {
                crate::observability::metrics::login(false);
                let locked = throttle::record_failure(&state.db, &keys, now).await?;
                let user_id = other.as_ref().map(|u| u.id.as_str());
                let event = |kind| Event {
                    kind,
                    user_id,
                    client_id,
                    ip: Some(&ip),
                    detail: None,
                };
                audit::record(&state.db, event("login_failed"), now).await?;
                if locked {
                    audit::record(&state.db, event("login_locked"), now).await?;
                }
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
        throttle::record_success(&state.db, &account).await?;
        if mfa::second_factor_due(
            &user,
            &state.config.mfa_policy,
            pending.acr_values.as_deref(),
        ) {
            return mfa_step::begin(&state, &pending, &user).await;
        }
        crate::observability::metrics::login(true);
        audit::record(
            &state.db,
            Event {
                kind: "login_ok",
                user_id: Some(&user.id),
                client_id,
                ip: Some(&ip),
                detail: Some("pwd"),
            },
            now,
        )
        .await?;
        finish(&state, &pending, &user.id, &[mfa::AMR_PASSWORD]).await
    }
    .await
    .map_err(Error::on_page)
}

/// The person is authenticated: start the session and go back to the request.
pub async fn finish(
    state: &AppState,
    pending: &PendingRequest,
    user_id: &str,
    amr: &[&str],
) -> Result<Response> {
    let cookie = start_session(state, pending, user_id, amr).await?;
    let mut response = Redirect::to(&continue_url(pending)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Starts the session for a completed sign-in; returns its cookie.
pub async fn start_session(
    state: &AppState,
    pending: &PendingRequest,
    user_id: &str,
    amr: &[&str],
) -> Result<HeaderValue> {
    if !authorization_requests::mark_authenticated(&state.db, pending).await? {
        // Finished or purged while the credentials were checked.
        return Err(complete::expired());
    }
    let amr: Vec<String> = amr.iter().map(|m| m.to_string()).collect();
    let (_session, cookie) = session::start(state, user_id, &amr).await?;
    Ok(cookie)
}

pub fn continue_url(pending: &PendingRequest) -> String {
    format!(
        "/authorize/continue?request_id={}",
        url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
    )
}

pub fn csrf_failed() -> Error {
    Error::page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form could not be verified. Go back, reload the page and try again.",
    )
}
