//! Authorization codes: opaque, single use, short-lived; only their hash is stored.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::authorization_codes::{self, Column, Entity};
use super::StoreError;
use crate::secrets::{hash_token, random_token};

pub use authorization_codes::Model as AuthorizationCode;

pub struct NewCode<'a> {
    pub grant_id: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub code_challenge: &'a str,
}

/// Stores a new code and returns it in the clear (the only time it exists so).
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewCode<'_>,
    now: i64,
    ttl: i64,
) -> Result<String, StoreError> {
    let code = random_token();
    authorization_codes::ActiveModel {
        code_hash: Set(hash_token(&code)),
        grant_id: Set(new.grant_id.to_string()),
        client_id: Set(new.client_id.to_string()),
        redirect_uri: Set(new.redirect_uri.to_string()),
        scope: Set(new.scope.to_string()),
        nonce: Set(new.nonce.map(str::to_string)),
        code_challenge: Set(new.code_challenge.to_string()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        consumed_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(code)
}

pub async fn find(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<AuthorizationCode>, StoreError> {
    Ok(Entity::find_by_id(hash_token(code)).one(db).await?)
}

/// Consumes a code atomically: of any number of concurrent callers exactly one
/// gets `true` (a guarded update, the same on SQLite and PostgreSQL).
pub async fn consume(
    db: &impl ConnectionTrait,
    code_hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::ConsumedAt, Expr::value(now))
        .filter(Column::CodeHash.eq(code_hash))
        .filter(Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Drops codes past their expiry; their grants stay (revocation is recorded there).
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
