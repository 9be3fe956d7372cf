//! Signing key operations shared by the command line and the admin API.

use sea_orm::DatabaseConnection;

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
