//! The command line: `serve`, `migrate`, and the operator commands.

pub mod audit;
pub mod client;
pub mod group;
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
    /// Say on stderr which database the command uses.
    #[arg(long, global = true)]
    pub verbose: bool,
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
    /// Manage groups and their members.
    #[command(subcommand)]
    Group(group::GroupCommand),
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

impl From<crate::domain::Refusal> for CliError {
    fn from(refusal: crate::domain::Refusal) -> Self {
        match refusal {
            crate::domain::Refusal::Store(err) => err.into(),
            other => CliError::Usage(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for CliError {
    fn from(err: sea_orm::DbErr) -> Self {
        CliError::Other(err.into())
    }
}

/// A database URL fit to print: the SQLite file, or PostgreSQL's user, host, port
/// and database without the password.
pub fn describe_database(url: &str) -> String {
    if let Some(path) = crate::store::sqlite_file(url) {
        return format!("SQLite file {}", path.display());
    }
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme().starts_with("postgres") => format!(
            "PostgreSQL {}{}:{}{}",
            match parsed.username() {
                "" => String::new(),
                user => format!("{user}@"),
            },
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432),
            parsed.path()
        ),
        _ => "the configured database".into(),
    }
}

/// Opens and migrates the configured database for an operator command. Only
/// `serve` and `migrate` create a new SQLite file: an operator command pointed at
/// a file that is not there (a typo, another directory) says so instead.
pub async fn open_db(config: &Config) -> Result<sea_orm::DatabaseConnection, CliError> {
    if let Some(path) = crate::store::sqlite_file(&config.database_url) {
        if !path.exists() {
            return Err(CliError::Usage(format!(
                "no database at {} (GATEHOUSE_DATABASE_URL): run this where `gatehouse serve` \
                 runs, or create it with `gatehouse migrate`",
                path.display()
            )));
        }
    }
    create_db(config).await
}

/// Opens the configured database, creating a SQLite file if needed, and migrates it.
pub async fn create_db(config: &Config) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = crate::store::connect(&config.database_connect_url()?)
        .await
        .map_err(|e| {
            CliError::Other(anyhow::anyhow!(
                "cannot open {}: {e}",
                describe_database(&config.database_url)
            ))
        })?;
    crate::store::migrate(&db).await?;
    Ok(db)
}

/// Prints a value as pretty JSON.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(anyhow::Error::from)?;
    say(format_args!("{text}"));
    Ok(())
}

/// Writes a line to stdout. When the reader has gone (`gatehouse keys list | head -1`)
/// the command ends quietly instead of panicking as `println!` does.
pub fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// Records a change made on the command line in the audit log.
pub async fn audit(
    db: &sea_orm::DatabaseConnection,
    kind: &str,
    user_id: Option<&str>,
    detail: &str,
    now: i64,
) -> Result<(), CliError> {
    crate::store::audit::record(
        db,
        crate::store::audit::Event {
            kind,
            user_id,
            detail: Some(detail),
            actor: Some(crate::store::audit::ACTOR_CLI),
            ..Default::default()
        },
        now,
    )
    .await?;
    Ok(())
}

/// `println!` for command output: see `say`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::say(format_args!($($arg)*))
    };
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    // A health check exits 0 or 1 only (Docker reserves 2), even on a bad configuration.
    let config = match (Config::load(cli.config.as_deref()), &cli.command) {
        (Err(err), Command::Healthcheck) => return Err(CliError::Usage(err.to_string())),
        (config, _) => config?,
    };
    crate::observability::logging::init(config.log_format);
    if cli.verbose {
        eprintln!("database: {}", describe_database(&config.database_url));
    }
    match cli.command {
        Command::Healthcheck => healthcheck::run(&config).await,
        Command::Serve => serve::run(config).await,
        Command::Migrate => {
            create_db(&config).await?;
            say(format_args!("database is up to date"));
            Ok(())
        }
        Command::User(cmd) => user::run(&config, cmd).await,
        Command::Client(cmd) => client::run(&config, cmd).await,
        Command::Group(cmd) => group::run(&config, cmd).await,
        Command::Keys(cmd) => keys::run(&config, cmd).await,
        Command::Audit(cmd) => audit::run(&config, cmd).await,
    }
}

/// A time as the command line prints it (RFC 3339), "-" for none.
pub(crate) fn timestamp(secs: Option<i64>) -> String {
    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_described_without_secrets() {
        assert_eq!(
            crate::store::sqlite_file("sqlite://gatehouse.db?mode=rwc"),
            Some(PathBuf::from("gatehouse.db"))
        );
        assert_eq!(
            crate::store::sqlite_file("sqlite:///var/lib/gh.db"),
            Some(PathBuf::from("/var/lib/gh.db"))
        );
        assert_eq!(crate::store::sqlite_file("sqlite::memory:"), None);
        assert_eq!(crate::store::sqlite_file("postgres://u@h/db"), None);
        let described = describe_database("postgres://gh:s3cr%40t@db.internal:6543/gatehouse");
        assert_eq!(described, "PostgreSQL gh@db.internal:6543/gatehouse");
        assert!(!described.contains("s3cr"));
    }
}
