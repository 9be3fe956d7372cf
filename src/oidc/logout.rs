//! Ending a browser session: the session, the refresh families that live only as
//! long as it (no offline_access), and back-channel notices to its clients.

use std::collections::HashSet;

use crate::app::AppState;
use crate::error::Result;
use crate::oidc::backchannel;
use crate::store::{clients, grants, sessions};

/// Ends `session_id` of `user_id`; returns false if it was not live.
pub async fn end_session(state: &AppState, user_id: &str, session_id: &str) -> Result<bool> {
    let now = state.now();
    if !sessions::end(&state.db, user_id, session_id, now).await? {
        return Ok(false);
    }
    let mut notified = HashSet::new();
    for grant in grants::for_session(&state.db, session_id).await? {
        let offline = grant.scope.split(' ').any(|s| s == "offline_access");
        if !offline {
            grants::revoke(&state.db, &grant.id, "session ended", now).await?;
        }
        if notified.insert(grant.client_id.clone()) {
            if let Some(client) = clients::find(&state.db, &grant.client_id).await? {
                backchannel::notify(state, &client, user_id, session_id);
            }
        }
    }
    Ok(true)
}
