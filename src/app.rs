//! Application state and the router: every route is listed here.

use std::sync::Arc;

use anyhow::Context;
use axum::http::{header, Method};
use axum::routing::{get, post};
use axum::Router;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};

use crate::auth::password::Passwords;
use crate::clock::Clock;
use crate::config::Config;
use crate::keys::Keys;
use crate::observability::{health, metrics, request_id};
use crate::store::clients::ClientCache;
use crate::store::grants::GrantCache;
use crate::{oidc, store, ui, web};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub keys: Arc<Keys>,
    pub clock: Clock,
    pub passwords: Passwords,
    pub clients: Arc<ClientCache>,
    pub grants: Arc<GrantCache>,
    /// Renders /metrics; shared by every server in the process (one global recorder).
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl AppState {
    /// Connects, migrates and loads the signing keys (creating the first one).
    pub async fn start(config: Config, clock: Clock) -> anyhow::Result<AppState> {
        let db = store::connect(&config.database_url)
            .await
            .context("cannot open the database (GATEHOUSE_DATABASE_URL)")?;
        store::migrate(&db)
            .await
            .context("database migration failed")?;
        let master = crate::keys::master::load(
            config.master_key.as_deref(),
            std::path::Path::new(&config.master_key_file),
            store::signing_keys::any(&db).await?,
        )?;
        let keys = Keys::start(&db, master, config.key_policy(), clock.now()).await?;
        let passwords = Passwords::new(config.password_hash_concurrency);
        let clients = Arc::new(ClientCache::new(config.client_cache_ttl));
        Ok(AppState {
            clients,
            grants: Arc::default(),
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            clock,
            passwords,
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

pub fn router(state: AppState) -> Router {
    // Endpoints that browser-based clients call with fetch (discovery, keys, token,
    // userinfo) allow any origin; they never rely on cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(oidc::discovery::handle),
        )
        .route("/jwks", get(oidc::jwks::handle))
        .route("/token", post(oidc::token::handle))
        .route("/revoke", post(oidc::revoke::handle))
        .route("/introspect", post(oidc::introspect::handle))
        .route(
            "/userinfo",
            get(oidc::userinfo::handle).post(oidc::userinfo::handle),
        )
        .layer(cors);
    Router::new()
        .merge(api)
        .route(
            "/authorize",
            get(oidc::authorize::handle).post(oidc::authorize::handle),
        )
        .route("/authorize/continue", get(oidc::authorize::resume))
        .route(
            "/logout",
            get(oidc::end_session::handle).post(oidc::end_session::handle),
        )
        .route("/logout/confirm", post(oidc::end_session::confirm))
        .route("/login", get(ui::login::show).post(ui::login::submit))
        .route(
            "/login/mfa",
            get(ui::mfa_step::show).post(ui::mfa_step::submit),
        )
        .route("/login/mfa/enroll", post(ui::mfa_step::enroll))
        .route("/consent", post(ui::consent::submit))
        .route("/account", get(ui::account::show))
        .route("/account/sessions/end", post(ui::account::end_session))
        .route("/account/password", post(ui::account::change_password))
        .route(
            "/account/totp",
            get(ui::account::totp_page).post(ui::account::totp_enroll),
        )
        .route("/account/totp/remove", post(ui::account::totp_remove))
        .route(
            "/account/recovery-codes",
            post(ui::account::regenerate_codes),
        )
        .route("/static/{file}", get(ui::static_files::handle))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .fallback(ui::not_found)
        .layer(axum::middleware::from_fn(web::security_headers::add))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Serves until `shutdown` resolves, finishing in-flight requests first.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("HTTP server failed")
}
