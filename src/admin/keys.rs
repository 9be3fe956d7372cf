//! /admin/api/v1/keys: the signing keys (public parts only).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Reader, Writer};
use super::{audit_change, Page};
use crate::error::Problem;
use crate::state::AppState;
use crate::store::signing_keys::{self, StoredKey};

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// next, current, retired or removed.
    pub state: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
}

impl From<&StoredKey> for KeyView {
    fn from(k: &StoredKey) -> Self {
        KeyView {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            state: k.state.clone(),
            created_at: k.created_at,
            activates_at: k.activates_at,
            retires_at: k.retires_at,
        }
    }
}

async fn all(state: &AppState) -> Result<Page<KeyView>, Problem> {
    let items = signing_keys::all(&state.db)
        .await?
        .iter()
        .map(KeyView::from)
        .collect();
    Ok(Page {
        items,
        next_cursor: None,
    })
}

#[utoipa::path(get, path = "/keys", tag = "keys",
    responses((status = 200, body = inline(Page<KeyView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Page<KeyView>>, Problem> {
    Ok(Json(all(&state).await?))
}

/// Promotes the next key of each algorithm now and publishes a new next key; this
/// node signs with the new key at once, the others at their next key reload.
#[utoipa::path(post, path = "/keys/rotate", tag = "keys",
    responses((status = 200, body = inline(Page<KeyView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn rotate(
    Writer(actor): Writer,
    State(state): State<AppState>,
) -> Result<Json<Page<KeyView>>, Problem> {
    crate::domain::keys::rotate_published(&state).await?;
    audit_change(&state, &actor, "keys_rotated", None, "signing keys rotated").await?;
    Ok(Json(all(&state).await?))
}
