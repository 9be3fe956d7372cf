//! The router: every route is listed here.

use anyhow::Context;
use axum::http::{header, Method};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::cors::{Any, CorsLayer};

use crate::observability::{health, metrics, request_id};
pub use crate::state::AppState;
use crate::web::deadline_body::DeadlineBody;
use crate::{admin, console, oidc, ui, web};

pub fn router(state: AppState) -> Router {
    // /metrics is public unless GATEHOUSE_METRICS_LISTEN gives it an address of its own.
    let metrics_here = matches!(state.config.metrics_addr(), Ok(None));
    // Endpoints that browser-based clients call with fetch (discovery, keys, token,
    // userinfo) allow any origin; they never rely on cookies.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // RFC 6750 §3: a script must be able to read why its token was refused.
        .expose_headers([header::WWW_AUTHENTICATE]);
    let api = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(oidc::discovery::handle),
        )
        .route("/", get(ui::home::show))
        .route("/jwks", get(oidc::jwks::handle))
        .route("/token", post(oidc::token::handle))
        .route("/revoke", post(oidc::revoke::handle))
        .route("/introspect", post(oidc::introspect::handle))
        .route(
            "/userinfo",
            get(oidc::userinfo::handle).post(oidc::userinfo::handle),
        )
        .layer(cors);
    let public = Router::new()
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
        .route("/login/passkey", post(ui::login_passkey::submit))
        .route(
            "/login/forgot",
            get(ui::forgot_password::show).post(ui::forgot_password::submit),
        )
        .route(
            "/login/reset",
            get(ui::password_link::show_reset).post(ui::password_link::submit_reset),
        )
        .route(
            "/login/invite",
            get(ui::password_link::show_invitation).post(ui::password_link::submit_invitation),
        )
        .route(
            "/email/verify",
            get(ui::verify_email::show).post(ui::verify_email::submit),
        )
        .route(
            "/account/email/verify",
            post(ui::account::send_verification),
        )
        .route("/signup", get(ui::signup::show).post(ui::signup::submit))
        .route(
            "/signup/confirm",
            get(ui::signup::show_confirm).post(ui::signup::confirm),
        )
        .route("/login/mfa/enroll", post(ui::mfa_step::enroll))
        .route("/login/mfa/passkey", post(ui::mfa_step::passkey))
        .route("/consent", get(ui::consent::show).post(ui::consent::submit))
        .route("/account", get(ui::account::show))
        .route("/account/sessions/end", post(ui::account::end_session))
        .route(
            "/account/applications/revoke",
            post(ui::account::revoke_application),
        )
        .route("/account/password", post(ui::account::change_password))
        .route(
            "/account/totp",
            get(ui::account::totp_page).post(ui::account::totp_enroll),
        )
        .route("/account/totp/remove", post(ui::account::totp_remove))
        .route("/account/passkeys", post(ui::passkeys::register))
        .route("/account/passkeys/new", get(ui::passkeys::show_new))
        .route("/account/passkeys/rename", post(ui::passkeys::rename))
        .route("/account/passkeys/remove", post(ui::passkeys::remove))
        .route(
            "/account/confirm",
            get(ui::account::confirm_page).post(ui::account::confirm),
        )
        .route(
            "/account/recovery-codes",
            post(ui::account::regenerate_codes),
        )
        .merge(admin::router())
        .merge(console::routes())
        .route("/static/{file}", get(ui::static_files::handle))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(ui::not_found);
    let public = if metrics_here {
        public.route("/metrics", get(metrics::render))
    } else {
        public
    };
    public
        .layer(axum::middleware::from_fn(web::security_headers::add))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// The router of GATEHOUSE_METRICS_LISTEN: /metrics only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}

/// Serves until `shutdown` resolves, finishing in-flight requests first.
///
/// HTTP/1.1 over hyper, with the limits a server facing the internet needs: the
/// request head must arrive within GATEHOUSE_HTTP_HEADER_TIMEOUT (hyper starts that
/// clock again whenever a kept-alive connection goes idle, so it is also the idle
/// limit), the body within GATEHOUSE_HTTP_BODY_TIMEOUT; heads and bodies are capped
/// in size, and at most GATEHOUSE_HTTP_MAX_CONNECTIONS connections are served at once.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = state.config.clone();
    let app = router(state);
    let max_body = config.http_max_body_bytes;
    let body_time = Duration::from_secs(config.http_body_timeout);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.http_header_timeout))
        .max_buf_size(config.http_max_header_bytes)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(config.http_max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first: past the cap, new connections wait in the kernel's queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.context("connection limit closed")?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let app = app.clone();
            async move {
                // RFC 9110 §15.5.14: a declared body over the cap is refused unread.
                let declared = request
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok());
                if declared.is_some_and(|n| n > max_body) {
                    return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
                }
                // The body must arrive within the deadline and stay under the cap
                // however it is sent (chunked bodies declare no length).
                let mut request = request.map(|body| {
                    Body::new(Limited::new(DeadlineBody::new(body, body_time), max_body))
                });
                request.extensions_mut().insert(ConnectInfo(peer));
                app.oneshot(request).await
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
