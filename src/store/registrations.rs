//! Sign-ups waiting for their address to be confirmed. Taking one deletes it, and
//! only the statement that deleted the row gets it.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::registrations::{self, Column, Entity};
use super::StoreError;

pub use registrations::Model as Registration;

pub async fn create(db: &impl ConnectionTrait, new: Registration) -> Result<(), StoreError> {
    registrations::ActiveModel {
        token_hash: Set(new.token_hash),
        username: Set(new.username),
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The live sign-up, without using it up.
pub async fn peek(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: i64,
) -> Result<Option<Registration>, StoreError> {
    Ok(Entity::find_by_id(token_hash.to_string())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Takes the sign-up out: None when unknown, taken or expired.
pub async fn take(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: i64,
) -> Result<Option<Registration>, StoreError> {
    let Some(found) = peek(db, token_hash, now).await? else {
        return Ok(None);
    };
    let deleted = Entity::delete_many()
        .filter(Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(found))
}

pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
