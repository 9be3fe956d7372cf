//! Storage: SeaORM entities and one repository module per aggregate. The same code
//! and migrations serve SQLite and PostgreSQL.

pub mod audit;
pub mod authorization_codes;
pub mod authorization_requests;
pub mod clients;
pub mod consents;
pub mod email_tokens;
pub mod entities;
pub mod grants;
pub mod groups;
pub mod passkeys;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod registrations;
pub mod revoked_client_tokens;
pub mod sessions;
pub mod signing_keys;
mod sqlite_busy;
pub mod throttles;
pub mod users;
pub mod webauthn_ceremonies;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};

/// Connections to a SQLite database (each is a thread in sqlx's driver); on two
/// cores 4 served reads as fast as 10.
const SQLITE_CONNECTIONS: u32 = 4;

/// Opens the database named by a SeaORM URL.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false);
    // Fail fast when the database is away (503 to the client), instead of queueing
    // requests for the default 30 s; a returning database is picked up again.
    options.acquire_timeout(std::time::Duration::from_secs(3));
    options.connect_timeout(std::time::Duration::from_secs(3));
    // sqlx pings a pooled connection on every checkout by default: one extra round
    // trip per statement. A connection that broke is still discarded when a
    // statement fails on it; only those idle for a while are pinged first.
    options.test_before_acquire_if_idle_for(std::time::Duration::from_secs(30));
    // SQLite's default rollback journal blocks readers during every write and syncs
    // several times per commit. WAL lets readers run beside the one writer and makes a
    // commit one append; NORMAL syncs at checkpoints (a power cut may lose the last
    // commits, never corrupt the database).
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    });
    if url.starts_with("sqlite:") {
        // SeaORM's default for SQLite is one connection, which queues every read
        // behind every other statement. In WAL mode readers run beside the one
        // writer.
        options.max_connections(SQLITE_CONNECTIONS);
        options.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(sqlite_busy::install(conn)))
        });
    }
    Database::connect(options).await
}

/// Applies every pending migration (idempotent).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Failures a repository reports to its callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Maps a unique-key violation to `Conflict(what)`.
pub(crate) fn conflict(err: DbErr, what: impl Into<String>) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what.into()),
        _ => StoreError::Db(err),
    }
}

/// Lists are stored as JSON text so one column type serves both databases.
pub fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub fn from_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The SQLite file a database URL names (None for PostgreSQL and in-memory SQLite).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}
