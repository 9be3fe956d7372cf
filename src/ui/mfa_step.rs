//! The second step of a sign-in: a passkey, a TOTP or a recovery code; or, when a
//! second factor is required and none is set up yet, setting one up (a passkey or
//! an authenticator app) before any code is issued.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine;
use sea_orm::TransactionTrait;
use serde::Deserialize;

use crate::auth::mfa::Proof;
use crate::auth::{mfa, recovery, session, totp};
use crate::domain::attempts::{self, Attempt, Kind, Outcome};
use crate::domain::passkeys::{self, Answer, Binding, Purpose};
use crate::error::{Error, Result};
use crate::signin::interaction::RequestIdQuery;
use crate::signin::interaction::{self, continue_url, expired, with_cookies, Interaction};
use crate::signin::next::{Next, SecondFactor};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::authorization_requests;
use crate::store::recovery_codes;
use crate::store::users::{self, User};
use crate::ui::login::{audience_name, locked_page, start_session};
use crate::ui::pages::{render_page, EnrollPage, MfaPage, PasskeyForm, RecoveryCodesPage};
use crate::ui::passkeys as ui_passkeys;
use crate::web::client_ip::ClientIp;
use crate::web::csrf;
use crate::web::csrf::failed as csrf_failed;

/// The sign-in waiting for a second factor, and whose; or the answer to give
/// when the sign-in is at another step.
async fn load(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<std::result::Result<(Interaction, SecondFactor, User), Response>> {
    let signin = interaction::load(state, headers, request_id).await?;
    match signin.decide(state, None).await? {
        Next::SecondFactor(step) => {
            let user = signin.user().cloned().ok_or_else(expired)?;
            Ok(Ok((signin, step, user)))
        }
        other => Ok(Err(signin.respond(state, other).await?)),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<RequestIdQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let (signin, step, user) = match load(&state, &headers, &query.request_id).await? {
            Ok(found) => found,
            Err(elsewhere) => return Ok(elsewhere),
        };
        match step {
            SecondFactor::Verify => {
                code_page(&state, &headers, &signin, &user, None, StatusCode::OK).await
            }
            // Required but not set up: enrol now, before any code is issued.
            SecondFactor::Enroll => {
                signin_enroll_page(&state, &headers, &signin, &user, None, None).await
            }
        }
    }
    .await
    .map_err(Error::on_page)
}

/// A passkey ceremony of this sign-in is bound to its browser and its request.
fn binding(signin: &Interaction) -> Binding<'_> {
    Binding {
        browser_hash: signin.pending.browser_hash.as_deref().unwrap_or_default(),
        request_id: Some(&signin.pending.id),
    }
}

