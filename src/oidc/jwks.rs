//! The JSON Web Key Set: public halves of every published signing key.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use crate::state::AppState;

pub use crate::keys::JWKS_MAX_AGE;

pub async fn handle(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("cache-control", format!("public, max-age={JWKS_MAX_AGE}"))],
        Json(state.keys.get().jwks.clone()),
    )
}
