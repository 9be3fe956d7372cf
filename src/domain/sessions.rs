//! Ending browser sessions: the session, the grants that live only as long as it
//! (no offline_access, OIDC Core §11), and back-channel logout notices to its
//! clients (Back-Channel Logout 1.0 §2.5).

use sea_orm::ConnectionTrait;

use crate::domain::backchannel::{self, Notice};
use crate::error::Result;
use crate::scope::Scopes;
use crate::state::AppState;
use crate::store::{clients, grants, sessions, StoreError};

/// Ends `session_id` of `user_id` in `db`: None if it was not live, else the
/// notices its clients are owed.
pub async fn end_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<Vec<Notice>>, StoreError> {
    if !sessions::end(db, user_id, session_id, now).await? {
        return Ok(None);
    }
    Ok(Some(
        session_grants_end(db, user_id, session_id, now).await?,
    ))
}

/// Revokes the session's grants that do not outlive it; the notices its clients
/// are owed, one per client.
async fn session_grants_end(
    db: &impl ConnectionTrait,
    user_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    let mut notices: Vec<Notice> = Vec::new();
    for grant in grants::for_session(db, session_id).await? {
        if !Scopes::parse(&grant.scope).offline_access() {
            grants::revoke(db, &grant.id, "session ended", now).await?;
        }
        if notices
            .iter()
            .any(|n| n.client.client_id == grant.client_id)
        {
            continue;
        }
        if let Some(client) = clients::find(db, &grant.client_id).await? {
            notices.push(Notice {
                client,
                subject: user_id.to_string(),
                session_id: session_id.to_string(),
            });
        }
    }
    Ok(notices)
}

/// Ends one session of the user and sends the notices; false if it was not live.
pub async fn end_session(state: &AppState, user_id: &str, session_id: &str) -> Result<bool> {
    match end_in(&state.db, user_id, session_id, state.now()).await? {
        Some(notices) => {
            backchannel::notify(state, notices);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Ends every live session of the user except `keep` (a password change signs the
/// other browsers out); returns how many ended.
pub async fn end_other_sessions(state: &AppState, user_id: &str, keep: &str) -> Result<usize> {
    let mut ended = 0;
    for session in sessions::list_active(&state.db, user_id, state.now()).await? {
        if session.id != keep && end_session(state, user_id, &session.id).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Ends every session of the user with the grants that live only as long as
/// them; offline grants (offline_access) stay. Returns the notices owed.
pub async fn end_sessions_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    let mut notices = Vec::new();
    for session in sessions::list_active(db, user_id, now).await? {
        if let Some(more) = end_in(db, user_id, &session.id, now).await? {
            notices.extend(more);
        }
    }
    sessions::end_all(db, user_id, now).await?;
    Ok(notices)
}

/// Ends every session of the user and revokes all their grants, offline ones
/// included (a disabled account); returns the notices owed.
pub async fn end_all_in(
    db: &impl ConnectionTrait,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    let notices = end_sessions_in(db, user_id, now).await?;
    grants::revoke_all_for_user(db, user_id, reason, now).await?;
    Ok(notices)
}
