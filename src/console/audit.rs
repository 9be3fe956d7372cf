//! /admin/audit: the audit log, newest first, filtered by type, user, application
//! and actor, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{failed, optional, render, Admin, Chrome, Outcome};
use crate::state::AppState;
use crate::store::audit::{self, AuditEvent, Filter};
use crate::store::users;
use crate::web::page::display_time;

const PAGE_SIZE: u64 = 50;

/// An audit event as the console shows it.
pub struct EventLine {
    pub at: String,
    pub kind: String,
    pub user_id: String,
    pub client_id: String,
    pub actor: String,
    pub ip: String,
    pub detail: String,
}

impl From<AuditEvent> for EventLine {
    fn from(e: AuditEvent) -> Self {
        EventLine {
            at: display_time(e.created_at),
            kind: e.kind,
            user_id: e.user_id.unwrap_or_default(),
            client_id: e.client_id.unwrap_or_default(),
            actor: e.actor.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default, rename = "type")]
    kind: String,
    /// A username or a user id.
    #[serde(default)]
    user: String,
    #[serde(default)]
    client: String,
    /// `user:<id>`, `client:<client_id>`, `cli`, or a username (its `user:<id>`).
    #[serde(default)]
    actor: String,
    /// `<created_at>.<id>` of the last event of the previous page.
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub kind: String,
    pub user: String,
    pub client: String,
    pub actor: String,
    pub events: Vec<EventLine>,
    /// The query of the next (older) page.
    pub older: Option<String>,
}

/// A username stands for its user's id; anything else is taken as an id.
async fn user_id(state: &AppState, given: &str) -> Result<String, super::Failure> {
    Ok(match users::find_by_username(&state.db, given).await? {
        Some(user) => user.id,
        None => given.to_string(),
    })
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let outcome: Outcome = async {
        let filter = Filter {
            user_id: match optional(&q.user) {
                Some(user) => Some(user_id(&state, &user).await?),
                None => None,
            },
            client_id: optional(&q.client),
            kind: optional(&q.kind),
            actor: match optional(&q.actor) {
                Some(actor) if actor.contains(':') || actor == audit::ACTOR_CLI => Some(actor),
                Some(name) => Some(audit::actor_user(&user_id(&state, &name).await?)),
                None => None,
            },
            ..Filter::default()
        };
        // A cursor that is not one of ours starts from the newest.
        let before = q
            .before
            .split_once('.')
            .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())));
        let (events, more) = audit::page(&state.db, &filter, before, PAGE_SIZE).await?;
        let older = more.then(|| events.last()).flatten().map(|e| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("type", &q.kind)
                .append_pair("user", &q.user)
                .append_pair("client", &q.client)
                .append_pair("actor", &q.actor)
                .append_pair("before", &format!("{}.{}", e.created_at, e.id))
                .finish()
        });
        let page = AuditPage {
            chrome: admin.chrome("audit", None),
            kind: q.kind.clone(),
            user: q.user.clone(),
            client: q.client.clone(),
            actor: q.actor.clone(),
            events: events.into_iter().map(EventLine::from).collect(),
            older,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/audit", f))
}
