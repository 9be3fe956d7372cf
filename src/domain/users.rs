//! Account operations shared by the command line and the web.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::Refusal;
use crate::auth::mfa::{Factors, MfaPolicy};
use crate::domain::backchannel::Notice;
use crate::domain::sessions;
use crate::store::users::{NewUser, User};
use crate::store::{passkeys, recovery_codes, users, StoreError};

/// Disables the user: no more sign-ins, every session ended and every grant
/// revoked, all in one transaction (or nothing). Returns the back-channel logout
/// notices the caller delivers.
pub async fn disable(
    db: &DatabaseConnection,
    user_id: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    let txn = db.begin().await?;
    let notices = disable_in(&txn, user_id, now).await?;
    txn.commit().await?;
    Ok(notices)
}

/// `disable`, inside the caller's transaction.
async fn disable_in(
    txn: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<Notice>, StoreError> {
    users::set_disabled(txn, user_id, true, now).await?;
    sessions::end_all_in(txn, user_id, "user disabled", now).await
}

/// Whether a string can be an email address (one `@`, a dot in the domain, no
/// spaces); delivery proves the rest.
pub fn check_email(email: &str) -> Result<(), Refusal> {
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace)
        && email.len() <= 320;
    if valid {
        Ok(())
    } else {
        Err(Refusal::invalid(
            "email",
            format!("'{email}' is not an email address"),
        ))
    }
}

/// The password rule of every way of setting one (NIST SP 800-63B §5.1.1.2).
pub fn check_password(password: &str) -> Result<(), Refusal> {
    crate::auth::password::check_policy(password).map_err(|m| Refusal::invalid("password", m))
}

/// A password someone sets (an administrator, a reset or invitation link, a
/// sign-up): the rule of every password, then its argon2id hash.
pub async fn hash_new_password(
    passwords: &crate::auth::password::Passwords,
    password: &str,
) -> Result<String, Refusal> {
    check_password(password)?;
    passwords.hash(password).await.map_err(|e| {
        Refusal::Store(sea_orm::DbErr::Custom(format!("password hashing: {e}")).into())
    })
}

/// One-line profile values: no control characters, a sane length.
fn check_text(field: &'static str, value: &Option<String>) -> Result<(), Refusal> {
    match value {
        Some(v) if v.chars().count() > 512 || v.chars().any(char::is_control) => Err(
            Refusal::invalid(field, "at most 512 characters, and no control characters"),
        ),
        _ => Ok(()),
    }
}

/// A new account; `password_hash` None: no password until one is set.
pub struct NewAccount {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub password_hash: Option<String>,
}

/// Creates a user; the username is case-folded and must be free.
pub async fn create(db: &impl ConnectionTrait, new: NewAccount, now: i64) -> Result<User, Refusal> {
    let username =
        users::normalize_username(&new.username).map_err(|m| Refusal::invalid("username", m))?;
    if let Some(email) = &new.email {
        check_email(email)?;
    }
    check_text("name", &new.name)?;
    check_text("phone_number", &new.phone_number)?;
    check_text("address", &new.address)?;
    Ok(users::create(
        db,
        NewUser {
            username,
            email: new.email,
            name: new.name,
            phone_number: new.phone_number,
            address: new.address,
            password_hash: new.password_hash,
        },
        now,
    )
    .await?)
}

/// Changes to a user's profile and standing; None leaves a value as it is, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Default)]
pub struct Changes {
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub name: Option<Option<String>>,
    pub phone_number: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub mfa_policy: Option<Option<MfaPolicy>>,
    pub disabled: Option<bool>,
}

