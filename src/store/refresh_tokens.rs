//! Refresh-token chains: rotation on every use, atomically, on both databases.

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, Set, SqlErr,
};

use super::entities::grants;
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

/// Rotates `presented` only if everything that allows it holds, checked and done in
/// one statement (INSERT … SELECT … RETURNING): the token is `client_id`'s, unused
/// and unexpired; its grant is neither revoked nor expired; the grant's user is
/// enabled; and the grant's browser session is live unless the token carries
/// offline_access (OIDC Core §11). Returns the successor's row and the successor.
/// None means one of these failed, or a concurrent request rotated first: the
/// caller then reads the token to learn which.
pub async fn rotate_if_usable(
    db: &impl ConnectionTrait,
    presented: &str,
    client_id: &str,
    now: i64,
    idle_ttl: i64,
) -> Result<Option<(RefreshToken, String)>, StoreError> {
    let successor = random_token();
    let token = |c: Column| Expr::col((Entity, c));
    let grant = |c: grants::Column| Expr::col((grants::Entity, c));
    // `scope` is space-separated; '_' is a LIKE wildcard, hence the escape.
    let offline = [
        "offline\\_access",
        "offline\\_access %",
        "% offline\\_access",
        "% offline\\_access %",
    ]
    .into_iter()
    .fold(Condition::any(), |any, pattern| {
        any.add(token(Column::Scope).like(LikeExpr::new(pattern).escape('\\')))
    });
    let idle_expiry = now + idle_ttl;
    let select = Query::select()
        .expr(Expr::val(hash_token(&successor)))
        .expr(token(Column::GrantId))
        .expr(token(Column::ClientId))
        .expr(token(Column::Scope))
        .expr(token(Column::TokenHash))
        .expr(Expr::val(now))
        // The successor lives at most as long as its grant.
        .expr(
            Expr::case(
                grant(grants::Column::ExpiresAt).lt(idle_expiry),
                grant(grants::Column::ExpiresAt),
            )
            .finally(Expr::val(idle_expiry)),
        )
        .expr(Expr::val(seal_with_token(presented, &successor)))
        .from(Entity)
        .inner_join(
            grants::Entity,
            grant(grants::Column::Id).equals((Entity, Column::GrantId)),
        )
        .cond_where(
            Condition::all()
                .add(token(Column::TokenHash).eq(hash_token(presented)))
                .add(token(Column::ClientId).eq(client_id))
                .add(token(Column::ExpiresAt).gt(now))
                .add(token(Column::UsedAt).is_null())
                .add(grant(grants::Column::RevokedAt).is_null())
                .add(grant(grants::Column::ExpiresAt).gt(now))
                .add(super::grants::user_is_enabled())
                .add(
                    Condition::any()
                        .add(super::grants::session_is_live(now))
                        .add(offline),
                ),
        )
        .to_owned();
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::TokenHash,
            Column::GrantId,
            Column::ClientId,
            Column::Scope,
            Column::ParentHash,
            Column::IssuedAt,
            Column::ExpiresAt,
            Column::SealedByParent,
        ])
        .select_from(select)
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .returning_all()
        .to_owned();
    let statement = db.get_database_backend().build(&insert);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => Ok(Some((
            RefreshToken::from_query_result(&row, "")?,
            successor,
        ))),
        Ok(None) => Ok(None),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(err) => Err(err.into()),
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
