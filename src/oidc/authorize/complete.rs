//! Finishing an authorization request: sign-in (with a second factor when due),
//! consent, then the code. A request without a client is a sign-in to the account
//! page and ends there instead.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use sea_orm::TransactionTrait;

use crate::app::AppState;
use crate::auth::mfa;
use crate::error::{Error, ErrorCode, ErrorRedirect, OAuthError, Result};
use crate::oidc::scopes;
use crate::store::authorization_codes::{self, NewCode};
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::clients::{self, Client};
use crate::store::grants::{self, NewGrant};
use crate::store::sessions::Session;
use crate::store::{consents, from_json_list, users};
use crate::ui::csrf;
use crate::ui::pages::{render_page, ConsentPage, ScopeLine};

/// The pending request named by `id`, or the page that says it has expired.
pub async fn pending(state: &AppState, id: &str) -> Result<PendingRequest> {
    // Ids are our own 43-character base64url tokens: anything else is not looked up.
    let well_formed = id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let found = if well_formed {
        authorization_requests::find_live(&state.db, id, state.now()).await?
    } else {
        None
    };
    found.ok_or_else(expired)
}

/// The page for a sign-in request that expired or was completed.
pub fn expired() -> Error {
    Error::page(
        StatusCode::BAD_REQUEST,
        "Sign-in expired",
        "This sign-in request has expired or was already completed. \
         Return to the application and start again.",
    )
}

/// The client a request is for; None for an account-page sign-in.
pub async fn client_of(state: &AppState, pending: &PendingRequest) -> Result<Option<Client>> {
    let Some(client_id) = &pending.client_id else {
        return Ok(None);
    };
    let client = clients::find(&state.db, client_id).await?.ok_or_else(|| {
        Error::page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "The application is no longer registered with Gatehouse.",
        )
    })?;
    Ok(Some(client))
}

/// What the pages call the party the person signs in to.
pub fn audience_name(client: Option<&Client>) -> String {
    client
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "your Gatehouse account".into())
}

fn has_prompt(pending: &PendingRequest, value: &str) -> bool {
    pending
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

/// OIDC Core §3.1.2.1: prompt=login wants a new authentication (the login page
/// clears it from the request once done); max_age bounds the authentication's age.
pub fn needs_login(pending: &PendingRequest, session: Option<&Session>, now: i64) -> bool {
    let Some(session) = session else {
        return true;
    };
    if has_prompt(pending, "login") {
        return true;
    }
    pending
        .max_age
        .is_some_and(|max_age| now - session.auth_time > max_age)
}

/// An error sent back to the client, ending the request.
async fn fail(state: &AppState, pending: &PendingRequest, error: OAuthError) -> Result<Response> {
    authorization_requests::complete(&state.db, &pending.id).await?;
    Err(redirect_error(state, pending, error))
}

pub fn redirect_error(state: &AppState, pending: &PendingRequest, error: OAuthError) -> Error {
    Error::Redirect(Box::new(ErrorRedirect {
        redirect_uri: pending.redirect_uri.clone(),
        state: pending.state.clone(),
        issuer: state.issuer().to_string(),
        error,
        form_post: is_form_post(pending),
    }))
}

fn is_form_post(pending: &PendingRequest) -> bool {
    pending.response_mode.as_deref() == Some("form_post")
}

/// Decides the next step: the login page, the consent page, or the code.
pub async fn proceed(
    state: &AppState,
    headers: &HeaderMap,
    client: Option<&Client>,
    pending: PendingRequest,
    session: Option<Session>,
) -> Result<Response> {
    let now = state.now();
    let user = match &session {
        Some(s) => users::find(&state.db, &s.user_id)
            .await?
            .filter(|u| !u.disabled),
        None => None,
    };
    let session = session.filter(|_| user.is_some());
    // A session without the second factor this sign-in needs is a new login.
    let factor_missing = match (&session, &user) {
        (Some(s), Some(u)) => {
            mfa::second_factor_due(u, &state.config.mfa_policy, pending.acr_values.as_deref())
                && !mfa::has_second_factor(&from_json_list(&s.amr))
        }
        _ => false,
    };
    if needs_login(&pending, session.as_ref(), now) || factor_missing {
        if has_prompt(&pending, "none") {
            let error = OAuthError::new(ErrorCode::LoginRequired, "the user must sign in");
            return fail(state, &pending, error).await;
        }
        let location = format!(
            "/login?request_id={}",
            url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
        );
        return Ok(Redirect::to(&location).into_response());
    }
    let (Some(session), Some(user)) = (session, user) else {
        return Err(Error::Internal(anyhow::anyhow!("session without user")));
    };
    let Some(client) = client else {
        // An account-page sign-in ends at the account page.
        authorization_requests::complete(&state.db, &pending.id).await?;
        return Ok(Redirect::to("/account").into_response());
    };
    let remembered = consents::granted_scopes(&state.db, &user.id, &client.client_id)
        .await?
        .is_some_and(|granted| scopes::covers(&granted, &pending.scope));
    // OIDC Core §11: offline access is never granted silently, even to first-party
    // clients; it needs consent the user gave.
    let offline = pending.scope.split(' ').any(|s| s == "offline_access");
    let consented =
        (remembered || (client.skip_consent && !offline)) && !has_prompt(&pending, "consent");
    if !consented {
        if has_prompt(&pending, "none") {
            let error = OAuthError::new(ErrorCode::ConsentRequired, "the user must consent");
            return fail(state, &pending, error).await;
        }
        let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
        let page = ConsentPage {
            client_name: client.name.clone(),
            request_id: pending.id.clone(),
            csrf,
            username: user.username.clone(),
            scopes: pending
                .scope
                .split(' ')
                .map(|s| ScopeLine {
                    name: s.to_string(),
                    description: scopes::describe(s).to_string(),
                })
                .collect(),
        };
        return Ok(csrf::attach(render_page(StatusCode::OK, &page), cookie));
    }
    issue_code(state, client, &pending, &session).await
}

/// Creates the grant and its code in one transaction and redirects to the client
/// with code, state and iss (RFC 6749 §4.1.2, RFC 9207).
pub async fn issue_code(
    state: &AppState,
    client: &Client,
    pending: &PendingRequest,
    session: &Session,
) -> Result<Response> {
    let now = state.now();
    let amr = from_json_list(&session.amr);
    let txn = state.db.begin().await?;
    if !authorization_requests::complete(&txn, &pending.id).await? {
        // Another tab or a double submit finished it first.
        return Err(Error::page(
            StatusCode::BAD_REQUEST,
            "Sign-in already completed",
            "This sign-in request was already completed. Return to the application.",
        ));
    }
    let grant = grants::create(
        &txn,
        NewGrant {
            user_id: &session.user_id,
            client_id: &client.client_id,
            session_id: Some(&session.id),
            scope: &pending.scope,
            auth_time: session.auth_time,
            amr: &amr,
            acr: Some(mfa::acr_for(&amr)),
            claims: pending.claims.as_deref(),
        },
        now,
        state.config.grant_ttl as i64,
    )
    .await?;
    let code = authorization_codes::create(
        &txn,
        NewCode {
            grant_id: &grant.id,
            client_id: &client.client_id,
            redirect_uri: &pending.redirect_uri,
            scope: &pending.scope,
            nonce: pending.nonce.as_deref(),
            code_challenge: &pending.code_challenge,
        },
        now,
        state.config.authorization_code_ttl as i64,
    )
    .await?;
    txn.commit().await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &pending.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer()));
    crate::web::redirect::respond(&pending.redirect_uri, &pairs, is_form_post(pending))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("registered redirect URI does not parse")))
}
