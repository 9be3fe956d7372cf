//! /admin: how many users, applications and live sessions there are, the signing
//! keys, and the last 20 audit events.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::audit::EventLine;
use super::keys::{lines as key_lines, KeyLine};
use super::{failed, render, Admin, Chrome, NoticeQuery, Outcome};
use crate::state::AppState;
use crate::store::{audit, clients, sessions, users};

#[derive(Template)]
#[template(path = "console/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub users: u64,
    pub clients: u64,
    pub sessions: u64,
    pub keys: Vec<KeyLine>,
    pub events: Vec<EventLine>,
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let page = OverviewPage {
            chrome: admin.chrome("overview", q.text()),
            users: users::count(&state.db).await?,
            clients: clients::count(&state.db).await?,
            sessions: sessions::count_active(&state.db, state.now()).await?,
            keys: key_lines(&state).await?,
            events: audit::recent(&state.db, 20)
                .await?
                .into_iter()
                .map(EventLine::from)
                .collect(),
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin", f))
}