/// Applies `changes` in one transaction. Disabling ends every session and grant (as
/// `disable`); the notices returned are for the caller to deliver.
pub async fn update(
    db: &DatabaseConnection,
    user: &User,
    changes: Changes,
    now: i64,
) -> Result<(User, Vec<Notice>), Refusal> {
    if let Some(Some(email)) = &changes.email {
        check_email(email)?;
    }
    for (field, value) in [
        ("name", &changes.name),
        ("phone_number", &changes.phone_number),
        ("address", &changes.address),
    ] {
        if let Some(value) = value {
            check_text(field, value)?;
        }
    }
    let txn = db.begin().await?;
    let written = users::update_profile(
        &txn,
        &user.id,
        user.updated_at,
        users::Profile {
            email: changes.email.clone().unwrap_or_else(|| user.email.clone()),
            // A new address is not verified, whatever it replaced.
            email_verified: changes.email_verified.unwrap_or(
                user.email_verified
                    && changes
                        .email
                        .as_ref()
                        .is_none_or(|e| e.as_deref() == user.email.as_deref()),
            ),
            name: changes.name.unwrap_or_else(|| user.name.clone()),
            phone_number: changes
                .phone_number
                .unwrap_or_else(|| user.phone_number.clone()),
            address: changes.address.unwrap_or_else(|| user.address.clone()),
        },
        now,
    )
    .await?;
    if !written {
        return Err(Refusal::Stale(format!(
            "user '{}' changed or went meanwhile: read it again",
            user.username
        )));
    }
    // What follows stamps the same, later, time.
    let now = now.max(user.updated_at + 1);
    if let Some(policy) = changes.mfa_policy {
        users::set_mfa_policy(&txn, &user.id, policy.map(MfaPolicy::as_str), now).await?;
    }
    let mut notices = Vec::new();
    match changes.disabled {
        Some(true) if !user.disabled => notices = disable_in(&txn, &user.id, now).await?,
        Some(false) if user.disabled => users::set_disabled(&txn, &user.id, false, now).await?,
        _ => {}
    }
    let updated = users::find(&txn, &user.id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no user '{}'", user.id)))?;
    txn.commit().await?;
    Ok((updated, notices))
}

/// Sets a new password (already hashed) and ends the user's sessions and grants:
/// whoever knew the old one is signed out.
pub async fn set_password(
    db: &DatabaseConnection,
    user: &User,
    hash: &str,
    now: i64,
) -> Result<Vec<Notice>, Refusal> {
    let txn = db.begin().await?;
    users::set_password_hash(&txn, &user.id, hash, now).await?;
    let notices =
        sessions::end_all_in(&txn, &user.id, "password set by an administrator", now).await?;
    txn.commit().await?;
    Ok(notices)
}

/// Removes every second factor of the user, authenticator app, passkeys and
/// recovery codes (a lost device).
pub async fn reset_mfa(db: &DatabaseConnection, user: &User, now: i64) -> Result<(), Refusal> {
    let txn = db.begin().await?;
    users::clear_totp(&txn, &user.id, now).await?;
    passkeys::remove_all(&txn, &user.id).await?;
    recovery_codes::remove_all(&txn, &user.id).await?;
    txn.commit().await?;
    Ok(())
}

/// Turns off the user's authenticator app, unless it is the last second factor
/// of a user whose policy requires one. The recovery codes go with the last factor.
pub async fn remove_totp(
    db: &DatabaseConnection,
    user: &User,
    required: bool,
    now: i64,
) -> Result<(), Refusal> {
    let factors = Factors::of(db, user).await?;
    if !factors.totp {
        return Ok(());
    }
    if !factors.may_remove_one(required) {
        return Err(Refusal::Conflict(
            "this is the account's last second factor, and its policy requires one".into(),
        ));
    }
    let txn = db.begin().await?;
    users::clear_totp(&txn, &user.id, now).await?;
    if factors.passkeys == 0 {
        recovery_codes::remove_all(&txn, &user.id).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes the user: sessions end (with back-channel notices), and grants, consents
/// and memberships go with the row.
pub async fn remove(
    db: &DatabaseConnection,
    user: &User,
    now: i64,
) -> Result<Vec<Notice>, Refusal> {
    let txn = db.begin().await?;
    let notices = sessions::end_all_in(&txn, &user.id, "user removed", now).await?;
    users::remove(&txn, &user.id).await?;
    txn.commit().await?;
    Ok(notices)
}
