//! /admin/api/v1/users: people who sign in.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Reader, Writer};
use super::input::{
    check_if_match, decode_cursor, encode_cursor, etag_header, etag_of, limit, JsonBody,
    QueryParams,
};
use super::{audit_change, Page};
use crate::auth::mfa::MfaPolicy;
use crate::domain::backchannel;
use crate::domain::users::{self as rules, Changes, NewAccount};
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
    Ok(shown(&find(&state, &id).await?))
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

fn shown(user: &User) -> Response {
    let view = UserView::from(user);
    let etag = etag_of(&view);
    ([etag_header(&etag)], Json(view)).into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    /// Omitted: the user has no password until one is set.
    pub password: Option<String>,
    /// true: no password; the user is mailed an invitation (7 days) to choose
    /// one. Needs `email` and mail set up on the server.
    #[serde(default)]
    pub invite: bool,
}

/// Only the fields given change; null clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub phone_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// optional, required, or null for the global policy.
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub mfa_policy: Option<Option<String>>,
    /// true ends every session and grant of the user.
    pub disabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub password: String,
}

async fn hashed(state: &AppState, password: &str) -> Result<String, Problem> {
    Ok(rules::hash_new_password(&state.passwords, password).await?)
}

#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = UserView), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn create(
    Writer(actor): Writer,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewUserBody>,
) -> Result<Response, Problem> {
    if new.invite {
        // Checked before the user exists: nothing half-made.
        if new.password.is_some() {
            return Err(Problem::invalid(
                "password",
                "an invited user chooses their own password: give no password with invite",
            ));
        }
        if new.email.is_none() {
            return Err(Problem::invalid(
                "email",
                "an invitation needs an email address",
            ));
        }
        if !state.mailer.enabled() {
            return Err(Problem::new(
                ProblemKind::Conflict,
                "mail is not set up on this server (GATEHOUSE_SMTP_URL): no invitation can be sent",
            ));
        }
    }
    let password_hash = match &new.password {
        Some(password) => Some(hashed(&state, password).await?),
        None => None,
    };
    let user = rules::create(
        &state.db,
        NewAccount {
            username: new.username,
            email: new.email,
            name: new.name,
            phone_number: new.phone_number,
            address: new.address,
            password_hash,
        },
        state.now(),
    )
    .await?;
    let detail = format!("user {}", user.username);
    audit_change(&state, &actor, "user_created", Some(&user.id), &detail).await?;
    if new.invite {
        crate::domain::email::send_invitation(&state, &user).await?;
        let detail = format!("invitation mailed to user {}", user.username);
        audit_change(&state, &actor, "invitation_sent", Some(&user.id), &detail).await?;
    }
    Ok((StatusCode::CREATED, shown(&user)).into_response())
}

