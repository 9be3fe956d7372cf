//! Browser sessions. The browser holds a random secret; only its hash is stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::sessions::{self, Column, Entity};
use super::{to_json_list, StoreError};
use crate::secrets::{hash_token, random_token};

pub use sessions::Model as Session;

/// Starts a session; returns it with the secret for the cookie.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: &str,
    amr: &[String],
    ip: Option<&str>,
    user_agent: Option<&str>,
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
        confirmed_at: Set(None),
        ip: Set(ip.map(str::to_string)),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(256).collect())),
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

/// How many sessions are live, of every user.
pub async fn count_active(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .count(db)
        .await?)
}

/// The user's live sessions, newest first.
pub async fn list_active(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<Session>, StoreError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// Ends one of the user's sessions (only the user's own: the id comes from a form).
pub async fn end(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Ends every session of a user (account disabled).
pub async fn end_all(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// The user just authenticated again in this live session (a second factor for a
/// sign-in that needed one, or "confirm it's you"): the session now carries `amr`
/// from `now`, and gets a new cookie secret (a change of privilege changes the
/// secret, OWASP session management). Returns the new secret; None when the
/// session ended meanwhile.
pub async fn reauthenticated(
    db: &impl ConnectionTrait,
    id: &str,
    amr: &[String],
    now: i64,
) -> Result<Option<String>, StoreError> {
    let secret = random_token();
    let updated = Entity::update_many()
        .col_expr(Column::SecretHash, Expr::value(hash_token(&secret)))
        .col_expr(Column::Amr, Expr::value(to_json_list(amr)))
        .col_expr(Column::AuthTime, Expr::value(now))
        .col_expr(Column::ConfirmedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok((updated.rows_affected == 1).then_some(secret))
}
