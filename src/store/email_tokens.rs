//! The single-use links Gatehouse mails. Only the token's SHA-256 is stored; taking
//! a token deletes it, and only the statement that deleted the row gets it.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::email_tokens::{self, Column, Entity};
use super::StoreError;

pub use email_tokens::Model as EmailToken;

pub struct NewToken<'a> {
    pub token_hash: String,
    pub purpose: &'static str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub password_stamp: String,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewToken<'_>,
    now: i64,
    ttl: i64,
) -> Result<(), StoreError> {
    email_tokens::ActiveModel {
        token_hash: Set(new.token_hash),
        purpose: Set(new.purpose.to_string()),
        user_id: Set(new.user_id.to_string()),
        email: Set(new.email.to_string()),
        password_stamp: Set(new.password_stamp),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The live token of this purpose, without using it up (a page that shows a form).
pub async fn peek(
    db: &impl ConnectionTrait,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<EmailToken>, StoreError> {
    Ok(Entity::find_by_id(token_hash.to_string())
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Takes the token out: None when it is unknown, of another purpose, already
/// taken or expired.
pub async fn take(
    db: &impl ConnectionTrait,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<EmailToken>, StoreError> {
    let Some(found) = peek(db, token_hash, purpose, now).await? else {
        return Ok(None);
    };
    let deleted = Entity::delete_many()
        .filter(Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(found))
}

/// Voids the user's other links of this purpose (a newer link replaces them; a
/// used one ends them all).
pub async fn remove_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    purpose: &str,
) -> Result<u64, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