async fn code_page(
    state: &AppState,
    headers: &HeaderMap,
    signin: &Interaction,
    user: &User,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let passkey = passkeys::begin_check(state, user, Purpose::SecondFactor, binding(signin))
        .await?
        .map(|started| {
            let action = "/login/mfa/passkey";
            ui_passkeys::form(started, action, "get", &signin.pending.id, "Use a passkey")
        });
    let page = MfaPage {
        client_name: audience_name(signin),
        request_id: signin.pending.id.clone(),
        csrf,
        error,
        passkey,
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
/// Where an enrollment form posts: the sign-in's step (with its request) or the
/// account page.
pub struct EnrollAt<'a> {
    pub action: &'a str,
    pub request_id: &'a str,
}

pub fn enroll_page(
    state: &AppState,
    headers: &HeaderMap,
    at: EnrollAt<'_>,
    user: &User,
    sealed: Option<&str>,
    error: Option<String>,
    passkey: Option<PasskeyForm>,
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
        action: at.action.to_string(),
        request_id: at.request_id.to_string(),
        csrf,
        qr_svg_base64: base64::engine::general_purpose::STANDARD.encode(svg),
        secret_text: totp::secret_text(&secret),
        sealed_secret: master.seal(&enroll_context(user), &secret),
        error: error.clone(),
        passkey,
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    Ok(csrf::attach(render_page(status, &page), cookie))
}

/// The enrollment page of a sign-in in progress: a passkey or an authenticator app.
async fn signin_enroll_page(
    state: &AppState,
    headers: &HeaderMap,
    signin: &Interaction,
    user: &User,
    sealed: Option<&str>,
    error: Option<String>,
) -> Result<Response> {
    let started = passkeys::begin_registration(state, user, binding(signin)).await?;
    let passkey = ui_passkeys::form(
        started,
        "/login/mfa/passkey",
        "create",
        &signin.pending.id,
        "Create a passkey",
    );
    let at = EnrollAt {
        action: "/login/mfa/enroll",
        request_id: &signin.pending.id,
    };
    enroll_page(state, headers, at, user, sealed, error, Some(passkey))
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
    recovery_codes::replace(&txn, state.keys.recovery_codes(), &user.id, &codes, now).await?;
    txn.commit().await?;
    Ok(Some(codes))
}

/// Checks a TOTP code (once per time step) or a recovery code (once ever).
/// Returns what was used.
pub async fn verify_second_factor(
    state: &AppState,
    user: &User,
    code: &str,
) -> Result<Option<Proof>> {
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
        return Ok(accepted.then_some(Proof::Totp));
    }
    let key = state.keys.recovery_codes();
    let used = recovery_codes::consume(&state.db, key, &user.id, code, now).await?;
    Ok(used.then_some(Proof::RecoveryCode))
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
        let (signin, step, user) = match load(&state, &headers, &form.request_id).await? {
            Ok(found) => found,
            Err(elsewhere) => return Ok(elsewhere),
        };
        if step == SecondFactor::Enroll {
            return signin_enroll_page(&state, &headers, &signin, &user, None, None).await;
        }
        let attempt = second_factor_attempt(&signin, &user, &ip);
        let checked = attempts::guard(
            &state,
            &attempt,
            verify_second_factor(&state, &user, &form.code),
        )
        .await?;
        let wrong = "That code is not valid. Try the current code from your app.";
        answered(&state, &headers, &ip, &signin, &user, checked, wrong).await
    }
    .await
    .map_err(Error::on_page)
}

fn second_factor_attempt<'a>(signin: &'a Interaction, user: &'a User, ip: &'a str) -> Attempt<'a> {
    Attempt {
        kind: Kind::SecondFactor,
        username: &user.username,
        user_id: Some(&user.id),
        client_id: signin.pending.client_id.as_deref(),
        ip,
        device: None,
    }
}

/// The answer to the second step: locked, wrong (the page again, saying `wrong`),
/// or passed.
async fn answered(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    signin: &Interaction,
    user: &User,
    checked: Outcome<Proof>,
    wrong: &str,
) -> Result<Response> {
    match checked {
        Outcome::Passed(proof) => second_step_passed(state, headers, ip, signin, user, proof).await,
        Outcome::Locked { retry_after } => {
            let back = interaction::step_url("/login/mfa", &signin.pending);
            Ok(locked_page(retry_after, &back))
        }
        Outcome::Failed => {
            let status = StatusCode::UNAUTHORIZED;
            code_page(state, headers, signin, user, Some(wrong.into()), status).await
        }
    }
}

/// The second step checked out: audit it, then a new session (the password was
/// given for this request) or the browser's session stepped up.
async fn second_step_passed(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    signin: &Interaction,
    user: &User,
    proof: Proof,
) -> Result<Response> {
    let client_id = signin.pending.client_id.as_deref();
    let now = state.now();
    let event = |kind, detail| Event {
        actor: None,
        kind,
        user_id: Some(&user.id),
        client_id,
        ip: Some(ip),
        detail,
    };
    audit::record(&state.db, event("mfa_ok", Some(proof.as_str())), now).await?;
    if proof == Proof::RecoveryCode {
        audit::record(&state.db, event("recovery_code_used", None), now).await?;
    }
    let mut amr = vec![mfa::AMR_PASSWORD];
    amr.extend_from_slice(proof.amr());
    let detail = amr.join(" ");
    audit::record(&state.db, event("login_ok", Some(&detail)), now).await?;
    crate::observability::metrics::login(true);
    match (&signin.password_user, &signin.session) {
        // The password was given for this request: a new session.
        (Some(_), _) => {
            crate::ui::login::finish(state, headers, ip, &signin.pending, &user.id, &amr).await
        }
        // Step-up of the browser's session: it now has the second factor.
        (None, Some((session, _))) => {
            if !authorization_requests::mark_authenticated(&state.db, &signin.pending).await? {
                return Err(expired());
            }
            let amr: Vec<String> = amr.iter().map(|m| m.to_string()).collect();
            let cookie = session::reauthenticated(state, &session.id, &amr)
                .await?
                .ok_or_else(expired)?;
            let mut response = Redirect::to(&continue_url(&signin.pending)).into_response();
            response.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(response)
        }
        (None, None) => Err(expired()),
    }
}

