//! Signing key operations shared by the command line and the admin API.

use sea_orm::DatabaseConnection;

use super::Refusal;
use crate::state::AppState;

use crate::keys::{keyset, lifecycle, master::MasterKey};
use crate::store::signing_keys::{self, STATE_CURRENT, STATE_NEXT};

/// Promotes each algorithm's next key now (its predecessor retires) and publishes a
/// new next key. Running nodes pick the change up at their next key reload.
pub async fn rotate(
    db: &DatabaseConnection,
    master: &MasterKey,
    policy: &lifecycle::Policy,
    now: i64,
) -> anyhow::Result<()> {
    let keys = signing_keys::all(db).await?;
    for alg in lifecycle::ALGS {
        let newest = |state: &str| {
            keys.iter()
                .filter(|k| k.alg == *alg && k.state == state)
                .max_by_key(|k| k.generation)
        };
        if let Some(next) = newest(STATE_NEXT) {
            let current = newest(STATE_CURRENT).map(|k| k.kid.as_str());
            signing_keys::promote(db, &next.kid, current, now).await?;
        }
    }
    keyset::tick(db, master, policy, now).await?;
    Ok(())
}

/// Rotates now, as an operator asks through the API or the console, and reloads
/// this node's keyset. Refused while the next key is younger than the JWKS cache
/// lifetime: a relying party may not have it yet, and could not verify what it signs.
pub async fn rotate_published(state: &AppState) -> Result<(), Refusal> {
    let now = state.now();
    let lead = crate::keys::JWKS_MAX_AGE as i64;
    let young = signing_keys::all(&state.db)
        .await?
        .into_iter()
        .filter(|k| k.state == STATE_NEXT && k.created_at + lead > now)
        .map(|k| k.created_at + lead)
        .max();
    if let Some(ready_at) = young {
        return Err(Refusal::Conflict(format!(
            "the next key has been published for less than {lead} s (JWKS caches may not \
             have it): rotate again in {} s",
            ready_at - now
        )));
    }
    // Key generation and sealing fail only as the database or the machine does.
    let failed = |e: anyhow::Error| Refusal::Store(sea_orm::DbErr::Custom(e.to_string()).into());
    rotate(
        &state.db,
        state.keys.master(),
        &state.config.key_policy(),
        now,
    )
    .await
    .map_err(failed)?;
    state.keys.reload(&state.db, now).await.map_err(failed)?;
    Ok(())
}
