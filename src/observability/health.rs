//! Probes for orchestrators: liveness (the process answers) and readiness (the
//! database answers and the signing keys are loaded).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::{ConnectionTrait, Statement};

use crate::state::AppState;

/// A database slower than this counts as down: a probe must answer in time.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// GET /healthz: the process is alive; checks nothing else, so a database outage
/// does not get healthy nodes restarted.
pub async fn healthz() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// GET /readyz: 200 when this node can serve, 503 naming what is missing.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if !database_answers(&state).await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
    }
    if state.keys.get().signers.is_empty() {
        return (StatusCode::SERVICE_UNAVAILABLE, "signing keys not loaded").into_response();
    }
    (StatusCode::OK, "ready").into_response()
}

async fn database_answers(state: &AppState) -> bool {
    let backend = state.db.get_database_backend();
    let query = state
        .db
        .query_one_raw(Statement::from_string(backend, "SELECT 1"));
    match tokio::time::timeout(DB_TIMEOUT, query).await {
        Ok(Ok(_)) => true,
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database query failed");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: database did not answer in time");
            false
        }
    }
}
