//! Recovery codes: single use, stored as keyed digests (HMAC-SHA-256 under a key
//! derived from the master key); codes stored as plain SHA-256 before still work.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use super::entities::recovery_codes::{self, Column, Entity};
use super::StoreError;
use crate::secrets::DigestKey;

/// Replaces all of a user's codes (the old ones die); call inside a transaction.
pub async fn replace(
    db: &impl ConnectionTrait,
    key: &DigestKey,
    user_id: &str,
    codes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    remove_all(db, user_id).await?;
    for code in codes {
        recovery_codes::ActiveModel {
            code_hash: Set(key.digest(&normalize(code))),
            user_id: Set(user_id.to_string()),
            created_at: Set(now),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn remove_all(db: &impl ConnectionTrait, user_id: &str) -> Result<(), StoreError> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Codes are shown grouped (`abcd-efgh-…`); people type them with or without dashes.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Uses a code once: exactly one of any concurrent uses succeeds.
pub async fn consume(
    db: &impl ConnectionTrait,
    key: &DigestKey,
    user_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::CodeHash.is_in(key.candidates(&normalize(code))))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn remaining(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .count(db)
        .await?)
}