#[derive(Deserialize)]
pub struct PasskeyStepForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

/// The second step with a passkey: one of the user's passkeys, or (enrollment
/// under a required policy) a new one.
pub async fn passkey(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasskeyStepForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let (signin, step, user) = match load(&state, &headers, &form.request_id).await? {
            Ok(found) => found,
            Err(elsewhere) => return Ok(elsewhere),
        };
        let answer = Answer {
            ceremony: &form.ceremony,
            credential: &form.credential,
        };
        if step == SecondFactor::Enroll {
            return enroll_passkey(&state, &headers, &ip, &signin, &user, answer).await;
        }
        let attempt = second_factor_attempt(&signin, &user, &ip);
        let client_id = signin.pending.client_id.as_deref();
        let check = passkeys::check(
            &state,
            &user,
            Purpose::SecondFactor,
            binding(&signin),
            answer,
            &ip,
            client_id,
        );
        let checked = attempts::guard(&state, &attempt, check).await?;
        let wrong = "That passkey could not be verified. Try again, or enter a code.";
        answered(&state, &headers, &ip, &signin, &user, checked, wrong).await
    }
    .await
    .map_err(Error::on_page)
}

/// A passkey set up as the required second factor during sign-in.
async fn enroll_passkey(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    signin: &Interaction,
    user: &User,
    answer: Answer<'_>,
) -> Result<Response> {
    let pending = &signin.pending;
    let registered =
        passkeys::finish_registration(state, user, binding(signin), answer, "", ip).await?;
    let registered = match registered {
        Ok(registered) => registered,
        Err(failure) => {
            let error = Some(failure.message().to_string());
            return signin_enroll_page(state, headers, signin, user, None, error).await;
        }
    };
    audit::record(
        &state.db,
        Event {
            actor: None,
            kind: "mfa_enrolled",
            user_id: Some(&user.id),
            client_id: pending.client_id.as_deref(),
            ip: Some(ip),
            detail: Some("passkey"),
        },
        state.now(),
    )
    .await?;
    let proof = Proof::Passkey {
        user_verified: registered.user_verified,
    };
    let mut amr = vec![mfa::AMR_PASSWORD];
    amr.extend_from_slice(proof.amr());
    let cookies = start_session(state, headers, ip, pending, &user.id, &amr).await?;
    let response = match registered.recovery_codes {
        Some(codes) => render_page(
            StatusCode::OK,
            &RecoveryCodesPage {
                codes,
                continue_to: continue_url(pending),
            },
        ),
        None => Redirect::to(&continue_url(pending)).into_response(),
    };
    Ok(with_cookies(response, cookies))
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
        let (signin, step, user) = match load(&state, &headers, &form.request_id).await? {
            Ok(found) => found,
            Err(elsewhere) => return Ok(elsewhere),
        };
        if step == SecondFactor::Verify {
            return code_page(&state, &headers, &signin, &user, None, StatusCode::OK).await;
        }
        let pending = &signin.pending;
        let Some(codes) =
            confirm_enrollment(&state, &user, &form.sealed_secret, &form.code).await?
        else {
            let error = "That code is not valid. Check the time on your device and try again.";
            let sealed = Some(form.sealed_secret.as_str());
            return signin_enroll_page(
                &state,
                &headers,
                &signin,
                &user,
                sealed,
                Some(error.into()),
            )
            .await;
        };
        let now = state.now();
        audit::record(
            &state.db,
            Event {
                actor: None,
                kind: "mfa_enrolled",
                user_id: Some(&user.id),
                client_id: pending.client_id.as_deref(),
                ip: Some(&ip),
                detail: Some("totp"),
            },
            now,
        )
        .await?;
        crate::domain::email::notify_security_change(
            &state,
            &user,
            crate::domain::email::SecurityChange::AuthenticatorAdded,
        );
        let amr = [mfa::AMR_PASSWORD, mfa::AMR_OTP];
        let cookies = start_session(&state, &headers, &ip, pending, &user.id, &amr).await?;
        let page = RecoveryCodesPage {
            codes,
            continue_to: continue_url(pending),
        };
        Ok(with_cookies(render_page(StatusCode::OK, &page), cookies))
    }
    .await
    .map_err(Error::on_page)
}
