//! Users: people who sign in.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};

use super::entities::users::{self, Column, Entity};
use super::{conflict, StoreError};

pub use users::Model as User;

pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
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
        phone_number: Set(new.phone_number),
        phone_number_verified: Set(false),
        address: Set(new.address),
        password_hash: Set(new.password_hash),
        disabled: Set(false),
        totp_secret: Set(None),
        totp_last_step: Set(None),
        mfa_policy: Set(None),
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

/// The users (at most `limit`) whose address is `email`, compared without case.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
    limit: u64,
) -> Result<Vec<User>, StoreError> {
    use sea_orm::QuerySelect;
    Ok(Entity::find()
        .filter(sea_orm::sea_query::ExprTrait::eq(
            Func::lower(Expr::col(Column::Email)),
            email.trim().to_lowercase(),
        ))
        .limit(limit)
        .all(db)
        .await?)
}

/// Marks the address verified, if it is still `email`; false otherwise.
pub async fn set_email_verified(
    db: &impl ConnectionTrait,
    id: &str,
    email: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::EmailVerified, Expr::value(true))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Email.eq(email))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<User>, StoreError> {
    Ok(Entity::find_by_id(id.to_string()).one(db).await?)
}

/// The users with these ids (unknown ids are skipped).
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<Vec<User>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find().filter(Column::Id.is_in(ids)).all(db).await?)
}

/// Stores a confirmed TOTP secret (sealed) and the step its confirmation used.
pub async fn set_totp(
    db: &impl ConnectionTrait,
    id: &str,
    sealed_secret: &str,
    step: i64,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::TotpSecret, Expr::value(sealed_secret))
        .col_expr(Column::TotpLastStep, Expr::value(step))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes the second factor (the recovery codes go with it, see recovery_codes).
pub async fn clear_totp(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Accepts a TOTP time step once (RFC 6238 §5.2): the guarded update lets one of
/// any number of concurrent uses of the same code through, and none of an older one.
pub async fn accept_totp_step(
    db: &impl ConnectionTrait,
    id: &str,
    step: i64,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::TotpLastStep, Expr::value(step))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::TotpLastStep.is_null())
                .add(Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn set_mfa_policy(
    db: &impl ConnectionTrait,
    id: &str,
    policy: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::MfaPolicy, Expr::value(policy.map(str::to_string)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_disabled(
    db: &impl ConnectionTrait,
    id: &str,
    disabled: bool,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::Disabled, Expr::value(disabled))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The profile values an administrator edits.
pub struct Profile {
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
}

/// Writes the profile if the user is still as read (`read_at` is the updated_at it
/// had); false if it changed or went meanwhile.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    id: &str,
    read_at: i64,
    profile: Profile,
    now: i64,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::Email, Expr::value(profile.email))
        .col_expr(Column::EmailVerified, Expr::value(profile.email_verified))
        .col_expr(Column::Name, Expr::value(profile.name))
        .col_expr(Column::PhoneNumber, Expr::value(profile.phone_number))
        .col_expr(Column::Address, Expr::value(profile.address))
        // Strictly later, so that a second change is told apart from the first.
        .col_expr(Column::UpdatedAt, Expr::value(now.max(read_at + 1)))
        .filter(Column::Id.eq(id))
        .filter(Column::UpdatedAt.eq(read_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Deletes a user; grants, sessions, consents, codes and memberships go with it
/// (ON DELETE CASCADE). False if unknown.
pub async fn remove(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    let result = Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(result.rows_affected > 0)
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find().count(db).await?)
}

/// One page of users by username, after `after`, whose username, email or name
/// contains `q` (any case). One more than `limit` is read to tell whether more follow.
pub async fn page(
    db: &impl ConnectionTrait,
    q: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<User>, bool), StoreError> {
    use sea_orm::sea_query::{ExprTrait, Func, LikeExpr};
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = Entity::find().order_by_asc(Column::Username);
    if let Some(after) = after {
        query = query.filter(Column::Username.gt(after));
    }
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        // LIKE wildcards in the search are searched for, not expanded.
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
        let lower = |col: Column| Expr::expr(Func::lower(Expr::col(col)));
        query = query.filter(
            Condition::any()
                .add(lower(Column::Username).like(pattern()))
                .add(lower(Column::Email).like(pattern()))
                .add(lower(Column::Name).like(pattern())),
        );
    }
    let mut found = query.limit(limit + 1).all(db).await?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    Ok((found, more))
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
