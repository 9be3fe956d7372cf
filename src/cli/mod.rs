//! The command line: `serve`, `migrate`, and the operator commands.

pub mod audit;
pub mod client;
pub mod healthcheck;
pub mod keys;
pub mod serve;
pub mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "An OAuth 2.0 / OpenID Connect identity provider"
)]
pub struct Cli {
    /// Path to a gatehouse.toml (settings there are overridden by GATEHOUSE_* variables).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage client applications.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Inspect signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Ask the local server's /healthz (exit code 0 when healthy, 1 otherwise).
    Healthcheck,
}

/// How a command failed, which decides the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad configuration: exit code 2.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad arguments or a refused operation: exit code 1.
    #[error("{0}")]
    Usage(String),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Config(_) => 2,
            CliError::Usage(_) | CliError::Other(_) => 1,
        }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Conflict(what) => {
                CliError::Usage(format!("{what} already exists"))
            }
            other => CliError::Other(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for CliError {
    fn from(err: sea_orm::DbErr) -> Self {
        CliError::Other(err.into())
    }
}

/// Opens and migrates the configured database for an operator command.
pub async fn open_db(config: &Config) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = crate::store::connect(&config.database_url)
        .await
        .map_err(|e| CliError::Other(anyhow::anyhow!("cannot open the database: {e}")))?;
    crate::store::migrate(&db).await?;
    Ok(db)
}

/// Prints a value as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?;
    println!("{text}");
    Ok(())
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    // A health check exits 0 or 1 only (Docker reserves 2), even on a bad configuration.
    let config = match (Config::load(cli.config.as_deref()), &cli.command) {
        (Err(err), Command::Healthcheck) => return Err(CliError::Usage(err.to_string())),
        (config, _) => config?,
    };
    crate::observability::logging::init(config.log_format);
    match cli.command {
        Command::Healthcheck => healthcheck::run(&config).await,
        Command::Serve => serve::run(config).await,
        Command::Migrate => {
            open_db(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User(cmd) => user::run(&config, cmd).await,
        Command::Client(cmd) => client::run(&config, cmd).await,
        Command::Keys(cmd) => keys::run(&config, cmd).await,
        Command::Audit(cmd) => audit::run(&config, cmd).await,
    }
}
