//! Failed-attempt counters in the database, so throttling holds across nodes.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::throttles::{self, Column, Entity};
use super::StoreError;

pub use throttles::Model as Throttle;

pub async fn find(db: &impl ConnectionTrait, key: &str) -> Result<Option<Throttle>, StoreError> {
    Ok(Entity::find_by_id(key.to_string()).one(db).await?)
}

/// Counts a failure: one statement (insert or increment) on both databases, so
/// concurrent failures on several nodes all count. Returns the row after it.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    now: i64,
) -> Result<Throttle, StoreError> {
    Entity::insert(throttles::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(1),
        window_started_at: Set(now),
        locked_until: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .value(
                Column::Failures,
                Expr::col((Entity, Column::Failures)).add(1),
            )
            .value(Column::UpdatedAt, Expr::value(now))
            .to_owned(),
    )
    .exec(db)
    .await?;
    find(db, key)
        .await?
        .ok_or_else(|| StoreError::Db(sea_orm::DbErr::RecordNotFound(key.to_string())))
}

pub async fn lock_until(
    db: &impl ConnectionTrait,
    key: &str,
    until: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(until))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a key's failures (a success, or a window that went quiet).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), StoreError> {
    Entity::delete_many()
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
