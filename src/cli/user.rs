//! `gatehouse user …`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, CliError};
use crate::auth::password;
use crate::config::Config;
use crate::store::{passkeys, users};

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
        /// Make the user an administrator: a member of GATEHOUSE_ADMIN_GROUP
        /// (created if missing), who may use the admin console.
        #[arg(long)]
        admin: bool,
        /// No password: mail the user an invitation (7 days) to choose one.
        #[arg(long, requires = "email", conflicts_with = "password_stdin")]
        invite: bool,
        /// With --invite: print the invitation link instead of mailing it.
        #[arg(long, requires = "invite")]
        print_link: bool,
        #[arg(long)]
        json: bool,
    },
    /// Send a new invitation to a user who has no password yet (earlier ones stop working).
    Invite {
        username: String,
        /// Print the link instead of mailing it (for setups without SMTP).
        #[arg(long)]
        print_link: bool,
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
    /// Remove the user's second factors: authenticator app, passkeys and recovery
    /// codes (a lost device).
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
    /// List users by username (`--q` searches username, email and name).
    List {
        #[arg(long)]
        q: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the user's passkeys.
    Passkeys {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one user.
    Show {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a user's profile (an empty value clears it).
    Update {
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_parser = clap::value_parser!(bool))]
        email_verified: Option<bool>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (the user's sessions and grants end).
    SetPassword {
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete a user and everything issued to them.
    Remove {
        username: String,
        #[arg(long)]
        json: bool,
    },
}

/// A user as the command line shows one (no secrets).
fn shown(user: &users::User) -> serde_json::Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "phone_number": user.phone_number,
        "address": user.address,
        "disabled": user.disabled,
        "mfa_policy": user.mfa_policy,
        "mfa_enrolled": user.totp_secret.is_some(),
        "has_password": user.password_hash.is_some(),
        "created_at": user.created_at,
    })
}

/// `--email ""` clears; no flag leaves the value.
fn cleared(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (!v.is_empty()).then_some(v))
}

