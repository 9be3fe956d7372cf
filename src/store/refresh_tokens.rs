//! Refresh-token chains: rotation on every use, atomically, on both databases.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::refresh_tokens::{self, Column, Entity};
use super::StoreError;
use crate::secrets::{hash_token, open_with_token, random_token, seal_with_token};

pub use refresh_tokens::Model as RefreshToken;

pub struct NewRefresh<'a> {
    pub grant_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub expires_at: i64,
}

async fn insert(
    db: &impl ConnectionTrait,
    token: &str,
    new: &NewRefresh<'_>,
    parent_hash: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    refresh_tokens::ActiveModel {
        token_hash: Set(hash_token(token)),
        grant_id: Set(new.grant_id.to_string()),
        client_id: Set(new.client_id.to_string()),
        scope: Set(new.scope.to_string()),
        parent_hash: Set(parent_hash),
        issued_at: Set(now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        successor_hash: Set(None),
        successor_sealed: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Starts a chain; returns the token in the clear (the only time it exists so).
pub async fn issue(
    db: &impl ConnectionTrait,
    new: NewRefresh<'_>,
    now: i64,
) -> Result<String, StoreError> {
    let token = random_token();
    insert(db, &token, &new, None, now).await?;
    Ok(token)
}

pub async fn find(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<RefreshToken>, StoreError> {
    Ok(Entity::find_by_id(hash_token(token)).one(db).await?)
}

/// Rotates `presented` (whose row is `current`): marks it used and stores its
/// successor, in the caller's transaction. The guarded update lets exactly one of
/// any number of concurrent callers win; the others get `None`.
pub async fn rotate(
    db: &impl ConnectionTrait,
    current: &RefreshToken,
    presented: &str,
    now: i64,
    expires_at: i64,
) -> Result<Option<String>, StoreError> {
    let successor = random_token();
    let updated = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .col_expr(Column::SuccessorHash, Expr::value(hash_token(&successor)))
        .col_expr(
            Column::SuccessorSealed,
            Expr::value(seal_with_token(presented, &successor)),
        )
        .filter(Column::TokenHash.eq(current.token_hash.as_str()))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    let new = NewRefresh {
        grant_id: &current.grant_id,
        client_id: &current.client_id,
        scope: &current.scope,
        expires_at,
    };
    insert(db, &successor, &new, Some(current.token_hash.clone()), now).await?;
    Ok(Some(successor))
}

/// The successor a rotated token was replaced with, recoverable only with the token.
pub fn successor_of(rotated: &RefreshToken, presented: &str) -> Option<String> {
    open_with_token(presented, rotated.successor_sealed.as_deref()?)
}

/// Drops tokens whose lifetime ended long ago (the grant records any revocation).
pub async fn purge_expired(db: &impl ConnectionTrait, before: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(before))
        .exec(db)
        .await?
        .rows_affected)
}
