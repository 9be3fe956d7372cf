//! /admin/api/v1/users: people who sign in.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Reader;
use super::input::{decode_cursor, encode_cursor, etag_header, etag_of, limit, QueryParams};
use super::Page;
use crate::error::{Problem, ProblemKind};
use crate::state::AppState;
use crate::store::groups::{self, Group};
use crate::store::users::{self, User};

/// A user as the API shows one: never a password hash or an authenticator secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub disabled: bool,
    /// The user's own second-factor policy (optional, required), or null for the
    /// global one.
    pub mfa_policy: Option<String>,
    /// A second factor is set up.
    pub mfa_enrolled: bool,
    pub has_password: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            name: u.name.clone(),
            phone_number: u.phone_number.clone(),
            address: u.address.clone(),
            disabled: u.disabled,
            mfa_policy: u.mfa_policy.clone(),
            mfa_enrolled: u.totp_secret.is_some(),
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Part of a username, email address or name, any case.
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The user with this id, or a 404.
pub async fn find(state: &AppState, id: &str) -> Result<User, Problem> {
    users::find(&state.db, id)
        .await?
        .ok_or_else(|| Problem::new(ProblemKind::NotFound, format!("no user '{id}'")))
}

#[utoipa::path(get, path = "/users", tag = "users", params(UserQuery),
    responses((status = 200, body = inline(Page<UserView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
    QueryParams(q): QueryParams<UserQuery>,
) -> Result<Json<Page<UserView>>, Problem> {
    let limit = limit(q.limit)?;
    let after = decode_cursor(q.cursor.as_deref())?;
    let (found, more) = users::page(&state.db, q.q.as_deref(), after.as_deref(), limit).await?;
    let next_cursor = more
        .then(|| found.last())
        .flatten()
        .map(|u| encode_cursor(&u.username));
    Ok(Json(Page {
        items: found.iter().map(UserView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserView), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn get(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let view = UserView::from(&find(&state, &id).await?);
    let etag = etag_of(&view);
    Ok(([etag_header(&etag)], Json(view)).into_response())
}

#[utoipa::path(get, path = "/users/{id}/groups", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = inline(Page<Group>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn groups_of(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<Group>>, Problem> {
    let user = find(&state, &id).await?;
    Ok(Json(Page {
        items: groups::of_user(&state.db, &user.id).await?,
        next_cursor: None,
    }))
}
