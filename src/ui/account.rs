//! The account page: sessions, password, two-step verification, recovery codes.
//! Every form carries the CSRF token; every action needs the session.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::mfa::{Factors, Proof};
use crate::auth::{mfa, password, recovery, session};
use crate::domain::attempts::{self, Attempt, Kind, Outcome};
use crate::domain::email::{self as domain_email, SecurityChange};
use crate::domain::passkeys::{self as domain_passkeys, Answer, Binding, Purpose};
use crate::domain::sessions as domain_sessions;
use crate::domain::users as domain_users;
use crate::domain::Refusal;
use crate::error::{Error, Result};
use crate::signin::fresh;
use crate::signin::interaction::{self, Local};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::from_json_list;
use crate::store::recovery_codes;
use crate::store::sessions::{self, Session};
use crate::store::users::{self, User};
use crate::ui::login::{known_device, locked_page};
use crate::ui::mfa_step::{confirm_enrollment, enroll_page, verify_second_factor, EnrollAt};
use crate::ui::pages::{
    render_page, AccountPage, ApplicationLine, ConfirmPage, PasskeyLine, RecoveryCodesPage,
    SessionLine,
};
use crate::ui::passkeys::{self as ui_passkeys, refused};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;
use crate::web::csrf::failed as csrf_failed;
use crate::web::page::display_time as timestamp;
use sea_orm::TransactionTrait;

/// The signed-in user, or the sign-in that leads back here.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::result::Result<(Session, User), Response>> {
    interaction::signed_in_for(state, headers, Local::Account).await
}

/// Whether the session has re-authenticated recently enough for a change to how
/// the account signs in.
pub async fn is_fresh(state: &AppState, current: &Session, user: &User) -> Result<bool> {
    let last = current.confirmed_at.unwrap_or(0).max(current.auth_time);
    let second_factor = mfa::has_second_factor(&from_json_list(&current.amr));
    let enrolled = mfa::is_enrolled(&state.db, user).await?;
    Ok(fresh::is_fresh(last, second_factor, enrolled, state.now()))
}

/// Sends a session that is not fresh to "confirm it's you".
pub fn confirm_first() -> Response {
    Redirect::to("/account/confirm").into_response()
}

fn policy_requires(state: &AppState, user: &User) -> bool {
    mfa::required_by_policy(user, state.config.mfa_policy)
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
            last_used: timestamp(s.last_seen_at),
            device: crate::web::user_agent::describe(s.user_agent.as_deref()),
            ip: s.ip.clone().unwrap_or_default(),
            id: s.id,
        })
        .collect();
    let factors = Factors::of(&state.db, user).await?;
    let required = policy_requires(state, user);
    let passkeys = domain_passkeys::list(state, user)
        .await?
        .into_iter()
        .map(|p| PasskeyLine {
            created: timestamp(p.created_at),
            last_used: p.last_used_at.map(timestamp).unwrap_or_default(),
            removable: factors.may_remove_one(required),
            id: p.id,
            name: p.name,
        })
        .collect();
    let page = AccountPage {
        username: user.username.clone(),
        csrf,
        sessions,
        totp_enabled: factors.totp,
        mfa_required: required,
        recovery_remaining: recovery_codes::remaining(&state.db, &user.id).await?,
        passkeys,
        enrolled: factors.any(),
        notice,
        password_error: password_error.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        applications: crate::domain::grants::applications(&state.db, &user.id, state.now())
            .await?
            .into_iter()
            .map(|a| ApplicationLine {
                access: a
                    .scope
                    .split_whitespace()
                    .map(crate::oidc::scopes::describe)
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .collect(),
                since: timestamp(a.since),
                client_id: a.client_id,
                name: a.name,
            })
            .collect(),
        can_verify: state.mailer.enabled() && user.email.is_some() && !user.email_verified,
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
pub async fn guarded(
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
        domain_sessions::end_session(&state, &user.id, &form.session_id).await?;
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
        // The current password is a password attempt like any other: throttled.
        let checked =
            current_password(&state, &headers, &user, &ip, &form.current_password).await?;
        match checked {
            Outcome::Passed(()) => {}
            Outcome::Locked { retry_after } => return Ok(locked_page(retry_after, "/account")),
            Outcome::Failed => {
                let error = Some("The current password is not correct.".to_string());
                return page(&state, &headers, &current, &user, None, error).await;
            }
        }
        if let Err(message) = password::check_policy(&form.new_password) {
            return page(&state, &headers, &current, &user, None, Some(message)).await;
        }
        let hash = state.passwords.hash(&form.new_password).await?;
        let now = state.now();
        users::set_password_hash(&state.db, &user.id, &hash, now).await?;
        // Whoever knew the old password is signed out everywhere else.
        let ended = domain_sessions::end_other_sessions(&state, &user.id, &current.id).await?;
        audit::record(&state.db, event("password_changed", &user, &ip), now).await?;
        domain_email::notify_password_changed(&state, &user, "on the account page");
        let notice = Some(if ended > 0 {
            format!(
                "Your password was changed. {ended} other session{} signed out.",
                if ended == 1 { " was" } else { "s were" }
            )
        } else {
            "Your password was changed. Any other sessions were signed out.".to_string()
        });
        page(&state, &headers, &current, &user, notice, None).await
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct ApplicationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    client_id: String,
}

/// Takes back an application's access (its tokens stop; it asks again next time).
pub async fn revoke_application(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ApplicationForm>,
) -> Result<Response> {
    async {
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        let now = state.now();
        let notice = match crate::domain::grants::revoke_application(
            &state.db,
            &user.id,
            &form.client_id,
            now,
        )
        .await
        {
            Ok(()) => {
                let event = Event {
                    client_id: Some(&form.client_id),
                    ..event("application_revoked", &user, &ip)
                };
                audit::record(&state.db, event, now).await?;
                "The application's access is revoked. It asks again next time.".to_string()
            }
            Err(Refusal::NotFound(_)) => "That application has no access.".to_string(),
            Err(other) => return Err(other.into()),
        };
        page(&state, &headers, &current, &user, Some(notice), None).await
    }
    .await
    .map_err(Error::on_page)
}

/// Mails a link that confirms the account's address.
pub async fn send_verification(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    async {
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        let notice = match domain_email::send_verification(&state, &user, &ip).await {
            Ok(()) => format!(
                "We sent a confirmation link to {}. It works for 24 hours.",
                user.email.as_deref().unwrap_or_default()
            ),
            Err(Refusal::Conflict(why)) => format!("No link was sent: {why}."),
            Err(other) => return Err(other.into()),
        };
        page(&state, &headers, &current, &user, Some(notice), None).await
    }
    .await
    .map_err(Error::on_page)
}

fn event<'a>(kind: &'a str, user: &'a User, ip: &'a str) -> Event<'a> {
    Event {
        actor: None,
        kind,
        user_id: Some(&user.id),
        client_id: None,
        ip: Some(ip),
        detail: None,
    }
}

