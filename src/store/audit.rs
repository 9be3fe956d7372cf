//! The audit log: one row per security-relevant decision.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use super::entities::audit_events::{self, Column, Entity};
use super::StoreError;

pub use audit_events::Model as AuditEvent;

/// What happened, with whom and from where.
#[derive(Debug, Default, Clone)]
pub struct Event<'a> {
    pub kind: &'a str,
    pub user_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub async fn record(
    db: &impl ConnectionTrait,
    event: Event<'_>,
    now: i64,
) -> Result<(), StoreError> {
    audit_events::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        created_at: Set(now),
        kind: Set(event.kind.to_string()),
        user_id: Set(event.user_id.map(str::to_string)),
        client_id: Set(event.client_id.map(str::to_string)),
        ip: Set(event.ip.map(str::to_string)),
        detail: Set(event.detail.map(str::to_string)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The most recent events, newest first.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(Entity::find()
        .order_by_desc(Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}
