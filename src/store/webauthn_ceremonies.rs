//! WebAuthn ceremonies in progress: the server-side state between the options a
//! page receives and the credential it posts back. Single use: taking a ceremony
//! deletes it, and only the statement that deleted the row gets its state.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::webauthn_ceremonies::{self, Column, Entity};
use super::StoreError;

pub use webauthn_ceremonies::Model as Ceremony;

pub struct NewCeremony {
    pub id_hash: String,
    pub purpose: &'static str,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
    pub browser_hash: String,
    pub state: String,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewCeremony,
    now: i64,
    ttl: i64,
) -> Result<(), StoreError> {
    webauthn_ceremonies::ActiveModel {
        id_hash: Set(new.id_hash),
        purpose: Set(new.purpose.to_string()),
        user_id: Set(new.user_id),
        request_id: Set(new.request_id),
        browser_hash: Set(new.browser_hash),
        state: Set(new.state),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the ceremony out: None when it is unknown, already taken or expired.
pub async fn take(
    db: &impl ConnectionTrait,
    id_hash: &str,
    now: i64,
) -> Result<Option<Ceremony>, StoreError> {
    let Some(found) = Entity::find_by_id(id_hash.to_string()).one(db).await? else {
        return Ok(None);
    };
    let deleted = Entity::delete_many()
        .filter(Column::IdHash.eq(id_hash))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1 && found.expires_at > now).then_some(found))
}

pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
