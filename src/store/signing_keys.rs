//! Signing keys as stored, and the guarded writes that move them through their
//! lifecycle: of several nodes attempting the same transition, exactly one succeeds.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, SqlErr, TransactionTrait,
};

use super::entities::signing_keys::{self, Column, Entity};
use super::StoreError;

pub use signing_keys::Model as StoredKey;

pub const STATE_NEXT: &str = "next";
pub const STATE_CURRENT: &str = "current";
pub const STATE_RETIRED: &str = "retired";
pub const STATE_REMOVED: &str = "removed";

/// Inserts a key; `false` when another node created that generation first.
pub async fn create(db: &impl ConnectionTrait, key: StoredKey) -> Result<bool, StoreError> {
    match signing_keys::ActiveModel::from(key)
        .reset_all()
        .insert(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// Every key, oldest first (removed ones too, for `keys list`).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, StoreError> {
    Ok(Entity::find()
        .order_by_asc(Column::Alg)
        .order_by_asc(Column::Generation)
        .all(db)
        .await?)
}

/// Whether the database holds any key (sealed with some master key).
pub async fn any(db: &impl ConnectionTrait) -> Result<bool, StoreError> {
    Ok(Entity::find().one(db).await?.is_some())
}

/// `next_kid` becomes current and `current_kid` (if any) retires, together.
pub async fn promote(
    db: &DatabaseConnection,
    next_kid: &str,
    current_kid: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let promoted = Entity::update_many()
        .col_expr(Column::State, Expr::value(STATE_CURRENT))
        .col_expr(Column::ActivatesAt, Expr::value(now))
        .filter(Column::Kid.eq(next_kid))
        .filter(Column::State.eq(STATE_NEXT))
        .exec(&txn)
        .await?;
    if promoted.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    if let Some(current) = current_kid {
        Entity::update_many()
            .col_expr(Column::State, Expr::value(STATE_RETIRED))
            .col_expr(Column::RetiresAt, Expr::value(now))
            .filter(Column::Kid.eq(current))
            .filter(Column::State.eq(STATE_CURRENT))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Takes a key out of the JWKS for good and erases its private half.
pub async fn remove(db: &impl ConnectionTrait, kid: &str) -> Result<bool, StoreError> {
    let removed = Entity::update_many()
        .col_expr(Column::State, Expr::value(STATE_REMOVED))
        .col_expr(Column::PrivateKey, Expr::value(""))
        .filter(Column::Kid.eq(kid))
        .filter(Column::State.ne(STATE_REMOVED))
        .exec(db)
        .await?;
    Ok(removed.rows_affected == 1)
}
