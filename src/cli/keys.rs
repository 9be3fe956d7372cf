//! `gatehouse keys …`.

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, CliError};
use crate::config::Config;
use crate::store::signing_keys;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys with their lifecycle state.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn timestamp(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".into())
}

pub async fn run(config: &Config, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::List { json } => {
            let db = open_db(config).await?;
            let keys = signing_keys::all(&db).await?;
            if json {
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
                print_json(&rows)?;
            } else {
                println!(
                    "{:<18} {:<6} {:<8} {:<21} {:<21} RETIRES",
                    "KID", "ALG", "STATE", "CREATED", "ACTIVATES"
                );
                for k in &keys {
                    println!(
                        "{:<18} {:<6} {:<8} {:<21} {:<21} {}",
                        k.kid,
                        k.alg,
                        k.state,
                        timestamp(Some(k.created_at)),
                        timestamp(Some(k.activates_at)),
                        timestamp(k.retires_at)
                    );
                }
            }
            Ok(())
        }
    }
}