/// Mails the user a new invitation (7 days) to choose a password; earlier ones
/// stop working. 409 when the user has a password already or mail is not set up.
#[utoipa::path(post, path = "/users/{id}/invitation", tag = "users",
    params(("id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn invite(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    crate::domain::email::send_invitation(&state, &user).await?;
    let detail = format!("invitation mailed to user {}", user.username);
    audit_change(&state, &actor, "invitation_sent", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserChanges,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = UserView), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn update(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(changes): JsonBody<UserChanges>,
) -> Result<Response, Problem> {
    let user = find(&state, &id).await?;
    check_if_match(&headers, &etag_of(&UserView::from(&user)))?;
    let mfa_policy = match changes.mfa_policy {
        Some(Some(name)) => Some(Some(MfaPolicy::parse(&name).ok_or_else(|| {
            Problem::invalid(
                "mfa_policy",
                format!("'{name}' is not optional or required"),
            )
        })?)),
        Some(None) => Some(None),
        None => None,
    };
    // What changed, by field name only: values may be personal data.
    let changed = super::input::given_fields(&[
        ("email", changes.email.is_some()),
        ("email_verified", changes.email_verified.is_some()),
        ("name", changes.name.is_some()),
        ("phone_number", changes.phone_number.is_some()),
        ("address", changes.address.is_some()),
        ("mfa_policy", mfa_policy.is_some()),
        ("disabled", changes.disabled.is_some()),
    ]);
    let (updated, notices) = rules::update(
        &state.db,
        &user,
        Changes {
            email: changes.email,
            email_verified: changes.email_verified,
            name: changes.name,
            phone_number: changes.phone_number,
            address: changes.address,
            mfa_policy,
            disabled: changes.disabled,
        },
        state.now(),
    )
    .await?;
    backchannel::notify(&state, notices);
    let detail = format!("user {}: {}", updated.username, changed);
    audit_change(&state, &actor, "user_updated", Some(&user.id), &detail).await?;
    Ok(shown(&updated))
}

#[utoipa::path(delete, path = "/users/{id}", tag = "users",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn delete(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    check_if_match(&headers, &etag_of(&UserView::from(&user)))?;
    let notices = rules::remove(&state.db, &user, state.now()).await?;
    backchannel::notify(&state, notices);
    let detail = format!("user {}", user.username);
    audit_change(&state, &actor, "user_removed", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the password; the user's sessions and grants end.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", request_body = NewPassword,
    params(("id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn set_password(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewPassword>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    let hash = hashed(&state, &body.password).await?;
    let notices = rules::set_password(&state.db, &user, &hash, state.now()).await?;
    backchannel::notify(&state, notices);
    let detail = format!("password of user {} set", user.username);
    audit_change(&state, &actor, "password_set", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the user's second factors: authenticator app, passkeys and recovery
/// codes (a lost device).
#[utoipa::path(post, path = "/users/{id}/reset-mfa", tag = "users",
    params(("id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn reset_mfa(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    rules::reset_mfa(&state.db, &user, state.now()).await?;
    let detail = format!("second factor of user {} removed", user.username);
    audit_change(&state, &actor, "mfa_reset", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A passkey of a user (its public part and use; the key itself never leaves the
/// authenticator).
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    /// base64url WebAuthn credential id.
    pub credential_id: String,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub user_verified: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<crate::store::passkeys::Passkey> for PasskeyView {
    fn from(p: crate::store::passkeys::Passkey) -> PasskeyView {
        PasskeyView {
            id: p.id,
            name: p.name,
            credential_id: p.credential_id,
            sign_count: p.sign_count,
            backup_eligible: p.backup_eligible,
            backed_up: p.backed_up,
            user_verified: p.user_verified,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}

#[utoipa::path(get, path = "/users/{id}/passkeys", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = inline(Page<PasskeyView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn passkeys(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<PasskeyView>>, Problem> {
    let user = find(&state, &id).await?;
    let items = crate::domain::passkeys::list(&state, &user)
        .await
        .map_err(Problem::internal)?
        .into_iter()
        .map(PasskeyView::from)
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Removes a passkey; refused (409) for the last second factor of a user whose
/// policy requires one (`reset-mfa` removes every factor).
#[utoipa::path(delete, path = "/users/{id}/passkeys/{passkey_id}", tag = "users",
    params(("id" = String, Path), ("passkey_id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn remove_passkey(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path((id, passkey_id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    crate::domain::passkeys::remove(&state, &user, &passkey_id).await?;
    let detail = format!("passkey {passkey_id} of user {} removed", user.username);
    audit_change(&state, &actor, "passkey_removed", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A live browser session of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub auth_time: i64,
    /// How the user signed in (RFC 8176 values).
    pub amr: Vec<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// The client address it started from.
    pub ip: Option<String>,
}

/// An application the user is connected to (a grant: its refresh-token family).
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub client_id: String,
    pub scope: String,
    pub session_id: Option<String>,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

#[utoipa::path(get, path = "/users/{id}/sessions", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = inline(Page<SessionView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn sessions(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<SessionView>>, Problem> {
    let user = find(&state, &id).await?;
    let items = crate::store::sessions::list_active(&state.db, &user.id, state.now())
        .await?
        .into_iter()
        .map(|s| SessionView {
            amr: crate::store::from_json_list(&s.amr),
            id: s.id,
            auth_time: s.auth_time,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Ends a session (its grants too, with back-channel logout notices).
#[utoipa::path(delete, path = "/users/{id}/sessions/{session_id}", tag = "users",
    params(("id" = String, Path), ("session_id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn end_session(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path((id, session_id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    let ended = crate::domain::sessions::end_session(&state, &user.id, &session_id)
        .await
        .map_err(Problem::internal)?;
    if !ended {
        return Err(Problem::new(
            ProblemKind::NotFound,
            format!("the user has no live session '{session_id}'"),
        ));
    }
    let detail = format!("a session of user {} ended", user.username);
    audit_change(&state, &actor, "session_ended", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/users/{id}/grants", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = inline(Page<GrantView>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn grants(
    _: Reader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<GrantView>>, Problem> {
    let user = find(&state, &id).await?;
    let items = crate::store::grants::live_for_user(&state.db, &user.id, state.now())
        .await?
        .into_iter()
        .map(|g| GrantView {
            id: g.id,
            client_id: g.client_id,
            scope: g.scope,
            session_id: g.session_id,
            auth_time: g.auth_time,
            created_at: g.created_at,
            expires_at: g.expires_at,
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Revokes a grant: the application's tokens for this user stop working at once.
#[utoipa::path(delete, path = "/users/{id}/grants/{grant_id}", tag = "users",
    params(("id" = String, Path), ("grant_id" = String, Path)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn revoke_grant(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path((id, grant_id)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let user = find(&state, &id).await?;
    crate::domain::grants::revoke_for_user(&state.db, &user.id, &grant_id, state.now()).await?;
    let detail = format!("grant {grant_id} of user {} revoked", user.username);
    audit_change(&state, &actor, "grant_revoked", Some(&user.id), &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}
