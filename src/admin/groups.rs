//! /admin/api/v1/groups: groups and their members.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Reader, Writer};
use super::input::{check_if_match, etag_header, etag_of, JsonBody};
use super::{audit_change, Page, UserSummary};
use crate::domain::groups as rules;
use crate::error::Problem;
use crate::state::AppState;
use crate::store::groups::{self, Group};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// 1–64 of a-z 0-9 - _ . : (case-folded).
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: Group,
    pub members: u64,
}

fn shown(group: Group, members: u64) -> Response {
    let view = GroupView { group, members };
    let etag = etag_of(&view);
    ([etag_header(&etag)], Json(view)).into_response()
}

async fn view_of(state: &AppState, id: &str) -> Result<(Group, u64), Problem> {
    let group = rules::find_by_id(&state.db, id).await?;
    let members = groups::member_ids(&state.db, &group.id).await?.len() as u64;
    Ok((group, members))
}

/// Every group with its member count, by name.
#[utoipa::path(get, path = "/groups", tag = "groups",
    responses((status = 200, body = inline(Page<GroupView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Page<GroupView>>, Problem> {
    let counts = groups::member_counts(&state.db).await?;
    let items = groups::list(&state.db)
        .await?
        .into_iter()
        .map(|group| {
            let members = counts.get(&group.id).copied().unwrap_or(0);
            GroupView { group, members }
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/groups", tag = "groups", request_body = NewGroup,
    responses((status = 201, body = GroupView), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn create(
    Writer(actor): Writer,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewGroup>,
) -> Result<Response, Problem> {
    let group = rules::create(&state.db, &new.name, &new.description, state.now()).await?;
    audit_change(
        &state,
        &actor,
        "group_created",
        None,
        &format!("group {}", group.name),
    )
    .await?;
    Ok((StatusCode::CREATED, shown(group, 0)).into_response())
}

#[utoipa::path(get, path = "/groups/{id}", tag = "groups",
    params(("id" = String, Path)),
    responses((status = 200, body = GroupView), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn get(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let (group, members) = view_of(&state, &id).await?;
    Ok(shown(group, members))
}

#[utoipa::path(patch, path = "/groups/{id}", tag = "groups", request_body = GroupChanges,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = GroupView), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn update(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(changes): JsonBody<GroupChanges>,
) -> Result<Response, Problem> {
    let (group, members) = view_of(&state, &id).await?;
    check_if_match(
        &headers,
        &etag_of(&GroupView {
            group: group.clone(),
            members,
        }),
    )?;
    let updated = rules::update(
        &state.db,
        &group,
        changes.name.as_deref(),
        changes.description.as_deref(),
        state.now(),
    )
    .await?;
    let detail = format!("group {} (was {})", updated.name, group.name);
    audit_change(&state, &actor, "group_updated", None, &detail).await?;
    Ok(shown(updated, members))
}

#[utoipa::path(delete, path = "/groups/{id}", tag = "groups",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn delete(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let (group, members) = view_of(&state, &id).await?;
    check_if_match(
        &headers,
        &etag_of(&GroupView {
            group: group.clone(),
            members,
        }),
    )?;
    rules::remove(&state.db, &group).await?;
    audit_change(
        &state,
        &actor,
        "group_removed",
        None,
        &format!("group {}", group.name),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/groups/{id}/members", tag = "groups",
    params(("id" = String, Path)),
    responses((status = 200, body = inline(Page<UserSummary>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn members(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<UserSummary>>, Problem> {
    let group = rules::find_by_id(&state.db, &id).await?;
    let items = rules::members(&state.db, &group)
        .await?
        .iter()
        .map(UserSummary::from)
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/groups/{id}/members", tag = "groups", request_body = NewMember,
    params(("id" = String, Path)),
    responses((status = 204, description = "the user is a member (now or already)"), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn add_member(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(new): JsonBody<NewMember>,
) -> Result<StatusCode, Problem> {
    let group = rules::find_by_id(&state.db, &id).await?;
    let user = super::users::find(&state, &new.user_id)
        .await
        .map_err(|p| {
            if p.kind == crate::error::ProblemKind::NotFound {
                Problem::invalid("user_id", p.detail)
            } else {
                p
            }
        })?;
    if rules::add_member(&state.db, &group, &user, state.now()).await? {
        let detail = format!("{} added to group {}", user.username, group.name);
        audit_change(
            &state,
            &actor,
            "group_member_added",
            Some(&user.id),
            &detail,
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/groups/{id}/members/{user_id}", tag = "groups",
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn remove_member(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let group = rules::find_by_id(&state.db, &id).await?;
    let user = super::users::find(&state, &user_id).await?;
    if !rules::remove_member(&state.db, &group, &user).await? {
        return Err(Problem::new(
            crate::error::ProblemKind::NotFound,
            format!("{} is not a member of {}", user.username, group.name),
        ));
    }
    let detail = format!("{} removed from group {}", user.username, group.name);
    audit_change(
        &state,
        &actor,
        "group_member_removed",
        Some(&user.id),
        &detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
