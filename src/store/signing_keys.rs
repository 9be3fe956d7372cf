//! Signing keys as stored: kid, algorithm, lifecycle state, PEM private key, public JWK.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::signing_keys::{self, Column, Entity};
use super::StoreError;

pub use signing_keys::Model as StoredKey;

pub const STATE_NEXT: &str = "next";
pub const STATE_CURRENT: &str = "current";
pub const STATE_RETIRED: &str = "retired";

pub async fn insert(db: &impl ConnectionTrait, key: StoredKey) -> Result<(), StoreError> {
    signing_keys::ActiveModel::from(key)
        .reset_all()
        .insert(db)
        .await?;
    Ok(())
}

/// Every key that is published in the JWKS, oldest first.
pub async fn published(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, StoreError> {
    Ok(Entity::find()
        .filter(Column::State.is_in([STATE_NEXT, STATE_CURRENT, STATE_RETIRED]))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Kid)
        .all(db)
        .await?)
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StoredKey>, StoreError> {
    Ok(Entity::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Kid)
        .all(db)
        .await?)
}
