//! The account page: sessions, password, two-step verification, recovery codes.
//! Every form carries the CSRF token; every action needs the session.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{password, recovery, session, throttle};
use crate::error::{Error, Result};
use crate::store::audit::{self, Event};
use crate::store::authorization_requests::{self, NewRequest};
use crate::store::recovery_codes;
use crate::store::sessions::{self, Session};
use crate::store::users::{self, User};
use crate::ui::csrf;
use crate::ui::login::{csrf_failed, locked_page};
use crate::ui::mfa_step::{confirm_enrollment, enroll_page};
use crate::ui::pages::{render_page, AccountPage, RecoveryCodesPage, SessionLine};
use crate::web::client_ip::ClientIp;
use sea_orm::TransactionTrait;

/// The signed-in user, or the sign-in that leads back here.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::result::Result<(Session, User), Response>> {
    if let Some(session) = session::current(state, headers).await? {
        if let Some(user) = users::find(&state.db, &session.user_id)
            .await?
            .filter(|u| !u.disabled)
        {
            return Ok(Ok((session, user)));
        }
    }
    // An authorization request without a client: the sign-in ends at /account.
    let pending = authorization_requests::create(
        &state.db,
        NewRequest {
            client_id: None,
            redirect_uri: "/account".into(),
            scope: String::new(),
            state: None,
            nonce: None,
            code_challenge: String::new(),
            prompt: None,
            max_age: None,
            login_hint: None,
            acr_values: None,
            response_mode: None,
            claims: None,
        },
        state.now(),
        state.config.authorization_request_ttl as i64,
    )
    .await?;
    let location = format!(
        "/login?request_id={}",
        url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
    );
    Ok(Err(Redirect::to(&location).into_response()))
}

fn timestamp(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    current: &Session,
    user: &User,
    notice: Option<String>,
    password_error: Option<String>,
) -> Result<Response> {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let sessions = sessions::list_active(&state.db, &user.id, state.now())
        .await?
        .into_iter()
        .map(|s| SessionLine {
            current: s.id == current.id,
            signed_in: timestamp(s.auth_time),
            id: s.id,
        })
        .collect();
    let page = AccountPage {
        username: user.username.clone(),
        csrf,
        sessions,
        totp_enabled: user.totp_secret.is_some(),
        recovery_remaining: recovery_codes::remaining(&state.db, &user.id).await?,
        notice,
        password_error: password_error.clone(),
    };
    let status = if password_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(csrf::attach(render_page(status, &page), cookie))
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    async {
        match signed_in(&state, &headers).await? {
            Ok((session, user)) => page(&state, &headers, &session, &user, None, None).await,
            Err(redirect) => Ok(redirect),
        }
    }
    .await
    .map_err(Error::on_page)
}

/// Runs a form action for the signed-in user after the CSRF check.
async fn guarded(
    state: &AppState,
    headers: &HeaderMap,
    csrf_token: &str,
) -> Result<std::result::Result<(Session, User), Response>> {
    if !csrf::verify(headers, csrf_token, state.config.secure_cookies()) {
        return Err(csrf_failed());
    }
    signed_in(state, headers).await
}

#[derive(Deserialize)]
pub struct EndSessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session_id: String,
}

pub async fn end_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EndSessionForm>,
) -> Result<Response> {
    async {
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        crate::oidc::logout::end_session(&state, &user.id, &form.session_id).await?;
        if form.session_id == current.id {
            let mut response = Redirect::to("/account").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session::clear_cookie(&state));
            return Ok(response);
        }
        Ok(Redirect::to("/account").into_response())
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    async {
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        let now = state.now();
        // The current password is a password attempt like any other: throttled.
        let keys = [throttle::account_key(&user.username), throttle::ip_key(&ip)];
        if let Some(wait) = throttle::retry_after(&state.db, &keys, now).await? {
            return Ok(locked_page(wait));
        }
        let ok = state
            .passwords
            .verify(&form.current_password, user.password_hash.as_deref())
            .await?;
        if !ok {
            throttle::record_failure(&state.db, &keys, now).await?;
            let error = Some("The current password is not correct.".to_string());
            return page(&state, &headers, &current, &user, None, error).await;
        }
        if let Err(message) = password::check_policy(&form.new_password) {
            return page(&state, &headers, &current, &user, None, Some(message)).await;
        }
        let hash = state.passwords.hash(&form.new_password).await?;
        users::set_password_hash(&state.db, &user.id, &hash, now).await?;
        audit::record(&state.db, event("password_changed", &user, &ip), now).await?;
        let notice = Some("Your password was changed.".to_string());
        page(&state, &headers, &current, &user, notice, None).await
    }
    .await
    .map_err(Error::on_page)
}

fn event<'a>(kind: &'a str, user: &'a User, ip: &'a str) -> Event<'a> {
    Event {
        kind,
        user_id: Some(&user.id),
        client_id: None,
        ip: Some(ip),
        detail: None,
    }
}

pub async fn totp_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    async {
        let (_, user) = match signed_in(&state, &headers).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if user.totp_secret.is_some() {
            return Ok(Redirect::to("/account").into_response());
        }
        enroll_page(&state, &headers, "/account/totp", "", &user, None, None)
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct EnrollForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sealed_secret: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_enroll(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<EnrollForm>,
) -> Result<Response> {
    async {
        let (_, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if user.totp_secret.is_some() {
            return Ok(Redirect::to("/account").into_response());
        }
        let Some(codes) =
            confirm_enrollment(&state, &user, &form.sealed_secret, &form.code).await?
        else {
            let error = "That code is not valid. Check the time on your device and try again.";
            return enroll_page(
                &state,
                &headers,
                "/account/totp",
                "",
                &user,
                Some(&form.sealed_secret),
                Some(error.into()),
            );
        };
        audit::record(&state.db, event("mfa_enrolled", &user, &ip), state.now()).await?;
        Ok(codes_page(codes))
    }
    .await
    .map_err(Error::on_page)
}

fn codes_page(codes: Vec<String>) -> Response {
    render_page(
        StatusCode::OK,
        &RecoveryCodesPage {
            codes,
            continue_to: "/account".into(),
        },
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn totp_remove(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    async {
        let (_, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        let now = state.now();
        let txn = state.db.begin().await?;
        users::clear_totp(&txn, &user.id, now).await?;
        recovery_codes::remove_all(&txn, &user.id).await?;
        txn.commit().await?;
        audit::record(&state.db, event("mfa_removed", &user, &ip), now).await?;
        Ok(Redirect::to("/account").into_response())
    }
    .await
    .map_err(Error::on_page)
}

pub async fn regenerate_codes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    async {
        let (_, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if user.totp_secret.is_none() {
            return Ok(Redirect::to("/account").into_response());
        }
        let now = state.now();
        let codes = recovery::generate();
        let txn = state.db.begin().await?;
        recovery_codes::replace(&txn, &user.id, &codes, now).await?;
        txn.commit().await?;
        audit::record(
            &state.db,
            event("recovery_codes_regenerated", &user, &ip),
            now,
        )
        .await?;
        Ok(codes_page(codes))
    }
    .await
    .map_err(Error::on_page)
}
