//! The router: every route is listed here.

use anyhow::Context;
use axum::http::{header, Method};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};

use crate::observability::{health, metrics, request_id};
pub use crate::state::AppState;
use crate::{oidc, ui, web};

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
        .route("/logout", get(ui::logout::handle).post(ui::logout::handle))
        .route("/logout/confirm", post(ui::logout::confirm))
        .route("/login", get(ui::login::show).post(ui::login::submit))
        .route(
            "/login/mfa",
            get(ui::mfa_step::show).post(ui::mfa_step::submit),
        )
        .route("/login/mfa/enroll", post(ui::mfa_step::enroll))
        .route("/consent", get(ui::consent::show).post(ui::consent::submit))
        .route("/account", get(ui::account::show))
        .route("/account/sessions/end", post(ui::account::end_session))
        .route("/account/password", post(ui::account::change_password))
        .route(
            "/account/totp",
            get(ui::account::totp_page).post(ui::account::totp_enroll),
        )
        .route("/account/totp/remove", post(ui::account::totp_remove))
        .route(
            "/account/confirm",
            get(ui::account::confirm_page).post(ui::account::confirm),
        )
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
