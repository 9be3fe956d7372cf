//! Grants (token families): one per successful authorization. Codes and tokens
//! belong to a grant; revoking it ends them all.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::grants::{self, Column, Entity};
use super::StoreError;

pub use grants::Model as Grant;

pub struct NewGrant<'a> {
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub session_id: Option<&'a str>,
    pub scope: &'a str,
    pub auth_time: i64,
    /// How the user authenticated (RFC 8176 values) and the resulting level.
    pub amr: &'a [String],
    pub acr: Option<&'a str>,
    /// The `claims` request parameter, normalized JSON.
    pub claims: Option<&'a str>,
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewGrant<'_>,
    now: i64,
    ttl: i64,
) -> Result<Grant, StoreError> {
    Ok(grants::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(new.user_id.to_string()),
        client_id: Set(new.client_id.to_string()),
        session_id: Set(new.session_id.map(str::to_string)),
        scope: Set(new.scope.to_string()),
        auth_time: Set(new.auth_time),
        amr: Set(super::to_json_list(new.amr)),
        acr: Set(new.acr.map(str::to_string)),
        claims: Set(new.claims.map(str::to_string)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        revoke_reason: Set(None),
    }
    .insert(db)
    .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Grant>, StoreError> {
    Ok(Entity::find_by_id(id.to_string()).one(db).await?)
}

/// Revokes a grant (idempotent: the first reason is kept).
pub async fn revoke(
    db: &impl ConnectionTrait,
    id: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::RevokeReason, Expr::value(reason))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every live grant of a user (account disabled).
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<u64, StoreError> {
    Ok(Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::RevokeReason, Expr::value(reason))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Every grant issued in a browser session.
pub async fn for_session(
    db: &impl ConnectionTrait,
    session_id: &str,
) -> Result<Vec<Grant>, StoreError> {
    Ok(Entity::find()
        .filter(Column::SessionId.eq(session_id))
        .all(db)
        .await?)
}
