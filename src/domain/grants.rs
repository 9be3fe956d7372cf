//! A user's connected applications (grants), as an administrator ends them.

use sea_orm::ConnectionTrait;

use super::Refusal;
use crate::store::grants;

/// Revokes one live grant of the user: its refresh and access tokens stop working
/// at once. NotFound when the user has no such live grant.
pub async fn revoke_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    grant_id: &str,
    now: i64,
) -> Result<(), Refusal> {
    let live = grants::find(db, grant_id)
        .await?
        .filter(|g| g.user_id == user_id && g.revoked_at.is_none() && g.expires_at > now);
    if live.is_none() {
        return Err(Refusal::not_found(format!(
            "the user has no live grant '{grant_id}'"
        )));
    }
    grants::revoke(db, grant_id, "revoked by an administrator", now).await?;
    Ok(())
}
