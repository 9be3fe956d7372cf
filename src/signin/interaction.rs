//! A sign-in in progress: the pending request (checked to belong to this browser),
//! its client, the browser's session and the user. `decide` gathers the facts and
//! asks `next::next`; `respond` carries out the answer. The answer is always a
//! redirect to the step's page, the code, or an error for the client: pages are
//! rendered by the handlers of those steps, which ask the same question again.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::{mfa, session};
use crate::error::{Error, ErrorCode, ErrorRedirect, OAuthError, Result};
use crate::scope::Scopes;
use crate::signin::binding;
use crate::signin::issue;
use crate::signin::next::{
    self, ConsentAnswer, Facts, Next, RequestFacts, SessionFacts, UserFacts,
};
use crate::state::AppState;
use crate::store::authorization_requests::{self, NewRequest, PendingRequest};
use crate::store::clients::{self, Client};
use crate::store::sessions::Session;
use crate::store::users::{self, User};
use crate::store::{audit, consents, from_json_list, groups};

/// `?request_id=…`, as the steps' pages are addressed.
#[derive(serde::Deserialize)]
pub struct RequestIdQuery {
    #[serde(default)]
    pub request_id: String,
}

pub struct Interaction {
    pub pending: PendingRequest,
    /// None for a sign-in to the account page.
    pub client: Option<Client>,
    /// The browser's live session and its (enabled) user.
    pub session: Option<(Session, User)>,
    /// The user whose password this browser gave for this request.
    pub password_user: Option<User>,
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

/// The page for a request id brought by a browser that did not start it.
pub fn other_browser() -> Error {
    Error::page(
        StatusCode::BAD_REQUEST,
        "Sign-in started elsewhere",
        "This sign-in was started in another browser. \
         Return to the application and start again here.",
    )
}

/// The browser's session with its user, when both are live and enabled.
pub async fn signed_in_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Session, User)>> {
    let Some(session) = session::current(state, headers).await? else {
        return Ok(None);
    };
    Ok(users::find(&state.db, &session.user_id)
        .await?
        .filter(|u| !u.disabled)
        .map(|user| (session, user)))
}

/// Starts a request bound to this browser; returns it with the binding cookie to
/// set when the browser had none.
pub async fn create(
    state: &AppState,
    headers: &HeaderMap,
    request: NewRequest,
) -> Result<(PendingRequest, Option<HeaderValue>)> {
    let (browser_hash, cookie) = binding::ensure(headers, state.config.secure_cookies());
    let pending = authorization_requests::create(
        &state.db,
        request,
        &browser_hash,
        state.now(),
        state.config.authorization_request_ttl as i64,
    )
    .await?;
    Ok((pending, cookie))
}

/// A page of Gatehouse's own that a sign-in without a client ends at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Local {
    Account,
    /// The admin console, at this path under /admin. It needs two factors.
    Console(String),
}

impl Local {
    /// The path to go to: a console path is kept only when it is one (never
    /// another site: `//host` or a backslash).
    pub fn path(&self) -> &str {
        match self {
            Local::Console(path) if is_console_path(path) => path,
            Local::Console(_) => "/admin",
            Local::Account => "/account",
        }
    }

    /// Where a finished sign-in of `pending` (which has no client) goes.
    fn of(pending: &PendingRequest) -> Local {
        if is_console_path(&pending.redirect_uri) {
            Local::Console(pending.redirect_uri.clone())
        } else {
            Local::Account
        }
    }

    fn wants_second_factor(&self) -> bool {
        matches!(self, Local::Console(_))
    }
}

fn is_console_path(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?"))
        && !path.contains('\\')
        && !path.contains("//")
}

/// A request for a sign-in that ends at a page of our own.
pub fn local_request(to: &Local) -> NewRequest {
    NewRequest {
        client_id: None,
        redirect_uri: to.path().to_string(),
        scope: String::new(),
        state: None,
        nonce: None,
        code_challenge: String::new(),
        prompt: None,
        max_age: None,
        login_hint: None,
        // As a client asking acr_values=2 (OIDC Core §3.1.2.1).
        acr_values: to.wants_second_factor().then(|| mfa::ACR_MFA.to_string()),
        response_mode: None,
        claims: None,
    }
}

