//! The JSON Web Key Set: public halves of every published signing key.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use crate::state::AppState;

/// Seconds relying parties may cache the JWKS; well below the pre-publication lead,
/// so every cache holds a new key before it signs anything.
pub const JWKS_MAX_AGE: u64 = 300;

pub async fn handle(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("cache-control", format!("public, max-age={JWKS_MAX_AGE}"))],
        Json(state.keys.get().jwks.clone()),
    )
}
