//! Account operations shared by the command line and the web.

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::domain::backchannel::Notice;
use crate::domain::sessions;
use crate::store::{users, StoreError};

/// Disables the user: no more sign-ins, every session ended and every grant
/// revoked, all in one transaction (or nothing). Returns the back-channel logout
/// notices the caller delivers.
pub async fn disable(
    db: &DatabaseConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    let txn = db.begin().await?;
    users::set_disabled(&txn, user_id, true, now).await?;
    let notices = sessions::end_all_in(&txn, user_id, "user disabled", now).await?;
    txn.commit().await?;
    Ok(notices)
}
