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
    /// Who made the change (`user:<id>`, `client:<client_id>`, `cli`); None for
    /// sign-in decisions, whose actor is the user.
    pub actor: Option<&'a str>,
}

/// The actor value naming a person.
pub fn actor_user(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The actor value of the command line.
pub const ACTOR_CLI: &str = "cli";

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
        actor: Set(event.actor.map(str::to_string)),
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

/// What an audit listing keeps.
#[derive(Debug, Default)]
pub struct Filter {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub kind: Option<String>,
    pub actor: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// One page of events, newest first, strictly older than `before` (created_at, id).
/// One more than `limit` is read to tell whether more follow.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &Filter,
    before: Option<(i64, String)>,
    limit: u64,
) -> Result<(Vec<AuditEvent>, bool), StoreError> {
    use sea_orm::{ColumnTrait, Condition, QueryFilter};
    let mut query = Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id);
    if let Some(user_id) = &filter.user_id {
        query = query.filter(Column::UserId.eq(user_id.as_str()));
    }
    if let Some(client_id) = &filter.client_id {
        query = query.filter(Column::ClientId.eq(client_id.as_str()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(Column::Actor.eq(actor.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(Column::CreatedAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(Column::CreatedAt.lt(until));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            Condition::any().add(Column::CreatedAt.lt(at)).add(
                Condition::all()
                    .add(Column::CreatedAt.eq(at))
                    .add(Column::Id.lt(id)),
            ),
        );
    }
    let mut found = query.limit(limit + 1).all(db).await?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    Ok((found, more))
}
