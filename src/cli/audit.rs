//! `gatehouse audit …`.

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, CliError};
use crate::config::Config;
use crate::store::audit;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the most recent audit events, newest first.
    Tail {
        /// How many events.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: &Config, command: AuditCommand) -> Result<(), CliError> {
    let AuditCommand::Tail { limit, json } = command;
    let db = open_db(config).await?;
    let events = audit::recent(&db, limit.clamp(1, 10_000)).await?;
    if json {
        let rows: Vec<_> = events
            .iter()
            .map(|e| {
                json!({
                    "time": e.created_at,
                    "kind": e.kind,
                    "user_id": e.user_id,
                    "client_id": e.client_id,
                    "ip": e.ip,
                    "detail": e.detail,
                })
            })
            .collect();
        return print_json(&rows);
    }
    for e in &events {
        let time = super::timestamp(Some(e.created_at));
        crate::say!(
            "{time}  {:<26} user={} client={} ip={} {}",
            e.kind,
            e.user_id.as_deref().unwrap_or("-"),
            e.client_id.as_deref().unwrap_or("-"),
            e.ip.as_deref().unwrap_or("-"),
            e.detail.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
