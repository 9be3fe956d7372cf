//! Grants (token families): one per successful authorization. Codes and tokens
//! belong to a grant; revoking it ends them all.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::grants::{self, Column, Entity};
use super::entities::{sessions, users};
use super::sessions::Session;
use super::users::User;
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

/// Grants as the token endpoint issues from them. Every column but revoked_at and
/// revoke_reason is fixed when a grant is created, and whether a grant may still be
/// used is checked in the database on every use, so a node may keep a copy for as
/// long as it runs (up to a bound).
#[derive(Default)]
pub struct GrantCache {
    entries: std::sync::Mutex<HashMap<String, Arc<Grant>>>,
}

/// Grants kept before the cache starts over (a few hundred bytes each).
const GRANT_CACHE_ENTRIES: usize = 10_000;

impl GrantCache {
    /// The grant's fixed columns (its revocation state may be stale: never use it
    /// to decide whether the grant is live).
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        id: &str,
    ) -> Result<Option<Arc<Grant>>, StoreError> {
        if let Some(hit) = self.lock().get(id) {
            return Ok(Some(hit.clone()));
        }
        let Some(grant) = find(db, id).await?.map(Arc::new) else {
            return Ok(None);
        };
        let mut entries = self.lock();
        if entries.len() >= GRANT_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(id.to_string(), grant.clone());
        Ok(Some(grant))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Grant>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A grant with what decides whether it may still be used: its user and its browser
/// session, read in one statement (token and resource endpoints check all three on
/// every call).
pub struct GrantContext {
    pub grant: Grant,
    pub user: Option<User>,
    pub session: Option<Session>,
}

impl GrantContext {
    /// Not revoked and within its absolute lifetime.
    pub fn grant_is_live(&self, now: i64) -> bool {
        self.grant.revoked_at.is_none() && now < self.grant.expires_at
    }

    /// The user exists and may sign in.
    pub fn user_is_enabled(&self) -> bool {
        self.user.as_ref().is_some_and(|u| !u.disabled)
    }

    /// The session the grant was issued in is neither ended nor expired.
    pub fn session_is_live(&self, now: i64) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.revoked_at.is_none() && now < s.expires_at)
    }
}

/// The user of a grant that is live at `now` (not revoked, within its lifetime), in
/// one statement; None when the grant is not live or has no such user.
pub async fn live_user(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
) -> Result<Option<User>, StoreError> {
    Ok(users::Entity::find()
        .inner_join(Entity)
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// SQL: the grant's user exists and is enabled (a key look-up per grant row).
pub(crate) fn user_is_enabled() -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(users::Entity)
            .and_where(
                Expr::col((users::Entity, users::Column::Id)).equals((Entity, Column::UserId)),
            )
            .and_where(Expr::col((users::Entity, users::Column::Disabled)).eq(false))
            .to_owned(),
    )
}

/// SQL: the grant's browser session is neither ended nor expired at `now`.
pub(crate) fn session_is_live(now: i64) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(sessions::Entity)
            .and_where(
                Expr::col((sessions::Entity, sessions::Column::Id))
                    .equals((Entity, Column::SessionId)),
            )
            .and_where(Expr::col((sessions::Entity, sessions::Column::RevokedAt)).is_null())
            .and_where(Expr::col((sessions::Entity, sessions::Column::ExpiresAt)).gt(now))
            .to_owned(),
    )
}

/// The grant if it may mint tokens now, in one statement: live, its user enabled,
/// and, when `session_required`, its browser session live. None says only that one
/// of these fails; [`find_with_context`] tells which.
pub async fn find_usable(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
    session_required: bool,
) -> Result<Option<Grant>, StoreError> {
    let mut select = Entity::find_by_id(id.to_string())
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .filter(user_is_enabled());
    if session_required {
        select = select.filter(session_is_live(now));
    }
    Ok(select.one(db).await?)
}

pub async fn find_with_context(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<GrantContext>, StoreError> {
    Ok(Entity::find_by_id(id.to_string())
        .find_also_related(users::Entity)
        .find_also_related(sessions::Entity)
        .one(db)
        .await?
        .map(|(grant, user, session)| GrantContext {
            grant,
            user,
            session,
        }))
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

/// A user's live grants (the applications they are connected to), newest first.
pub async fn live_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<Grant>, StoreError> {
    use sea_orm::QueryOrder;
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .order_by_desc(Column::CreatedAt)
        .all(db)
        .await?)
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
