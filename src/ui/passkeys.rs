//! Passkeys on the account page: add one (after "confirm it's you"), rename,
//! remove. And the pieces every page with a passkey form shares.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::mfa;
use crate::auth::session;
use crate::domain::passkeys::{self, Answer, Binding, Started};
use crate::domain::Refusal;
use crate::error::{Error, Result};
use crate::signin::binding;
use crate::state::AppState;
use crate::store::{audit, from_json_list};
use crate::ui::account::{self, codes_page};
use crate::ui::pages::{render_page, PasskeyForm, PasskeyNewPage};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

/// A ceremony as a form on a page.
pub fn form(
    started: Started,
    action: &str,
    mode: &'static str,
    request_id: &str,
    button: &'static str,
) -> PasskeyForm {
    PasskeyForm {
        action: action.to_string(),
        mode,
        autofill: false,
        request_id: request_id.to_string(),
        ceremony: started.ceremony,
        options: started.options,
        button,
    }
}

/// The browser's binding hash for a ceremony outside a sign-in request, and the
/// cookie to set when the browser had none.
pub fn browser(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    binding::ensure(headers, state.config.secure_cookies())
}

/// The page's words for a refused change.
pub fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::Conflict(message) => Error::page(
            StatusCode::FORBIDDEN,
            "Two-step verification is required",
            format!("Your account must use two-step verification: {message}."),
        ),
        Refusal::NotFound(_) => Error::page(
            StatusCode::NOT_FOUND,
            "Passkey not found",
            "That passkey is not one of your account's.",
        ),
        Refusal::Invalid { message, .. } => Error::page(
            StatusCode::BAD_REQUEST,
            "Invalid name",
            capitalise(&message),
        ),
        other => Error::from(other),
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

async fn new_page(
    state: &AppState,
    headers: &HeaderMap,
    user: &crate::store::users::User,
    name: String,
    error: Option<&'static str>,
) -> Result<Response> {
    let (browser_hash, cookie) = browser(state, headers);
    let binding = Binding {
        browser_hash: &browser_hash,
        request_id: None,
    };
    let started = passkeys::begin_registration(state, user, binding).await?;
    let (csrf, csrf_cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = PasskeyNewPage {
        csrf,
        name,
        error: error.map(str::to_string),
        passkey: form(started, "/account/passkeys", "create", "", "Create passkey"),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let response = csrf::attach(render_page(status, &page), csrf_cookie);
    Ok(crate::signin::interaction::with_cookies(response, cookie))
}

pub async fn show_new(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    async {
        let (current, user) = match account::signed_in(&state, &headers).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if !account::is_fresh(&state, &current, &user).await? {
            return Ok(account::confirm_first());
        }
        new_page(&state, &headers, &user, String::new(), None).await
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<RegisterForm>,
) -> Result<Response> {
    async {
        let (current, user) = match account::guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if !account::is_fresh(&state, &current, &user).await? {
            return Ok(account::confirm_first());
        }
        if passkeys::check_name(&form.name).is_err() {
            let error = "A passkey name has at most 64 characters and no control characters.";
            return new_page(&state, &headers, &user, form.name, Some(error)).await;
        }
        let (browser_hash, _) = browser(&state, &headers);
        let binding = Binding {
            browser_hash: &browser_hash,
            request_id: None,
        };
        let answer = Answer {
            ceremony: &form.ceremony,
            credential: &form.credential,
        };
        let registered =
            passkeys::finish_registration(&state, &user, binding, answer, &form.name, &ip).await?;
        let registered = match registered {
            Ok(registered) => registered,
            Err(failure) => {
                return new_page(&state, &headers, &user, form.name, Some(failure.message())).await
            }
        };
        // The passkey just made is the user's: this session now has it as its
        // second factor (as a new authenticator app's code does).
        let mut amr = from_json_list(&current.amr);
        if !mfa::has_second_factor(&amr) {
            amr.push(crate::auth::passkey::AMR_HARDWARE_KEY.to_string());
        }
        let cookie = session::reauthenticated(&state, &current.id, &amr).await?;
        let response = match registered.recovery_codes {
            Some(codes) => codes_page(codes),
            None => Redirect::to("/account").into_response(),
        };
        Ok(crate::signin::interaction::with_cookies(response, cookie))
    }
    .await
    .map_err(Error::on_page)
}

#[derive(Deserialize)]
pub struct PasskeyActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    passkey_id: String,
    #[serde(default)]
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasskeyActionForm>,
) -> Result<Response> {
    async {
        let (_, user) = match account::guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        passkeys::rename(&state, &user, &form.passkey_id, &form.name, &ip)
            .await
            .map_err(refused)?;
        Ok(Redirect::to("/account").into_response())
    }
    .await
    .map_err(Error::on_page)
}

pub async fn remove(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasskeyActionForm>,
) -> Result<Response> {
    async {
        let (current, user) = match account::guarded(&state, &headers, &form.csrf).await? {
            Ok(found) => found,
            Err(redirect) => return Ok(redirect),
        };
        if !account::is_fresh(&state, &current, &user).await? {
            return Ok(account::confirm_first());
        }
        passkeys::remove(&state, &user, &form.passkey_id)
            .await
            .map_err(refused)?;
        let event = audit::Event {
            actor: None,
            kind: "passkey_removed",
            user_id: Some(&user.id),
            client_id: None,
            ip: Some(&ip),
            detail: Some(&form.passkey_id),
        };
        audit::record(&state.db, event, state.now()).await?;
        Ok(Redirect::to("/account").into_response())
    }
    .await
    .map_err(Error::on_page)
}
