//! The second step of a sign-in: a TOTP or recovery code, or, when a second factor
//! is required and none is set up yet, enrolling one before any code is issued.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use sea_orm::TransactionTrait;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{mfa, recovery, throttle, totp};
use crate::error::{Error, Result};
use crate::oidc::authorize::complete;
use crate::secrets::{constant_time_eq, hash_token, random_token};
use crate::store::audit::{self, Event};
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::recovery_codes;
use crate::store::users::{self, User};
use crate::ui::csrf;
use crate::ui::login::{continue_url, csrf_failed, locked_page, start_session};
use crate::ui::pages::{render_page, EnrollPage, MfaPage, RecoveryCodesPage};
use crate::web::client_ip::ClientIp;
use crate::web::cookies;

fn binding_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_mfa"
    } else {
        "gatehouse_mfa"
    }
}

/// After the password: remember the user on the request, bound to this browser by a
/// cookie, and go to the second step.
pub async fn begin(state: &AppState, pending: &PendingRequest, user: &User) -> Result<Response> {
    let secret = random_token();
    if !authorization_requests::await_second_factor(
        &state.db,
        &pending.id,
        &user.id,
        &hash_token(&secret),
    )
    .await?
    {
        return Err(complete::expired());
    }
    let secure = state.config.secure_cookies();
    let cookie = cookies::build(binding_cookie(secure), &secret, "Lax", secure, None);
    let location = format!(
        "/login/mfa?request_id={}",
        url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
    );
    let mut response = Redirect::to(&location).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The request and the user whose password this browser just gave, or an error page.
async fn load(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<(PendingRequest, User)> {
    let pending = complete::pending(state, request_id).await?;
    let secure = state.config.secure_cookies();
    let bound = match (
        cookies::get(headers, binding_cookie(secure)),
        &pending.mfa_binding_hash,
    ) {
        (Some(secret), Some(hash)) => constant_time_eq(&hash_token(secret), hash),
        _ => false,
    };
    let user = match (&pending.mfa_user_id, bound) {
        (Some(user_id), true) => users::find(&state.db, user_id)
            .await?
            .filter(|u| !u.disabled),
        _ => None,
    };
    let user = user.ok_or_else(complete::expired)?;
    Ok((pending, user))
}

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
        let (pending, user) = load(&state, &headers, &query.request_id).await?;
        if mfa::is_enrolled(&user) {
            code_page(&state, &headers, &pending, None, StatusCode::OK).await
        } else {
            // Required but not set up: enrol now, before any code is issued.
            enroll_page(
                &state,
                &headers,
                "/login/mfa/enroll",
                &pending.id,
                &user,
                None,
                None,
            )
        }
    }
    .await
    .map_err(Error::on_page)
}

async fn code_page(
    state: &AppState,
    headers: &HeaderMap,
    pending: &PendingRequest,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let client = complete::client_of(state, pending).await?;
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = MfaPage {
        client_name: complete::audience_name(client.as_ref()),
        request_id: pending.id.clone(),
        csrf,
        error,
    };
    Ok(csrf::attach(render_page(status, &page), cookie))
}

fn enroll_context(user: &User) -> String {
    format!("totp-enroll:{}", user.id)
}

fn stored_context(user: &User) -> String {
    format!("totp:{}", user.id)
}

/// The enrollment page: a new secret as QR code and text. The secret travels sealed
/// with the master key in the form until a code proves the app has it.
pub fn enroll_page(
    state: &AppState,
    headers: &HeaderMap,
    action: &str,
    request_id: &str,
    user: &User,
    sealed: Option<&str>,
    error: Option<String>,
) -> Result<Response> {
    let master = state.keys.master();
    let secret = match sealed.and_then(|s| master.open(&enroll_context(user), s)) {
        Some(secret) => secret,
        None => totp::new_secret(),
    };
    let issuer = url::Url::parse(state.issuer())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "Gatehouse".into());
    let uri = totp::provisioning_uri(&secret, &user.username, &issuer)?;
    let svg = totp::qr_svg(&uri)?;
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = EnrollPage {
        action: action.to_string(),
        request_id: request_id.to_string(),
        csrf,
        qr_svg_base64: base64::engine::general_purpose::STANDARD.encode(svg),
        secret_text: totp::secret_text(&secret),
        sealed_secret: master.seal(&enroll_context(user), &secret),
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    Ok(csrf::attach(render_page(status, &page), cookie))
}

