//! Remembered consent: which scopes a user has allowed a client.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::consents::{self, Column, Entity};
use super::StoreError;

/// The scopes the user has granted this client, if any.
pub async fn granted_scopes(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        Entity::find_by_id((user_id.to_string(), client_id.to_string()))
            .one(db)
            .await?
            .map(|c| c.scope),
    )
}

/// Records (or widens) consent; one statement on both databases.
pub async fn remember(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), StoreError> {
    Entity::insert(consents::ActiveModel {
        user_id: Set(user_id.to_string()),
        client_id: Set(client_id.to_string()),
        scope: Set(scope.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::ClientId])
            .update_columns([Column::Scope, Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Forgets the user's consent to the client: it asks again next time.
pub async fn forget(
    db: &impl ConnectionTrait,
    user_id: &str,
    client_id: &str,
) -> Result<bool, StoreError> {
    let deleted = Entity::delete_by_id((user_id.to_string(), client_id.to_string()))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Every consent the user has given: (client_id, scope, since).
pub async fn for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.client_id, c.scope, c.created_at))
        .collect())
}
