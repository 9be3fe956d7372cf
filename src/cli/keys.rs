//! `gatehouse keys …`.

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, timestamp, CliError};
use crate::config::Config;
use crate::keys::{keyset, master};
use crate::store::signing_keys::{self, StoredKey, STATE_REMOVED};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys with their lifecycle state.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Promote each algorithm's next key now and publish a new next key.
    Rotate {
        #[arg(long)]
        json: bool,
    },
    /// A key is compromised: remove it from the JWKS at once; its successor takes over.
    Revoke {
        kid: String,
        #[arg(long)]
        json: bool,
    },
}

fn print_keys(keys: &[StoredKey], as_json: bool) -> Result<(), CliError> {
    if as_json {
        let rows: Vec<_> = keys
            .iter()
            .map(|k| {
                json!({
                    "kid": k.kid,
                    "alg": k.alg,
                    "state": k.state,
                    "created_at": k.created_at,
                    "activates_at": k.activates_at,
                    "retires_at": k.retires_at,
                })
            })
            .collect();
        return print_json(&rows);
    }
    crate::say!(
        "{:<18} {:<6} {:<8} {:<21} {:<21} RETIRES",
        "KID",
        "ALG",
        "STATE",
        "CREATED",
        "ACTIVATES"
    );
    for k in keys {
        crate::say!(
            "{:<18} {:<6} {:<8} {:<21} {:<21} {}",
            k.kid,
            k.alg,
            k.state,
            timestamp(Some(k.created_at)),
            timestamp(Some(k.activates_at)),
            timestamp(k.retires_at)
        );
    }
    Ok(())
}

pub async fn run(config: &Config, command: KeysCommand) -> Result<(), CliError> {
    let db = open_db(config).await?;
    let now = crate::clock::Clock::system().now();
    let json = match command {
        KeysCommand::List { json } => json,
        KeysCommand::Rotate { json } => {
            let master = load_master(config, &db).await?;
            crate::domain::keys::rotate(&db, &master, &config.key_policy(), now).await?;
            json
        }
        KeysCommand::Revoke { kid, json } => {
            let master = load_master(config, &db).await?;
            let known = signing_keys::all(&db)
                .await?
                .into_iter()
                .any(|k| k.kid == kid && k.state != STATE_REMOVED);
            if !known {
                return Err(CliError::Usage(format!("no published key '{kid}'")));
            }
            signing_keys::remove(&db, &kid).await?;
            keyset::tick(&db, &master, &config.key_policy(), now).await?;
            json
        }
    };
    print_keys(&signing_keys::all(&db).await?, json)
}

/// The signing keys in the database, opened with the configured master key.
pub async fn keyset(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
) -> Result<keyset::KeySet, CliError> {
    let master = load_master(config, db).await?;
    let stored = signing_keys::all(db).await?;
    Ok(keyset::KeySet::from_stored(&stored, &master)?)
}

pub async fn load_master(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
) -> Result<master::MasterKey, CliError> {
    let master = master::load(
        config.master_key.as_deref(),
        std::path::Path::new(&config.master_key_file),
        signing_keys::any(db).await?,
        crate::store::sqlite_file(&config.database_url).as_deref(),
    )?;
    // Refuse to add keys sealed with a key that does not open the existing ones.
    let existing = signing_keys::all(db).await?;
    if !existing.is_empty() {
        keyset::KeySet::from_stored(&existing, &master)?;
    }
    Ok(master)
}