async fn deliver(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
    notices: Vec<crate::domain::backchannel::Notice>,
    now: i64,
) -> Result<(), CliError> {
    if !notices.is_empty() {
        // Clients that registered for back-channel logout hear of it now.
        let keyset = super::keys::keyset(config, db).await?;
        crate::domain::backchannel::deliver(&keyset, &config.issuer, notices, now).await;
    }
    Ok(())
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
            admin,
            invite,
            print_link,
            json,
        } => {
            if let Some(email) = &email {
                crate::domain::users::check_email(email)?;
            }
            // Before anything is written: an invitation that cannot be sent is an error.
            let mailer = if invite && !print_link {
                Some(invitation_mailer(config)?)
            } else {
                None
            };
            let hash = if invite {
                None
            } else {
                let password = read_password(password_stdin)?;
                crate::domain::users::check_password(&password)?;
                let hash = tokio::task::spawn_blocking(move || password::hash_blocking(&password))
                    .await
                    .map_err(anyhow::Error::from)??;
                Some(hash)
            };
            let db = open_db(config).await?;
            let now = crate::clock::Clock::system().now();
            let user = crate::domain::users::create(
                &db,
                crate::domain::users::NewAccount {
                    username,
                    email,
                    name,
                    phone_number: phone,
                    address,
                    password_hash: hash,
                },
                now,
            )
            .await?;
            super::audit(&db, "user_created", Some(&user.id), "command line", now).await?;
            if admin {
                let group = &config.admin_group;
                crate::domain::groups::make_admin(&db, group, &user, now).await?;
                let detail = format!("{} added to group {group}; command line", user.username);
                super::audit(&db, "group_member_added", Some(&user.id), &detail, now).await?;
            }
            let invitation = match invite {
                true => Some(send_invitation(config, &db, &user, mailer.as_ref()).await?),
                false => None,
            };
            if json {
                let mut shown = json!({
                    "id": user.id,
                    "username": user.username,
                    "email": user.email,
                    "name": user.name,
                    "admin": admin,
                });
                if let (Some(invitation), Some(object)) = (&invitation, shown.as_object_mut()) {
                    if let Some(more) = invitation.json().as_object() {
                        object.extend(more.clone());
                    }
                }
                print_json(&shown)?;
            } else if admin {
                crate::say!(
                    "created user {} (sub {}), an administrator (group {})",
                    user.username,
                    user.id,
                    config.admin_group
                );
            } else {
                crate::say!("created user {} (sub {})", user.username, user.id);
            }
            if let (Some(invitation), false) = (&invitation, json) {
                invitation.say(&user.username);
            }
            Ok(())
        }
        UserCommand::Invite {
            username,
            print_link,
            json,
        } => {
            let mailer = if print_link {
                None
            } else {
                Some(invitation_mailer(config)?)
            };
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let invitation = send_invitation(config, &db, &user, mailer.as_ref()).await?;
            if json {
                let mut shown = invitation.json();
                shown["username"] = json!(user.username);
                print_json(&shown)
            } else {
                invitation.say(&user.username);
                Ok(())
            }
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
            crate::domain::users::reset_mfa(&db, &user, now).await?;
            audit_cli(&db, "mfa_reset", &user, now).await?;
            report(json, &user, "second factor removed")
        }
        UserCommand::Disable { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let notices = crate::domain::users::disable(&db, &user.id, now).await?;
            audit_cli(&db, "user_disabled", &user, now).await?;
            deliver(config, &db, notices, now).await?;
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
        UserCommand::List { q, json } => {
            let db = open_db(config).await?;
            let mut all = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let (page, more) = users::page(&db, q.as_deref(), after.as_deref(), 200).await?;
                after = page.last().map(|u| u.username.clone());
                all.extend(page);
                if !more {
                    break;
                }
            }
            if json {
                print_json(&all.iter().map(shown).collect::<Vec<_>>())?;
            } else {
                crate::say!("{:<32} {:<32} {:<9} ID", "USERNAME", "EMAIL", "STATE");
                for u in &all {
                    let state = if u.disabled { "disabled" } else { "active" };
                    let email = u.email.as_deref().unwrap_or("-");
                    crate::say!("{:<32} {:<32} {:<9} {}", u.username, email, state, u.id);
                }
            }
            Ok(())
        }
        UserCommand::Passkeys { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let all = passkeys::list_for_user(&db, &user.id).await?;
            let time = |t: Option<i64>| match t {
                Some(_) => super::timestamp(t),
                None => "never".into(),
            };
            if json {
                let shown: Vec<_> = all
                    .iter()
                    .map(|p| {
                        json!({
                            "id": p.id,
                            "name": p.name,
                            "credential_id": p.credential_id,
                            "sign_count": p.sign_count,
                            "backup_eligible": p.backup_eligible,
                            "backed_up": p.backed_up,
                            "user_verified": p.user_verified,
                            "created_at": p.created_at,
                            "last_used_at": p.last_used_at,
                        })
                    })
                    .collect();
                print_json(&shown)?;
            } else if all.is_empty() {
                crate::say!("{} has no passkeys", user.username);
            } else {
                crate::say!("{:<24} {:<20} {:<20} ID", "NAME", "CREATED", "LAST USED");
                for p in &all {
                    crate::say!(
                        "{:<24} {:<20} {:<20} {}",
                        p.name,
                        time(Some(p.created_at)),
                        time(p.last_used_at),
                        p.id
                    );
                }
            }
            Ok(())
        }
        UserCommand::Show { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let groups = crate::store::groups::names_of_user(&db, &user.id).await?;
            let mut value = shown(&user);
            value["groups"] = json!(groups);
            if json {
                print_json(&value)?;
            } else if let Some(fields) = value.as_object() {
                for (name, v) in fields {
                    crate::say!("{name:<15} {v}");
                }
            }
            Ok(())
        }
        UserCommand::Update {
            username,
            email,
            email_verified,
            name,
            phone,
            address,
            json,
        } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let (updated, _) = crate::domain::users::update(
                &db,
                &user,
                crate::domain::users::Changes {
                    email: cleared(email),
                    email_verified,
                    name: cleared(name),
                    phone_number: cleared(phone),
                    address: cleared(address),
                    ..Default::default()
                },
                now,
            )
            .await?;
            audit_cli(&db, "user_updated", &user, now).await?;
            if json {
                print_json(&shown(&updated))?;
            } else {
                crate::say!("updated user {}", updated.username);
            }
            Ok(())
        }
        UserCommand::SetPassword {
            username,
            password_stdin,
            json,
        } => {
            let password = read_password(password_stdin)?;
            crate::domain::users::check_password(&password)?;
            let hash = tokio::task::spawn_blocking(move || password::hash_blocking(&password))
                .await
                .map_err(anyhow::Error::from)??;
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let notices = crate::domain::users::set_password(&db, &user, &hash, now).await?;
            audit_cli(&db, "password_set", &user, now).await?;
            deliver(config, &db, notices, now).await?;
            report(json, &user, "password set; sessions ended")
        }
        UserCommand::Remove { username, json } => {
            let db = open_db(config).await?;
            let user = existing(&db, &username).await?;
            let now = crate::clock::Clock::system().now();
            let notices = crate::domain::users::remove(&db, &user, now).await?;
            audit_cli(&db, "user_removed", &user, now).await?;
            deliver(config, &db, notices, now).await?;
            report(json, &user, "removed")
        }
    }
}