/// The pending request named by `id`, if it is live and this browser's.
pub async fn load(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Interaction> {
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
    let pending = found.ok_or_else(expired)?;
    if !binding::matches(
        headers,
        state.config.secure_cookies(),
        pending.browser_hash.as_deref(),
    ) {
        return Err(other_browser());
    }
    let client = match &pending.client_id {
        Some(client_id) => Some(clients::find(&state.db, client_id).await?.ok_or_else(|| {
            Error::page(
                StatusCode::BAD_REQUEST,
                "Unknown application",
                "The application is no longer registered.",
            )
        })?),
        None => None,
    };
    let password_user = match &pending.mfa_user_id {
        Some(user_id) => users::find(&state.db, user_id).await?,
        None => None,
    };
    let session = signed_in_user(state, headers).await?;
    Ok(Interaction {
        pending,
        client,
        session,
        password_user,
    })
}

fn has_prompt(pending: &PendingRequest, value: &str) -> bool {
    pending
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

pub async fn user_facts(state: &AppState, user: &User) -> Result<UserFacts> {
    Ok(UserFacts {
        disabled: user.disabled,
        enrolled: mfa::is_enrolled(&state.db, user).await?,
        policy: user.mfa_policy.as_deref().and_then(mfa::MfaPolicy::parse),
    })
}

pub async fn session_facts(
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<SessionFacts> {
    let amr = from_json_list(&session.amr);
    Ok(SessionFacts {
        auth_time: session.auth_time,
        expires_at: session.expires_at,
        second_factor: mfa::has_second_factor(&amr),
        password: mfa::has_password(&amr),
        user: user_facts(state, user).await?,
    })
}

pub fn request_facts(pending: &PendingRequest) -> RequestFacts {
    RequestFacts {
        prompt_none: has_prompt(pending, "none"),
        prompt_login: has_prompt(pending, "login"),
        prompt_consent: has_prompt(pending, "consent"),
        max_age: pending.max_age,
        wants_second_factor: mfa::requested(pending.acr_values.as_deref()),
        offline_access: Scopes::parse(&pending.scope).offline_access(),
    }
}

impl Interaction {
    /// The user this sign-in is about: the one who just gave the password, else
    /// the session's.
    pub fn user(&self) -> Option<&User> {
        self.password_user
            .as_ref()
            .or(self.session.as_ref().map(|(_, u)| u))
    }

    /// Asks the one decision what comes next.
    pub async fn decide(&self, state: &AppState, answer: Option<ConsentAnswer>) -> Result<Next> {
        let remembered = match (&self.session, &self.client) {
            (Some((_, user)), Some(client)) => {
                consents::granted_scopes(&state.db, &user.id, &client.client_id)
                    .await?
                    .is_some_and(|granted| {
                        Scopes::parse(&granted).covers(&Scopes::parse(&self.pending.scope))
                    })
            }
            _ => false,
        };
        let admits_user = match (&self.session, &self.client) {
            (Some((_, user)), Some(client)) => groups::admits(&state.db, client, &user.id).await?,
            _ => true,
        };
        let password_user = match &self.password_user {
            Some(user) => Some(user_facts(state, user).await?),
            None => None,
        };
        let session = match &self.session {
            Some((s, u)) => Some(session_facts(state, s, u).await?),
            None => None,
        };
        Ok(next::next(&Facts {
            request: request_facts(&self.pending),
            password_user,
            session,
            client: self.client.as_ref().map(|c| next::ClientFacts {
                skip_consent: c.skip_consent,
                admits_user,
            }),
            consent_remembered: remembered,
            consent_answer: answer,
            policy: state.config.mfa_policy,
            now: state.now(),
        }))
    }

    /// Carries out `next`.
    pub async fn respond(&self, state: &AppState, next: Next) -> Result<Response> {
        let step = |path: &str| Ok(Redirect::to(&step_url(path, &self.pending)).into_response());
        match next {
            Next::Login => step("/login"),
            Next::SecondFactor(_) => step("/login/mfa"),
            Next::Consent => step("/consent"),
            Next::Fail(error) => {
                authorization_requests::complete(&state.db, &self.pending.id).await?;
                Err(redirect_error(state, &self.pending, error))
            }
            Next::NotAdmitted => {
                audit::record(
                    &state.db,
                    audit::Event {
                        actor: None,
                        kind: "access_denied",
                        user_id: self.session.as_ref().map(|(_, u)| u.id.as_str()),
                        client_id: self.pending.client_id.as_deref(),
                        ip: None,
                        detail: Some("not in an allowed group of the client"),
                    },
                    state.now(),
                )
                .await?;
                authorization_requests::complete(&state.db, &self.pending.id).await?;
                Err(redirect_error(
                    state,
                    &self.pending,
                    OAuthError::new(
                        ErrorCode::AccessDenied,
                        "the user may not use this application",
                    ),
                ))
            }
            Next::Issue { remember_consent } => {
                let Some((session, user)) = &self.session else {
                    return Err(Error::Internal(anyhow::anyhow!("issue without a session")));
                };
                let Some(client) = &self.client else {
                    // A sign-in of our own pages ends at the page it started from.
                    authorization_requests::complete(&state.db, &self.pending.id).await?;
                    return Ok(Redirect::to(Local::of(&self.pending).path()).into_response());
                };
                if remember_consent {
                    consents::remember(
                        &state.db,
                        &user.id,
                        &client.client_id,
                        &self.pending.scope,
                        state.now(),
                    )
                    .await?;
                }
                issue::code(state, client, &self.pending, session).await
            }
        }
    }

    /// decide, then respond.
    pub async fn advance(
        &self,
        state: &AppState,
        answer: Option<ConsentAnswer>,
    ) -> Result<Response> {
        let next = self.decide(state, answer).await?;
        self.respond(state, next).await
    }
}

/// The decision for a page of our own (a sign-in without a client): Issue when
/// the browser's session is good enough for it as it is.
pub async fn local_decision(
    state: &AppState,
    session: Option<&(Session, User)>,
    to: &Local,
) -> Result<Next> {
    let session = match session {
        Some((s, u)) => Some(session_facts(state, s, u).await?),
        None => None,
    };
    Ok(next::next(&Facts {
        request: RequestFacts {
            wants_second_factor: to.wants_second_factor(),
            ..RequestFacts::default()
        },
        password_user: None,
        session,
        client: None,
        consent_remembered: false,
        consent_answer: None,
        policy: state.config.mfa_policy,
        now: state.now(),
    }))
}

/// The signed-in user for a page of our own, or the sign-in that leads back to it:
/// a session that lacks a factor the page needs is sent through that step first,
/// by the same decision as every sign-in.
pub async fn signed_in_for(
    state: &AppState,
    headers: &HeaderMap,
    to: Local,
) -> Result<std::result::Result<(Session, User), Response>> {
    let current = signed_in_user(state, headers).await?;
    reach(state, headers, current, to).await
}

/// `signed_in_for`, with the browser's session already loaded.
pub async fn reach(
    state: &AppState,
    headers: &HeaderMap,
    current: Option<(Session, User)>,
    to: Local,
) -> Result<std::result::Result<(Session, User), Response>> {
    let next = local_decision(state, current.as_ref(), &to).await?;
    if let (Next::Issue { .. }, Some(found)) = (&next, &current) {
        return Ok(Ok(found.clone()));
    }
    let (pending, cookie) = create(state, headers, local_request(&to)).await?;
    let signin = Interaction {
        pending,
        client: None,
        session: current,
        password_user: None,
    };
    let response = signin.respond(state, next).await?;
    Ok(Err(with_cookies(response, cookie)))
}

/// `/login?request_id=…` and the like.
pub fn step_url(path: &str, pending: &PendingRequest) -> String {
    format!(
        "{path}?request_id={}",
        url::form_urlencoded::byte_serialize(pending.id.as_bytes()).collect::<String>()
    )
}

/// Where the steps send the browser once the person has signed in.
pub fn continue_url(pending: &PendingRequest) -> String {
    step_url("/authorize/continue", pending)
}

pub fn is_form_post(pending: &PendingRequest) -> bool {
    pending.response_mode.as_deref() == Some("form_post")
}

/// An error sent back to the client (RFC 6749 §4.1.2.1, RFC 9207).
pub fn redirect_error(state: &AppState, pending: &PendingRequest, error: OAuthError) -> Error {
    Error::Redirect(Box::new(ErrorRedirect {
        redirect_uri: pending.redirect_uri.clone(),
        state: pending.state.clone(),
        issuer: state.issuer().to_string(),
        error,
        form_post: is_form_post(pending),
    }))
}

/// Adds a `Set-Cookie` for each cookie (an `Option` is none or one).
pub fn with_cookies(
    mut response: Response,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_sign_in_returns_only_to_console_paths() {
        for (asked, goes_to) in [
            ("/admin", "/admin"),
            ("/admin/users?q=a", "/admin/users?q=a"),
            ("/admin?notice=saved", "/admin?notice=saved"),
            ("/administrator", "/admin"),
            ("//evil.example/admin", "/admin"),
            ("/admin//evil.example", "/admin"),
            ("/admin/\\evil.example", "/admin"),
            ("https://evil.example/admin", "/admin"),
            ("", "/admin"),
        ] {
            assert_eq!(Local::Console(asked.into()).path(), goes_to, "{asked}");
        }
        assert_eq!(Local::Account.path(), "/account");
    }
}