/// Confirms an enrollment: stores the secret (sealed) and fresh recovery codes,
/// together. None when the code does not match.
pub async fn confirm_enrollment(
    state: &AppState,
    user: &User,
    sealed: &str,
    code: &str,
) -> Result<Option<Vec<String>>> {
    let master = state.keys.master();
    let Some(secret) = master.open(&enroll_context(user), sealed) else {
        return Ok(None);
    };
    let now = state.now();
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Ok(None);
    };
    let codes = recovery::generate();
    let txn = state.db.begin().await?;
    users::set_totp(
        &txn,
        &user.id,
        &master.seal(&stored_context(user), &secret),
        step,
        now,
    )
    .await?;
    recovery_codes::replace(&txn, &user.id, &codes, now).await?;
    txn.commit().await?;
    Ok(Some(codes))
}

/// Checks a TOTP code (once per time step) or a recovery code (once ever).
/// Returns what was used.
pub async fn verify_second_factor(
    state: &AppState,
    user: &User,
    code: &str,
) -> Result<Option<&'static str>> {
    let code = code.trim();
    let now = state.now();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let secret = user
            .totp_secret
            .as_deref()
            .and_then(|sealed| state.keys.master().open(&stored_context(user), sealed));
        let Some(secret) = secret else {
            return Ok(None);
        };
        // RFC 6238 §5.2: a code already used in its time step is refused (replay).
        let accepted = match totp::matching_step(&secret, code, now) {
            Some(step) => users::accept_totp_step(&state.db, &user.id, step).await?,
            None => false,
        };
        return Ok(accepted.then_some("totp"));
    }
    let used = recovery_codes::consume(&state.db, &user.id, code, now).await?;
    Ok(used.then_some("recovery_code"))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    sealed_secret: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let (pending, user) = load(&state, &headers, &form.request_id).await?;
        let now = state.now();
        let account = throttle::account_key(&user.username);
        let keys = [account.clone(), throttle::ip_key(&ip)];
        if let Some(wait) = throttle::retry_after(&state.db, &keys, now).await? {
            return Ok(locked_page(wait));
        }
        let event = |kind, detail| Event {
            kind,
            user_id: Some(&user.id),
            client_id: pending.client_id.as_deref(),
            ip: Some(&ip),
            detail,
        };
        match verify_second_factor(&state, &user, &form.code).await? {
            Some(method) => {
                throttle::record_success(&state.db, &account).await?;
                audit::record(&state.db, event("mfa_ok", Some(method)), now).await?;
                if method == "recovery_code" {
                    audit::record(&state.db, event("recovery_code_used", None), now).await?;
                }
                audit::record(&state.db, event("login_ok", Some("pwd otp")), now).await?;
                crate::observability::metrics::login(true);
                crate::ui::login::finish(
                    &state,
                    &pending,
                    &user.id,
                    &[mfa::AMR_PASSWORD, mfa::AMR_OTP],
                )
                .await
            }
            None => {
                let locked = throttle::record_failure(&state.db, &keys, now).await?;
                audit::record(&state.db, event("mfa_failed", None), now).await?;
                crate::observability::metrics::login(false);
                if locked {
                    audit::record(&state.db, event("mfa_locked", None), now).await?;
                }
                code_page(
                    &state,
                    &headers,
                    &pending,
                    Some("That code is not valid. Try the current code from your app.".into()),
                    StatusCode::UNAUTHORIZED,
                )
                .await
            }
        }
    }
    .await
    .map_err(Error::on_page)
}

/// Enrollment forced by policy during sign-in.
pub async fn enroll(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let (pending, user) = load(&state, &headers, &form.request_id).await?;
        if mfa::is_enrolled(&user) {
            return code_page(&state, &headers, &pending, None, StatusCode::OK).await;
        }
        let Some(codes) =
            confirm_enrollment(&state, &user, &form.sealed_secret, &form.code).await?
        else {
            let error = "That code is not valid. Check the time on your device and try again.";
            return enroll_page(
                &state,
                &headers,
                "/login/mfa/enroll",
                &pending.id,
                &user,
                Some(&form.sealed_secret),
                Some(error.into()),
            );
        };
        let now = state.now();
        audit::record(
            &state.db,
            Event {
                kind: "mfa_enrolled",
                user_id: Some(&user.id),
                client_id: pending.client_id.as_deref(),
                ip: Some(&ip),
                detail: Some("totp"),
            },
            now,
        )
        .await?;
        let cookie = start_session(
            &state,
            &pending,
            &user.id,
            &[mfa::AMR_PASSWORD, mfa::AMR_OTP],
        )
        .await?;
        let page = RecoveryCodesPage {
            codes,
            continue_to: continue_url(&pending),
        };
        let mut response = render_page(StatusCode::OK, &page);
        response.headers_mut().append(header::SET_COOKIE, cookie);
        Ok(response)
    }
    .await
    .map_err(Error::on_page)
}
