//! The JSON Web Key Set: public halves of every published signing key.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use crate::app::AppState;

pub async fn handle(State(state): State<AppState>) -> impl IntoResponse {
    // Short cache: relying parties pick up a newly published key within minutes.
    (
        [("cache-control", "public, max-age=300")],
        Json(state.keys.get().jwks.clone()),
    )
}
