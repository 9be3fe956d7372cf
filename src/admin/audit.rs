//! /admin/api/v1/audit-events: the audit log, newest first.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Reader;
use super::input::{decode_cursor, encode_cursor, limit, QueryParams};
use super::Page;
use crate::error::Problem;
use crate::state::AppState;
use crate::store::audit::{self, AuditEvent, Filter};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// The event type, e.g. login_failed.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Who made the change: `user:<id>`, `client:<client_id>` or `cli`.
    pub actor: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    /// Who made the change: `user:<id>`, `client:<client_id>` or `cli`; null for
    /// sign-in decisions.
    pub actor: Option<String>,
}

impl From<AuditEvent> for EventView {
    fn from(e: AuditEvent) -> Self {
        EventView {
            id: e.id,
            created_at: e.created_at,
            kind: e.kind,
            user_id: e.user_id,
            client_id: e.client_id,
            ip: e.ip,
            detail: e.detail,
            actor: e.actor,
        }
    }
}

#[utoipa::path(get, path = "/audit-events", tag = "audit", params(AuditQuery),
    responses((status = 200, body = inline(Page<EventView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Json<Page<EventView>>, Problem> {
    let limit = limit(q.limit)?;
    let before = match decode_cursor(q.cursor.as_deref())? {
        None => None,
        Some(position) => Some(
            position
                .split_once(' ')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| Problem::invalid("cursor", "the cursor is not one this API gave"))?,
        ),
    };
    let filter = Filter {
        user_id: q.user_id,
        client_id: q.client_id,
        kind: q.kind,
        actor: q.actor,
        since: q.since,
        until: q.until,
    };
    let (events, more) = audit::page(&state.db, &filter, before, limit).await?;
    let next_cursor = more
        .then(|| events.last())
        .flatten()
        .map(|e| encode_cursor(&format!("{} {}", e.created_at, e.id)));
    Ok(Json(Page {
        items: events.into_iter().map(EventView::from).collect(),
        next_cursor,
    }))
}
