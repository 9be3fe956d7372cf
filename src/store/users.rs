//! Users: people who sign in.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::users::{self, Column, Entity};
use super::{conflict, StoreError};

pub use users::Model as User;

pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
}

/// Usernames compare case-insensitively: they are stored folded to lower case.
pub fn normalize_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() || name.chars().count() > 64 {
        return Err("a username has 1 to 64 characters".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a username has no spaces or control characters".into());
    }
    Ok(name)
}

pub async fn create(db: &impl ConnectionTrait, new: NewUser, now: i64) -> Result<User, StoreError> {
    let username = new.username.clone();
    users::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        username: Set(new.username),
        email: Set(new.email),
        email_verified: Set(false),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict(e, format!("user '{username}'")))
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<User>, StoreError> {
    let Ok(username) = normalize_username(username) else {
        return Ok(None);
    };
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<User>, StoreError> {
    Ok(Entity::find_by_id(id.to_string()).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::normalize_username;

    #[test]
    fn usernames_fold_case_and_refuse_blanks() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username(&"x".repeat(65)).is_err());
    }
}
