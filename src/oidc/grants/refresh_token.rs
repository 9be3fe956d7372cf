//! The refresh_token grant (RFC 6749 §6) with rotation on every use, reuse detection
//! (RFC 9700 §4.14.2) and a grace window for concurrent use of the same token.

use crate::grant_type::GrantType;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};
use crate::oidc::scopes;
use crate::oidc::token::TokenResponse;
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::clients::Client;
use crate::store::grants::{self, Grant};
use crate::store::refresh_tokens::{self, RefreshToken};
use crate::web::params::Params;

use super::issue;

/// Database conflicts (serialization failures, a busy SQLite) are retried this often
/// before the client sees anything.
const ATTEMPTS: u32 = 8;

fn invalid_grant(description: &str) -> Error {
    Error::json(ErrorCode::InvalidGrant, description)
}

/// What presenting an already-rotated token means (pure).
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// Within the grace window: answer again with the same successor.
    Grace,
    /// Outside it: the token was stolen or the client is broken; revoke the grant.
    Reuse,
}

pub fn classify_replay(used_at: i64, now: i64, grace: i64) -> Replay {
    if grace > 0 && now - used_at <= grace {
        Replay::Grace
    } else {
        Replay::Reuse
    }
}

/// RFC 6749 §6: the scope may be narrowed, never widened.
pub fn narrowed_scope(granted: &str, requested: Option<&str>) -> Result<String> {
    match requested {
        None => Ok(granted.to_string()),
        Some(requested) if scopes::covers(granted, requested) => Ok(requested
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")),
        Some(_) => Err(Error::json(
            ErrorCode::InvalidScope,
            "the requested scope exceeds the scope originally granted",
        )),
    }
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    params: &Params,
    ip: Option<&str>,
) -> Result<TokenResponse> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(Error::json(
            ErrorCode::UnauthorizedClient,
            "this client may not use the refresh_token grant",
        ));
    }
    let presented = params
        .get("refresh_token")
        .ok_or_else(|| Error::json(ErrorCode::InvalidRequest, "refresh_token is required"))?;
    let mut attempt = 0;
    let rotation = loop {
        attempt += 1;
        match refresh_once(state, client, params, presented, ip).await {
            Err(Error::Internal(err)) if attempt < ATTEMPTS => {
                tracing::debug!(error = %err, attempt, "refresh conflict; retrying");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(attempt))).await;
            }
            other => break other?,
        }
    };
    // Signing happens after the rotation committed and is never retried: a retry
    // would present the just-rotated token again.
    issue::for_grant(
        state,
        client,
        &rotation.grant,
        &rotation.scope,
        None,
        Some(rotation.successor),
    )
    .await
}

/// A committed rotation (or its grace-window replay): what the response is built from.
struct Rotation {
    grant: Arc<Grant>,
    scope: String,
    successor: String,
}

