//! The admin API (`/admin/api/v1`, JSON): users, groups, clients, audit events and
//! signing keys. Handlers parse, call one domain operation and render; every
//! failure is RFC 9457 problem details. Its OpenAPI 3.1 document is generated from
//! these handlers and served at `/admin/api/openapi.json`.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod groups;
pub mod input;
pub mod keys;
pub mod users;

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::{Modify, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Problem;
use crate::state::AppState;
use crate::store::audit as audit_log;
use crate::store::users::User;
use auth::Actor;

pub const PREFIX: &str = "/admin/api/v1";
pub const OPENAPI_PATH: &str = "/admin/api/openapi.json";

/// A list: the items, and the cursor of the next page when there is one (pass it
/// back as `?cursor=`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A user named in another resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        UserSummary {
            id: u.id.clone(),
            username: u.username.clone(),
        }
    }
}

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// Stable per kind of problem, e.g. urn:gatehouse:problem:not-found.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The input field at fault, for invalid-input problems.
    pub field: Option<String>,
}

/// The error answers every operation may give.
#[derive(utoipa::IntoResponses)]
pub enum Errors {
    #[response(
        status = 400,
        description = "invalid input (the field is named)",
        content_type = "application/problem+json"
    )]
    InvalidInput(#[to_schema] ProblemDetails),
    #[response(
        status = 401,
        description = "no valid access token",
        content_type = "application/problem+json"
    )]
    Unauthorized(ProblemDetails),
    #[response(
        status = 403,
        description = "the token lacks the scope",
        content_type = "application/problem+json"
    )]
    InsufficientScope(ProblemDetails),
    #[response(
        status = 404,
        description = "no such resource",
        content_type = "application/problem+json"
    )]
    NotFound(ProblemDetails),
    #[response(
        status = 409,
        description = "duplicate, or not allowed in the current state",
        content_type = "application/problem+json"
    )]
    Conflict(ProblemDetails),
    #[response(
        status = 412,
        description = "If-Match does not match the ETag",
        content_type = "application/problem+json"
    )]
    PreconditionFailed(ProblemDetails),
    #[response(
        status = 415,
        description = "the body is not application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(ProblemDetails),
    #[response(
        status = 503,
        description = "the database cannot be reached",
        content_type = "application/problem+json"
    )]
    Unavailable(ProblemDetails),
}

/// Records a change made through the API: who did it (the token's client, and its
/// user if any) and what changed, never a secret. The kinds are those the command
/// line records for the same change.
pub async fn audit_change(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    user_id: Option<&str>,
    what: &str,
) -> Result<(), Problem> {
    let by = match &actor.user_id {
        Some(user) => format!("{what}; by client {} for user {user}", actor.client_id),
        None => format!("{what}; by client {}", actor.client_id),
    };
    let who = actor.audit_name();
    audit_log::record(
        &state.db,
        audit_log::Event {
            kind,
            user_id,
            client_id: Some(&actor.client_id),
            ip: None,
            detail: Some(&by),
            actor: Some(&who),
        },
        state.now(),
    )
    .await?;
    Ok(())
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token of this Gatehouse with scope gatehouse:admin \
                         (read-write) or gatehouse:admin.read, e.g. from client_credentials",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Gatehouse admin API", description = "Users, groups, clients, audit events and signing keys."),
    servers((url = "/admin/api/v1")),
    modifiers(&BearerScheme),
    components(schemas(ProblemDetails)),
    tags(
        (name = "users"), (name = "groups"), (name = "clients"), (name = "audit"), (name = "keys")
    )
)]
struct ApiDoc;

/// The API's routes (relative to PREFIX) and the OpenAPI document describing them.
pub fn routes() -> (Router<AppState>, OpenApi) {
    use utoipa::OpenApi as _;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::set_password))
        .routes(routes!(users::reset_mfa))
        .routes(routes!(users::invite))
        .routes(routes!(users::passkeys))
        .routes(routes!(users::remove_passkey))
        .routes(routes!(users::sessions))
        .routes(routes!(users::end_session))
        .routes(routes!(users::grants))
        .routes(routes!(users::revoke_grant))
        .routes(routes!(users::groups_of))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(groups::members, groups::add_member))
        .routes(routes!(groups::remove_member))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(audit::list))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .split_for_parts()
}

/// The admin API mounted at PREFIX, and its document at OPENAPI_PATH. Unknown paths
/// under the prefix answer with a problem too.
pub fn router() -> Router<AppState> {
    let (api, doc) = routes();
    let doc = std::sync::Arc::new(doc);
    Router::new()
        .nest(
            PREFIX,
            api.method_not_allowed_fallback(|| async {
                Problem::new(
                    crate::error::ProblemKind::MethodNotAllowed,
                    "this resource does not take that method",
                )
            })
            .fallback(|| async {
                Problem::new(
                    crate::error::ProblemKind::NotFound,
                    "no such admin API route",
                )
            }),
        )
        .route(
            OPENAPI_PATH,
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
}
