//! `gatehouse serve`.

use anyhow::Context;
use tokio::net::TcpListener;

use super::CliError;
use crate::app::{self, AppState};
use crate::clock::Clock;
use crate::config::Config;

pub async fn run(config: Config) -> Result<(), CliError> {
    let addr = config.listen_addr()?;
    let state = AppState::start(config, Clock::system()).await?;
    // Warm the dummy password hash so unknown users cost the same from the first login.
    let passwords = state.passwords.clone();
    tokio::spawn(async move { passwords.dummy().await });
    crate::housekeeping::spawn(state.clone());
    crate::keys::rotation::spawn(state.clone());
    if let Some(metrics_addr) = state.config.metrics_addr()? {
        let listener = TcpListener::bind(metrics_addr).await.with_context(|| {
            format!("cannot listen on {metrics_addr} (GATEHOUSE_METRICS_LISTEN)")
        })?;
        tracing::info!(addr = %metrics_addr, "metrics are served here");
        let app = app::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(error = %err, "metrics listener failed");
            }
        });
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    // With port 0 the kernel picks one: log the port actually bound.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(%addr, issuer = %state.config.issuer, "gatehouse is listening");
    app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
