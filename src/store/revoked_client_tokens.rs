//! Revoked client_credentials access tokens, by jti, until they expire.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::revoked_client_tokens::{self, Column, Entity};
use super::StoreError;

/// Lists `jti` as revoked (again is fine).
pub async fn revoke(
    db: &impl ConnectionTrait,
    jti: &str,
    client_id: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    Entity::insert(revoked_client_tokens::ActiveModel {
        jti: Set(jti.to_string()),
        client_id: Set(client_id.to_string()),
        expires_at: Set(expires_at),
    })
    .on_conflict(OnConflict::column(Column::Jti).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn is_revoked(db: &impl ConnectionTrait, jti: &str) -> Result<bool, StoreError> {
    Ok(Entity::find_by_id(jti.to_string()).one(db).await?.is_some())
}

/// Drops the rows of tokens that have expired anyway.
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
