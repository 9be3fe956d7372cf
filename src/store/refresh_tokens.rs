//! Refresh-token chains: rotation on every use, atomically, on both databases.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
    SqlErr,
};

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
    parent: Option<(&str, &str)>,
    now: i64,
) -> Result<(), StoreError> {
    refresh_tokens::ActiveModel {
        token_hash: Set(hash_token(token)),
        grant_id: Set(new.grant_id.to_string()),
        client_id: Set(new.client_id.to_string()),
        scope: Set(new.scope.to_string()),
        parent_hash: Set(parent.map(|(hash, _)| hash.to_string())),
        issued_at: Set(now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        successor_hash: Set(None),
        successor_sealed: Set(None),
        sealed_by_parent: Set(parent.map(|(_, presented)| seal_with_token(presented, token))),
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

/// A token and the successor it was rotated to, if it was.
pub struct Link {
    pub token: RefreshToken,
    pub successor: Option<RefreshToken>,
}

impl Link {
    /// When the token was rotated (None: it is unused).
    pub fn used_at(&self) -> Option<i64> {
        self.successor
            .as_ref()
            .map(|s| s.issued_at)
            .or(self.token.used_at)
    }

    /// The successor in the clear, recoverable only with the token itself.
    pub fn successor_token(&self, presented: &str) -> Option<String> {
        let sealed = self
            .successor
            .as_ref()
            .and_then(|s| s.sealed_by_parent.as_deref())
            .or(self.token.successor_sealed.as_deref())?;
        open_with_token(presented, sealed)
    }
}

/// A token with its successor, in one statement (the row that is the token, and
/// the row that names it as parent).
pub async fn find_link(db: &impl ConnectionTrait, token: &str) -> Result<Option<Link>, StoreError> {
    let hash = hash_token(token);
    let rows = Entity::find()
        .filter(
            Condition::any()
                .add(Column::TokenHash.eq(hash.as_str()))
                .add(Column::ParentHash.eq(hash.as_str())),
        )
        .all(db)
        .await?;
    let (mut token, mut successor) = (None, None);
    for row in rows {
        if row.token_hash == hash {
            token = Some(row);
        } else {
            successor = Some(row);
        }
    }
    Ok(token.map(|token| Link { token, successor }))
}

/// Rotates `presented` (whose row is `current`) by inserting its successor: one
/// statement, so it is atomic on its own. The unique index on parent_hash lets
/// exactly one of any number of concurrent callers win; the others get `None`.
pub async fn rotate(
    db: &impl ConnectionTrait,
    current: &RefreshToken,
    presented: &str,
    now: i64,
    expires_at: i64,
) -> Result<Option<String>, StoreError> {
    let successor = random_token();
    let new = NewRefresh {
        grant_id: &current.grant_id,
        client_id: &current.client_id,
        scope: &current.scope,
        expires_at,
    };
    let parent = (current.token_hash.as_str(), presented);
    match insert(db, &successor, &new, Some(parent), now).await {
        Ok(()) => Ok(Some(successor)),
        Err(StoreError::Db(err))
            if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Drops tokens whose lifetime ended long ago (the grant records any revocation).
pub async fn purge_expired(db: &impl ConnectionTrait, before: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(before))
        .exec(db)
        .await?
        .rows_affected)
}
