//! Who may call the admin API: a bearer access token issued by this Gatehouse
//! with scope `gatehouse:admin` (read-write) or `gatehouse:admin.read`, checked as
//! at /userinfo (signature, expiry, revocation).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::{Error, Problem, ProblemKind};
use crate::oidc::access_token;
use crate::state::AppState;

pub use crate::scope::{ADMIN as SCOPE_WRITE, ADMIN_READ as SCOPE_READ};

/// Who acted, for the audit log: the client of a client_credentials token, or the
/// user of a user's token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub client_id: String,
    pub user_id: Option<String>,
}

impl Actor {
    /// The audit log's actor: the person when the token is a user's, else the client.
    pub fn audit_name(&self) -> String {
        match &self.user_id {
            Some(user) => crate::store::audit::actor_user(user),
            None => format!("client:{}", self.client_id),
        }
    }
}

/// A caller allowed to read.
pub struct Reader(pub Actor);

/// A caller allowed to change things.
pub struct Writer(pub Actor);

fn unauthorized(detail: &str, token_given: bool) -> Problem {
    // RFC 6750 §3.1: no error code when no token was sent.
    let challenge = if token_given {
        format!(
            "Bearer realm=\"gatehouse\", {}",
            crate::error::bearer_error_params("invalid_token", detail)
        )
    } else {
        "Bearer realm=\"gatehouse\"".to_string()
    };
    Problem {
        challenge: Some(challenge),
        ..Problem::new(ProblemKind::Unauthorized, detail)
    }
}

async fn actor(parts: &Parts, state: &AppState, needed: &str) -> Result<Actor, Problem> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(if parts.headers.contains_key(header::AUTHORIZATION) {
            unauthorized("the Authorization header holds no bearer token", true)
        } else {
            unauthorized("an access token is required", false)
        });
    };
    let live = match access_token::validate(state, token).await {
        Ok(live) => live,
        Err(Error::Bearer(e)) => return Err(unauthorized(&e.description, true)),
        Err(Error::Json(e)) => return Err(Problem::new(ProblemKind::Unavailable, e.description)),
        Err(other) => return Err(Problem::internal(other)),
    };
    let granted: Vec<&str> = live.claim("scope").split(' ').collect();
    let allowed =
        granted.contains(&SCOPE_WRITE) || (needed == SCOPE_READ && granted.contains(&SCOPE_READ));
    if !allowed {
        // RFC 6750 §3.1: insufficient_scope is a 403 naming the scope needed.
        return Err(Problem {
            challenge: Some(format!(
                "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"{needed}\""
            )),
            ..Problem::new(
                ProblemKind::InsufficientScope,
                format!("this operation needs the scope {needed}"),
            )
        });
    }
    if let Some(user) = &live.user {
        if user.disabled {
            return Err(unauthorized("the user can no longer sign in", true));
        }
        // A person's token serves only while they are in the admin group.
        let admin =
            crate::domain::groups::is_member(&state.db, &state.config.admin_group, &user.id)
                .await
                .map_err(Problem::from)?;
        if !admin {
            return Err(Problem::new(
                ProblemKind::InsufficientScope,
                format!(
                    "the user is not in the admin group '{}'",
                    state.config.admin_group
                ),
            ));
        }
    }
    Ok(Actor {
        client_id: live.claim("client_id").to_string(),
        user_id: live.user.as_ref().map(|u| u.id.clone()),
    })
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        Ok(Reader(actor(parts, state, SCOPE_READ).await?))
    }
}

impl FromRequestParts<AppState> for Writer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        Ok(Writer(actor(parts, state, SCOPE_WRITE).await?))
    }
}