/// The SMTP settings an invitation is mailed with; an error naming --print-link
/// when mail is not set up.
fn invitation_mailer(config: &Config) -> Result<crate::mail::Settings, CliError> {
    crate::mail::Settings::from_config(config)?.ok_or_else(|| {
        CliError::Usage(
            "mail is not set up (GATEHOUSE_SMTP_URL): pass --print-link to print the invitation link"
                .into(),
        )
    })
}

/// Where an invitation went: the link itself (printed), or the address it was mailed to.
enum Invitation {
    Printed(String),
    Mailed(String),
}

impl Invitation {
    fn json(&self) -> serde_json::Value {
        match self {
            Invitation::Printed(link) => json!({ "invitation_link": link }),
            Invitation::Mailed(to) => json!({ "invitation_mailed_to": to }),
        }
    }

    fn say(&self, username: &str) {
        match self {
            Invitation::Printed(link) => {
                crate::say!("invitation link for {username} (works once, for 7 days):");
                crate::say!("{link}");
            }
            Invitation::Mailed(to) => crate::say!("invitation mailed to {to}"),
        }
    }
}

/// Makes the user's invitation link and mails it (or, without `mailer`, returns
/// it to be printed).
async fn send_invitation(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
    user: &users::User,
    mailer: Option<&crate::mail::Settings>,
) -> Result<Invitation, CliError> {
    use crate::domain::email;
    let now = crate::clock::Clock::system().now();
    let link = email::invitation_link(db, &config.issuer, user, now).await?;
    let Some(settings) = mailer else {
        let detail = "command line; link printed";
        super::audit(db, "invitation_sent", Some(&user.id), detail, now).await?;
        return Ok(Invitation::Printed(link));
    };
    let message = crate::mail::Outgoing {
        to: user.email.clone().unwrap_or_default(),
        user_id: Some(user.id.clone()),
        content: email::invitation_message(user, link),
    };
    if let Err(reason) = crate::mail::deliver(settings, &message).await {
        let detail = format!("invitation mail not sent: {reason}; command line");
        super::audit(db, "mail_failed", Some(&user.id), &detail, now).await?;
        return Err(CliError::Usage(format!(
            "the invitation could not be mailed: {reason} \
             (`gatehouse user invite {} --print-link` prints the link)",
            user.username
        )));
    }
    super::audit(
        db,
        "invitation_sent",
        Some(&user.id),
        "command line; mailed",
        now,
    )
    .await?;
    Ok(Invitation::Mailed(message.to))
}

async fn audit_cli(
    db: &sea_orm::DatabaseConnection,
    kind: &str,
    user: &users::User,
    now: i64,
) -> Result<(), CliError> {
    super::audit(db, kind, Some(&user.id), "command line", now).await
}
