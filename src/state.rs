//! The shared handles every handler and task works with. It sits below the
//! handlers: protocol endpoints, pages and the CLI all take it from here.

use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::auth::passkey::RelyingParty;
use crate::auth::password::Passwords;
use crate::clock::Clock;
use crate::config::Config;
use crate::keys::Keys;
use crate::mail::{self, Mailer};
use crate::observability::metrics;
use crate::store;
use crate::store::clients::ClientCache;
use crate::store::grants::GrantCache;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub keys: Arc<Keys>,
    pub clock: Clock,
    pub passwords: Passwords,
    /// The WebAuthn relying party (id and origin from the issuer).
    pub passkeys: Arc<RelyingParty>,
    pub clients: Arc<ClientCache>,
    pub grants: Arc<GrantCache>,
    /// GATEHOUSE_TRUSTED_PROXIES, parsed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Renders /metrics; shared by every server in the process (one global recorder).
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Outgoing mail; off without GATEHOUSE_SMTP_URL.
    pub mailer: Mailer,
}

impl AppState {
    /// Connects, migrates and loads the signing keys (creating the first one).
    pub async fn start(config: Config, clock: Clock) -> anyhow::Result<AppState> {
        let db = store::connect(&config.database_connect_url()?)
            .await
            .context("cannot open the database (GATEHOUSE_DATABASE_URL)")?;
        store::migrate(&db)
            .await
            .context("database migration failed")?;
        let master = crate::keys::master::load(
            config.master_key.as_deref(),
            std::path::Path::new(&config.master_key_file),
            store::signing_keys::any(&db).await?,
            store::sqlite_file(&config.database_url).as_deref(),
        )?;
        let keys = Keys::start(&db, master, config.key_policy(), clock.now()).await?;
        let passwords = Passwords::new(config.password_hash_concurrency);
        let passkeys =
            Arc::new(RelyingParty::from_issuer(&config.issuer).map_err(|e| anyhow::anyhow!(e))?);
        let clients = Arc::new(ClientCache::new(config.client_cache_ttl));
        let trusted_proxies = Arc::new(config.trusted_proxy_list()?);
        let mailer = Mailer::start(
            mail::Settings::from_config(&config)?,
            db.clone(),
            clock.clone(),
        );
        Ok(AppState {
            mailer,
            clients,
            grants: Arc::default(),
            trusted_proxies,
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            clock,
            passwords,
            passkeys,
            metrics: metrics::handle(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