async fn refresh_once(
    state: &AppState,
    client: &Client,
    params: &Params,
    presented: &str,
    ip: Option<&str>,
) -> Result<Rotation> {
    let now = state.now();
    // The common case in one statement; anything it refuses is read and decided
    // below. A narrowed scope is checked before rotating, so it takes the long way.
    if params.get("scope").is_none() {
        let idle_ttl = state.config.refresh_token_idle_ttl as i64;
        let rotated = refresh_tokens::rotate_if_usable(
            &state.db,
            presented,
            &client.client_id,
            now,
            idle_ttl,
        )
        .await?;
        if let Some((successor_row, successor)) = rotated {
            let grant = state
                .grants
                .get(&state.db, &successor_row.grant_id)
                .await?
                .ok_or_else(|| invalid_grant("the grant was revoked"))?;
            return Ok(Rotation {
                grant,
                scope: successor_row.scope,
                successor,
            });
        }
    }
    let link = refresh_tokens::find_link(&state.db, presented)
        .await?
        .ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    let current = &link.token;
    // RFC 6749 §6: the token is bound to the client it was issued to.
    if current.client_id != client.client_id {
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    let grant = Arc::new(live_grant(state, current, now).await?);
    let scope = narrowed_scope(&current.scope, params.get("scope"))?;

    let mut link = link;
    if link.used_at().is_none() {
        if now >= link.token.expires_at {
            return Err(invalid_grant("the refresh token has expired"));
        }
        let expires_at = (now + state.config.refresh_token_idle_ttl as i64).min(grant.expires_at);
        let rotated =
            refresh_tokens::rotate(&state.db, &link.token, presented, now, expires_at).await?;
        if let Some(successor) = rotated {
            return Ok(Rotation {
                grant,
                scope,
                successor,
            });
        }
        // Rotated by a concurrent request just now: read its successor.
        link = refresh_tokens::find_link(&state.db, presented)
            .await?
            .ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    }
    let used_at = link.used_at().unwrap_or(now);
    let grace = state.config.refresh_grace_period as i64;
    if classify_replay(used_at, now, grace) == Replay::Grace {
        if let Some(successor) = link.successor_token(presented) {
            // Only while the successor is itself unused: once the chain moved on, an
            // old token coming back is reuse (RFC 9700 §4.14.2), grace or not.
            let unused = refresh_tokens::find_link(&state.db, &successor)
                .await?
                .is_some_and(|next| next.used_at().is_none());
            if unused {
                return Ok(Rotation {
                    grant,
                    scope,
                    successor,
                });
            }
        }
    }
    grants::revoke(&state.db, &grant.id, "refresh token reuse", now).await?;
    crate::observability::metrics::refresh_reuse_detected();
    audit::record(
        &state.db,
        Event {
            actor: None,
            kind: "refresh_reuse_detected",
            user_id: Some(&grant.user_id),
            client_id: Some(&client.client_id),
            ip,
            detail: Some(&format!("grant {} revoked", grant.id)),
        },
        now,
    )
    .await?;
    tracing::warn!(grant = %grant.id, client = %client.client_id, "refresh token reuse: grant revoked");
    Err(invalid_grant("the refresh token was already used"))
}

/// The token's grant, if it may still mint tokens: not revoked, not past its absolute
/// lifetime, its user still enabled, and, without offline_access, its browser session
/// still live (OIDC Core §11).
pub async fn live_grant(state: &AppState, token: &RefreshToken, now: i64) -> Result<Grant> {
    let offline = crate::scope::Scopes::parse(&token.scope).offline_access();
    if let Some(grant) = grants::find_usable(&state.db, &token.grant_id, now, !offline).await? {
        return Ok(grant);
    }
    // Refused: read the parts to say why.
    let context = grants::find_with_context(&state.db, &token.grant_id)
        .await?
        .filter(|c| c.grant.revoked_at.is_none())
        .ok_or_else(|| invalid_grant("the grant was revoked"))?;
    if !context.grant_is_live(now) {
        return Err(invalid_grant("the grant has expired"));
    }
    if !context.user_is_enabled() {
        return Err(invalid_grant("the user can no longer sign in"));
    }
    if !offline && !context.session_is_live(now) {
        return Err(invalid_grant("the session this token belongs to has ended"));
    }
    // Changed between the two reads: refuse all the same.
    Err(invalid_grant("the grant can no longer be used"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_within_the_window_is_grace() {
        assert_eq!(classify_replay(100, 105, 5), Replay::Grace);
        assert_eq!(classify_replay(100, 106, 5), Replay::Reuse);
        assert_eq!(
            classify_replay(100, 100, 0),
            Replay::Reuse,
            "0 turns it off"
        );
    }

    #[test]
    fn scope_may_narrow_but_not_widen() {
        assert_eq!(
            narrowed_scope("openid email", None).unwrap(),
            "openid email"
        );
        assert_eq!(
            narrowed_scope("openid email", Some("openid")).unwrap(),
            "openid"
        );
        let err = narrowed_scope("openid", Some("openid email")).unwrap_err();
        assert!(matches!(err, Error::Json(e) if e.code == ErrorCode::InvalidScope));
    }
}
