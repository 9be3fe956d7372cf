//! Remembered consent: which scopes a user has allowed a client.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

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
