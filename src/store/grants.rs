//! Grants (token families): one per successful authorization. Codes and tokens
//! belong to a grant; revoking it ends them all.

use sea_orm::sea_query::{Expr, Query};
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

/// The grant if it may mint tokens now, in one statement: live, its user enabled,
/// and, when `session_required`, its browser session live. None says only that one
/// of these fails; [`find_with_context`] tells which.
pub async fn find_usable(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
    session_required: bool,
) -> Result<Option<Grant>, StoreError> {
    let enabled_users = Query::select()
        .column(users::Column::Id)
        .from(users::Entity)
        .and_where(users::Column::Disabled.eq(false))
        .to_owned();
    let mut select = Entity::find_by_id(id.to_string())
        .filter(Column::RevokedAt.is_null())
        .filter(Column::ExpiresAt.gt(now))
        .filter(Column::UserId.in_subquery(enabled_users));
    if session_required {
        let live_sessions = Query::select()
            .column(sessions::Column::Id)
            .from(sessions::Entity)
            .and_where(sessions::Column::RevokedAt.is_null())
            .and_where(sessions::Column::ExpiresAt.gt(now))
            .to_owned();
        select = select.filter(Column::SessionId.in_subquery(live_sessions));
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
