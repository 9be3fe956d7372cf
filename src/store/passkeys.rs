//! Passkeys: a user's WebAuthn credentials, their signature counters and flags.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::entities::passkeys::{self, Column, Entity};
use super::{conflict, StoreError};

pub use passkeys::Model as Passkey;

pub struct NewPasskey {
    pub user_id: String,
    pub credential_id: String,
    pub name: String,
    pub credential: String,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub user_verified: bool,
}

/// Stores a new passkey; `Conflict` when its credential id is registered already.
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewPasskey,
    now: i64,
) -> Result<Passkey, StoreError> {
    passkeys::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(new.user_id),
        credential_id: Set(new.credential_id),
        name: Set(new.name),
        credential: Set(new.credential),
        sign_count: Set(i64::from(new.sign_count)),
        backup_eligible: Set(new.backup_eligible),
        backed_up: Set(new.backed_up),
        user_verified: Set(new.user_verified),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| conflict(e, "passkey"))
}

/// A user's passkeys, oldest first.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<Passkey>, StoreError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

pub async fn count_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .count(db)
        .await?)
}

pub async fn find_by_credential_id(
    db: &impl ConnectionTrait,
    credential_id: &str,
) -> Result<Option<Passkey>, StoreError> {
    Ok(Entity::find()
        .filter(Column::CredentialId.eq(credential_id))
        .one(db)
        .await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
) -> Result<Option<Passkey>, StoreError> {
    Ok(Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .filter(|p| p.user_id == user_id))
}

/// What one successful use of a passkey changes.
pub struct Use {
    pub credential: String,
    pub sign_count: u32,
    pub backed_up: bool,
    pub user_verified: bool,
}

/// Records a use, if the stored counter is still the one the check compared
/// against: of two concurrent uses with the same counter only one is recorded.
pub async fn record_use(
    db: &impl ConnectionTrait,
    passkey: &Passkey,
    used: Use,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::Credential, Expr::value(used.credential))
        .col_expr(Column::SignCount, Expr::value(i64::from(used.sign_count)))
        .col_expr(Column::BackedUp, Expr::value(used.backed_up))
        .col_expr(Column::UserVerified, Expr::value(used.user_verified))
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.eq(&passkey.id))
        .filter(Column::SignCount.eq(passkey.sign_count))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn rename(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn remove(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

pub async fn remove_all(db: &impl ConnectionTrait, user_id: &str) -> Result<u64, StoreError> {
    let deleted = Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
