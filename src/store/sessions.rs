//! Browser sessions. The browser holds a random secret; only its hash is stored.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::sessions::{self, Column, Entity};
use super::{to_json_list, StoreError};
use crate::secrets::{hash_token, random_token};

pub use sessions::Model as Session;

/// Starts a session; returns it with the secret for the cookie.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: &str,
    amr: &[String],
    now: i64,
    ttl: i64,
) -> Result<(Session, String), StoreError> {
    let secret = random_token();
    let session = sessions::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        secret_hash: Set(hash_token(&secret)),
        user_id: Set(user_id.to_string()),
        auth_time: Set(now),
        amr: Set(to_json_list(amr)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((session, secret))
}

/// The live session whose cookie secret this is.
pub async fn find_active(
    db: &impl ConnectionTrait,
    secret: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    Ok(Entity::find()
        .filter(Column::SecretHash.eq(hash_token(secret)))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Whether the session with this id is still live (not ended, not expired).
pub async fn is_active(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(Entity::find_by_id(id.to_string())
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}