const ACCOUNT_TOTP: EnrollAt<'static> = EnrollAt {
    action: "/account/totp",
    request_id: "",
};

pub async fn totp_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    async {
        let (current, user) = match signed_in(&state, &headers).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if user.totp_secret.is_some() {
            return Ok(Redirect::to("/account").into_response());
        }
        if !is_fresh(&state, &current, &user).await? {
            return Ok(confirm_first());
        }
        enroll_page(&state, &headers, ACCOUNT_TOTP, &user, None, None, None)
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
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if user.totp_secret.is_some() {
            return Ok(Redirect::to("/account").into_response());
        }
        if !is_fresh(&state, &current, &user).await? {
            return Ok(confirm_first());
        }
        let Some(codes) =
            confirm_enrollment(&state, &user, &form.sealed_secret, &form.code).await?
        else {
            let error = "That code is not valid. Check the time on your device and try again.";
            return enroll_page(
                &state,
                &headers,
                ACCOUNT_TOTP,
                &user,
                Some(&form.sealed_secret),
                Some(error.into()),
                None,
            );
        };
        audit::record(&state.db, event("mfa_enrolled", &user, &ip), state.now()).await?;
        domain_email::notify_security_change(&state, &user, SecurityChange::AuthenticatorAdded);
        // The code just given proves the new factor: this session now has it.
        let mut amr = from_json_list(&current.amr);
        if !mfa::has_second_factor(&amr) {
            amr.push(mfa::AMR_OTP.to_string());
        }
        let cookie = session::reauthenticated(&state, &current.id, &amr).await?;
        Ok(interaction::with_cookies(codes_page(codes), cookie))
    }
    .await
    .map_err(Error::on_page)
}

pub fn codes_page(codes: Vec<String>) -> Response {
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
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if !is_fresh(&state, &current, &user).await? {
            return Ok(confirm_first());
        }
        let now = state.now();
        let required = policy_requires(&state, &user);
        domain_users::remove_totp(&state.db, &user, required, now)
            .await
            .map_err(refused)?;
        audit::record(&state.db, event("mfa_removed", &user, &ip), now).await?;
        domain_email::notify_security_change(&state, &user, SecurityChange::AuthenticatorRemoved);
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
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if !mfa::is_enrolled(&state.db, &user).await? {
            return Ok(Redirect::to("/account").into_response());
        }
        if !is_fresh(&state, &current, &user).await? {
            return Ok(confirm_first());
        }
        let now = state.now();
        let codes = recovery::generate();
        let txn = state.db.begin().await?;
        let key = state.keys.recovery_codes();
        recovery_codes::replace(&txn, key, &user.id, &codes, now).await?;
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

/// Checks the user's own password, throttled as a re-authentication.
async fn current_password(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    ip: &str,
    password: &str,
) -> Result<Outcome<()>> {
    let device = known_device(state, headers, &user.id);
    let attempt = Attempt {
        kind: Kind::Reauthentication,
        username: &user.username,
        user_id: Some(&user.id),
        client_id: None,
        ip,
        device: device.as_deref(),
    };
    attempts::guard(state, &attempt, async {
        let ok = state
            .passwords
            .verify(password, user.password_hash.as_deref())
            .await?;
        Ok(ok.then_some(()))
    })
    .await
}

/// "Confirm it's you": the password, and the second factor when the user has one;
/// or a passkey that verifies the user (two factors in one).
pub async fn confirm_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    async {
        let (_, user) = match signed_in(&state, &headers).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        confirm_form(&state, &headers, &user, None).await
    }
    .await
    .map_err(Error::on_page)
}

