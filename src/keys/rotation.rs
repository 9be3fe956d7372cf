//! The background task that drives key transitions and keeps this node's keyset
//! fresh. Every node runs it; the guarded writes make each transition happen once.

use std::time::Duration;

use crate::state::AppState;

pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.key_reload_interval);
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            if let Err(err) = state.keys.maintain(&state.db, state.now()).await {
                tracing::warn!(error = %err, "signing key maintenance failed; will retry");
            }
        }
    });
}
