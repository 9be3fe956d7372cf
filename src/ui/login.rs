//! The password login page: throttled per account and per IP, and the first step of
//! a two-step sign-in when a second factor is due.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::{known_device, mfa, session};
use crate::domain::attempts::{self, Attempt, Kind, Outcome};
use crate::domain::passkeys;
use crate::error::{Error, Result};
use crate::signin::interaction::RequestIdQuery;
use crate::signin::interaction::{self, continue_url, expired, with_cookies, Interaction};
use crate::signin::next::{self, Next};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::users;
use crate::ui::pages::{render_page, LockedPage, LoginPage};
use crate::ui::passkeys as ui_passkeys;
use crate::web::client_ip::ClientIp;
use crate::web::csrf::{self, failed as csrf_failed};

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<RequestIdQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let signin = interaction::load(&state, &headers, &query.request_id).await?;
        let next = signin.decide(&state, None).await?;
        // The page stays open after a password was given: the person may go back
        // and sign in as someone else (a new password replaces the first).
        let shown = next == Next::Login || signin.password_user.is_some();
        if !shown {
            return signin.respond(&state, next).await;
        }
        let username = signin.pending.login_hint.clone().unwrap_or_default();
        render(&state, &headers, &signin, username, None, StatusCode::OK).await
    }
    .await
    .map_err(Error::on_page)
}

/// What the pages call the party the person signs in to.
pub fn audience_name(signin: &Interaction) -> String {
    signin
        .client
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "your Gatehouse account".into())
}

/// The login page: the password form, and a passkey sign-in (the button, and the
/// username field's autofill) for the same request.
pub async fn render(
    state: &AppState,
    headers: &HeaderMap,
    signin: &Interaction,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let binding = passkeys::Binding {
        browser_hash: signin.pending.browser_hash.as_deref().unwrap_or_default(),
        request_id: Some(&signin.pending.id),
    };
    let started = passkeys::begin_signin(state, binding).await?;
    let mut passkey = ui_passkeys::form(
        started,
        "/login/passkey",
        "get",
        &signin.pending.id,
        "Sign in with a passkey",
    );
    passkey.autofill = true;
    let page = LoginPage {
        client_name: audience_name(signin),
        request_id: signin.pending.id.clone(),
        csrf,
        username,
        error,
        passkey: Some(passkey),
        forgot: state
            .mailer
            .enabled()
            .then(|| crate::ui::forgot_password::forgot_url(&signin.pending.id)),
        signup: crate::domain::registration::is_open(state),
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

/// 429 with Retry-After (RFC 6585 §4): too many failures for this account, device
/// or address. The page says how long to wait and links back to `back`.
pub fn locked_page(retry_after: i64, back: &str) -> Response {
    let seconds = retry_after.max(1);
    let wait = match seconds {
        1 => "1 second".to_string(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", (s + 59) / 60),
    };
    let page = LockedPage {
        wait,
        back: back.to_string(),
    };
    let mut response = render_page(StatusCode::TOO_MANY_REQUESTS, &page);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The known-device id this browser holds for `user_id`, if any.
pub fn known_device(state: &AppState, headers: &HeaderMap, user_id: &str) -> Option<String> {
    known_device::recognise(
        state.keys.master(),
        headers,
        user_id,
        state.now(),
        state.config.secure_cookies(),
    )
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
        let signin = interaction::load(&state, &headers, &form.request_id).await?;
        let client_id = signin.pending.client_id.as_deref();
        let user = users::find_by_username(&state.db, &form.username).await?;
        let device = user
            .as_ref()
            .and_then(|u| known_device(&state, &headers, &u.id));
        let attempt = Attempt {
            kind: Kind::Password,
            username: &form.username,
            user_id: user.as_ref().map(|u| u.id.as_str()),
            client_id,
            ip: &ip,
            device: device.as_deref(),
        };
        let checked = attempts::guard(&state, &attempt, async {
            // An unknown user is checked against a dummy hash: same work, same answer.
            let password_ok = state
                .passwords
                .verify(
                    &form.password,
                    user.as_ref().and_then(|u| u.password_hash.as_deref()),
                )
                .await?;
            Ok(user.as_ref().filter(|u| password_ok && !u.disabled))
        })
        .await?;
        let user = match checked {
            Outcome::Passed(user) => user,
            Outcome::Locked { retry_after } => {
                let back = interaction::step_url("/login", &signin.pending);
                return Ok(locked_page(retry_after, &back));
            }
            Outcome::Failed => {
                let message = "Incorrect username or password.".to_string();
                let status = StatusCode::UNAUTHORIZED;
                return render(
                    &state,
                    &headers,
                    &signin,
                    form.username,
                    Some(message),
                    status,
                )
                .await;
            }
        };
        let facts = interaction::request_facts(&signin.pending);
        let user_facts = interaction::user_facts(&state, user).await?;
        if next::second_factor_due(&user_facts, state.config.mfa_policy, &facts, true) {
            // The second step follows, for this user, in this (bound) browser.
            if !authorization_requests::await_second_factor(&state.db, &signin.pending.id, &user.id)
                .await?
            {
                return Err(expired());
            }
            let location = interaction::step_url("/login/mfa", &signin.pending);
            return Ok(Redirect::to(&location).into_response());
        }
        crate::observability::metrics::login(true);
        audit::record(
            &state.db,
            Event {
                actor: None,
                kind: "login_ok",
                user_id: Some(&user.id),
                client_id,
                ip: Some(&ip),
                detail: Some("pwd"),
            },
            state.now(),
        )
        .await?;
        finish(
            &state,
            &headers,
            &ip,
            &signin.pending,
            &user.id,
            &[mfa::AMR_PASSWORD],
        )
        .await
    }
    .await
    .map_err(Error::on_page)
}

/// The person is authenticated: start the session and go back to the request.
pub async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    pending: &PendingRequest,
    user_id: &str,
    amr: &[&str],
) -> Result<Response> {
    let cookies = start_session(state, headers, ip, pending, user_id, amr).await?;
    let response = Redirect::to(&continue_url(pending)).into_response();
    Ok(with_cookies(response, cookies))
}

/// Starts the session for a completed sign-in; returns its cookie and the one that
/// makes this browser a known device of the account.
pub async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    pending: &PendingRequest,
    user_id: &str,
    amr: &[&str],
) -> Result<Vec<HeaderValue>> {
    if !authorization_requests::mark_authenticated(&state.db, pending).await? {
        // Finished or purged while the credentials were checked.
        return Err(expired());
    }
    let amr: Vec<String> = amr.iter().map(|m| m.to_string()).collect();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let (_session, cookie) = session::start(state, user_id, &amr, ip, user_agent).await?;
    let device = known_device::cookie(
        state.keys.master(),
        headers,
        user_id,
        state.now(),
        state.config.known_device_ttl as i64,
        state.config.secure_cookies(),
    );
    Ok(vec![cookie, device])
}
