//! Periodic clean-up of rows nobody will read again. Every node may run it: the
//! deletes are idempotent.

use std::time::Duration;

use crate::state::AppState;
use crate::store::{
    authorization_codes, authorization_requests, email_tokens, refresh_tokens, registrations,
    revoked_client_tokens, webauthn_ceremonies,
};

const EVERY: Duration = Duration::from_secs(600);

pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(err) = run_once(&state).await {
                tracing::warn!(error = %err, "housekeeping failed; will retry");
            }
        }
    });
}

pub async fn run_once(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let requests = authorization_requests::purge_expired(&state.db, now).await?;
    // Keep a used or expired code a while: a late replay should still find it and
    // revoke its grant (RFC 6749 §4.1.2) rather than meet "unknown code".
    let codes = authorization_codes::purge_expired(&state.db, now - 3600).await?;
    // Likewise a day's margin for rotated refresh tokens: reuse detection needs them.
    let refresh = refresh_tokens::purge_expired(&state.db, now - 86_400).await?;
    let revoked = revoked_client_tokens::purge_expired(&state.db, now).await?;
    let ceremonies = webauthn_ceremonies::purge_expired(&state.db, now).await?;
    let links = email_tokens::purge_expired(&state.db, now).await?
        + registrations::purge_expired(&state.db, now).await?;
    if requests + codes + refresh + revoked + ceremonies + links > 0 {
        tracing::debug!(
            requests,
            codes,
            refresh,
            revoked,
            ceremonies,
            links,
            "purged expired rows"
        );
    }
    Ok(())
}