async fn confirm_form(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    error: Option<String>,
) -> Result<Response> {
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let (browser_hash, binding_cookie) = ui_passkeys::browser(state, headers);
    let binding = Binding {
        browser_hash: &browser_hash,
        request_id: None,
    };
    let passkey = domain_passkeys::begin_check(state, user, Purpose::Confirm, binding)
        .await?
        .map(|started| {
            ui_passkeys::form(
                started,
                "/account/confirm",
                "get",
                "",
                "Confirm with a passkey",
            )
        });
    let page = ConfirmPage {
        username: user.username.clone(),
        csrf,
        needs_code: mfa::is_enrolled(&state.db, user).await?,
        minutes: fresh::WINDOW / 60,
        error,
        passkey,
    };
    let response = csrf::attach(render_page(status, &page), cookie);
    Ok(interaction::with_cookies(response, binding_cookie))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    async {
        let (current, user) = match guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        let enrolled = mfa::is_enrolled(&state.db, &user).await?;
        let second_factor = Attempt {
            kind: Kind::SecondFactor,
            username: &user.username,
            user_id: Some(&user.id),
            client_id: None,
            ip: &ip,
            device: None,
        };
        let amr: Vec<&str> = if !form.credential.is_empty() {
            let (browser_hash, _) = ui_passkeys::browser(&state, &headers);
            let binding = Binding {
                browser_hash: &browser_hash,
                request_id: None,
            };
            let answer = Answer {
                ceremony: &form.ceremony,
                credential: &form.credential,
            };
            let checked = attempts::guard(
                &state,
                &second_factor,
                domain_passkeys::check(&state, &user, Purpose::Confirm, binding, answer, &ip, None),
            )
            .await?;
            match checked {
                // A passkey alone confirms only when it verified the user.
                Outcome::Passed(
                    proof @ Proof::Passkey {
                        user_verified: true,
                    },
                ) => proof.amr().to_vec(),
                Outcome::Passed(_) => {
                    let message = "That passkey did not ask for your PIN, fingerprint or face. \
                                   Confirm with your password instead.";
                    return confirm_form(&state, &headers, &user, Some(message.into())).await;
                }
                Outcome::Locked { retry_after } => {
                    return Ok(locked_page(retry_after, "/account/confirm"))
                }
                Outcome::Failed => {
                    let message = "That passkey could not be verified. Try again.";
                    return confirm_form(&state, &headers, &user, Some(message.into())).await;
                }
            }
        } else {
            let wrong = if enrolled {
                "The password or the code is not correct."
            } else {
                "The password is not correct."
            };
            let password_ok =
                current_password(&state, &headers, &user, &ip, &form.password).await?;
            match password_ok {
                Outcome::Passed(()) => {}
                Outcome::Locked { retry_after } => {
                    return Ok(locked_page(retry_after, "/account/confirm"))
                }
                Outcome::Failed => {
                    return confirm_form(&state, &headers, &user, Some(wrong.into())).await
                }
            }
            let mut amr = vec![mfa::AMR_PASSWORD];
            if enrolled {
                let code_ok = attempts::guard(
                    &state,
                    &second_factor,
                    verify_second_factor(&state, &user, &form.code),
                )
                .await?;
                match code_ok {
                    Outcome::Passed(proof) => amr.extend_from_slice(proof.amr()),
                    Outcome::Locked { retry_after } => {
                        return Ok(locked_page(retry_after, "/account/confirm"))
                    }
                    Outcome::Failed => {
                        return confirm_form(&state, &headers, &user, Some(wrong.into())).await
                    }
                }
            }
            amr
        };
        let amr: Vec<String> = amr.into_iter().map(str::to_string).collect();
        let cookie = session::reauthenticated(&state, &current.id, &amr).await?;
        audit::record(&state.db, event("reauthenticated", &user, &ip), state.now()).await?;
        Ok(interaction::with_cookies(
            Redirect::to("/account").into_response(),
            cookie,
        ))
    }
    .await
    .map_err(Error::on_page)
}
