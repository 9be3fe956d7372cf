//! `gatehouse user …`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, CliError};
use crate::auth::password;
use crate::config::Config;
use crate::store::users::{self, NewUser};
use crate::store::{audit, recovery_codes};
use sea_orm::TransactionTrait;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (the password is prompted for, or read from stdin).
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Full name (the `name` claim).
        #[arg(long)]
        name: Option<String>,
        /// Phone number (the `phone_number` claim).
        #[arg(long)]
        phone: Option<String>,
        /// Postal address as one line (the `address` claim's `formatted`).
        #[arg(long)]
        address: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set whether the user must use a second factor (overrides GATEHOUSE_MFA_POLICY).
    SetMfa {
        username: String,
        #[arg(value_parser = ["optional", "required"])]
        policy: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove the user's authenticator and recovery codes (a lost device).
    ResetMfa {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop the user from signing in and revoke everything issued to them.
    Disable {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a disabled user sign in again.
    Enable {
        username: String,
        #[arg(long)]
        json: bool,
    },
}

async fn existing(
    db: &sea_orm::DatabaseConnection,
    username: &str,
) -> Result<users::User, CliError> {
    users::find_by_username(db, username)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no user '{username}'")))
}

fn report(json: bool, user: &users::User, action: &str) -> Result<(), CliError> {
    if json {
        print_json(&json!({ "username": user.username, "id": user.id, "done": action }))
    } else {
        crate::say!("{action}: {}", user.username);
        Ok(())
    }
}

/// NIST SP 800-63B §5.1.1.2: at least 8 characters; a generous upper bound.
pub fn check_password(password: &str) -> Result<(), CliError> {
    let len = password.chars().count();
    if len < 8 {
        return Err(CliError::Usage(
            "the password must have at least 8 characters".into(),
        ));
    }
    if len > 1024 {
        return Err(CliError::Usage(
            "the password must have at most 1024 characters".into(),
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), CliError> {
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "'{email}' is not an email address"
        )))
    }
}

/// Reads one line of standard input without its line ending.
pub fn read_stdin_line() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_password(from_stdin: bool) -> Result<String, CliError> {
    if from_stdin {
        return read_stdin_line();
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "no terminal to prompt for the password: pass --password-stdin".into(),
        ));
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| CliError::Usage(format!("cannot read the password: {e}")))?;
    let second = rpassword::prompt_password("Repeat password: ")
        .map_err(|e| CliError::Usage(format!("cannot read the password: {e}")))?;
    if first != second {
        return Err(CliError::Usage("the passwords do not match".into()));
    }
    Ok(first)
}

pub async fn run(config: &Config, command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Add {
            username,
            email,
            name,
            phone,
            address,
            password_stdin,
            json,
        } => {
            let username = users::normalize_username(&username).map_err(CliError::Usage)?;
            if let Some(email) = &email {
                check_email(email)?;
            }
            let password = read_password(password_stdin)?;
            check_password(&password)?;
            let hash = tokio::task::spawn_blocking(move || password::hash_blocking(&password))
                .await
                .map_err(anyhow::Error::from)??;
            let db = open_db(config).await?;
            let now = crate::clock::Clock::system().now();
            let user = users::create(
                &db,
                NewUser {
                    username,
                    email,
                    name,
                    phone_number: phone,
                    address,
                    password_hash: Some(hash),
                },
                now,
            )
            .await?;
            if json {
                print_json(&json!({
                    "id": user.id,
                    "username": user.username,
                    "email": user.email,
                    "name": user.name,
                }))?;
            } else {
                crate::say!("created user {} (sub {})", user.username, user.id);
            }
            Ok(())
        }
        UserCommand::SetMfa {
            username,
            policy,
            json,
        } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            users::set_mfa_policy(&db, &user.id, Some(&policy), now).await?;
            report(json, &user, &format!("second factor {policy}"))
        }
        UserCommand::ResetMfa { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let txn = db.begin().await?;
            users::clear_totp(&txn, &user.id, now).await?;
            recovery_codes::remove_all(&txn, &user.id).await?;
            txn.commit().await?;
            audit_cli(&db, "mfa_reset", &user, now).await?;
            report(json, &user, "second factor removed")
        }
        UserCommand::Disable { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let notices = crate::domain::users::disable(&db, &user.id, now).await?;
            audit_cli(&db, "user_disabled", &user, now).await?;
            if !notices.is_empty() {
                // Clients that registered for back-channel logout hear of it now.
                let keyset = super::keys::keyset(config, &db).await?;
                crate::domain::backchannel::deliver(&keyset, &config.issuer, notices, now).await;
            }
            report(json, &user, "disabled")
        }
        UserCommand::Enable { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            users::set_disabled(&db, &user.id, false, now).await?;
            audit_cli(&db, "user_enabled", &user, now).await?;
            report(json, &user, "enabled")
        }
    }
}

async fn audit_cli(
    db: &sea_orm::DatabaseConnection,
    kind: &str,
    user: &users::User,
    now: i64,
) -> Result<(), CliError> {
    audit::record(
        db,
        audit::Event {
            kind,
            user_id: Some(&user.id),
            detail: Some("command line"),
            ..Default::default()
        },
        now,
    )
    .await?;
    Ok(())
}
