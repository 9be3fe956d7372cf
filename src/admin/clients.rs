//! /admin/api/v1/clients: the applications that sign people in.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Reader, Writer};
use super::input::{check_if_match, etag_header, etag_of, JsonBody};
use super::{audit_change, Page};
use crate::auth_method::AuthMethod;
use crate::domain::clients::{self as rules, ClientChanges, ClientView, Registration, Secret};
use crate::error::Problem;
use crate::state::AppState;

/// A client to register. Omitted lists are empty; omitted grant types are
/// authorization_code and refresh_token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    pub client_id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret, PKCE only).
    #[serde(default)]
    pub public: bool,
    /// client_secret_basic (default for confidential clients), client_secret_post,
    /// or none (public clients).
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for itself with client_credentials.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Group names; empty: every user may sign in.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// ES256 (default) or RS256.
    pub id_token_signed_response_alg: Option<String>,
    #[serde(default)]
    pub skip_consent: bool,
}

/// A client as shown: its registration and the groups it admits.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub allowed_groups: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub token_endpoint_auth_method: String,
    pub id_token_signed_response_alg: String,
    pub skip_consent: bool,
    pub created_at: i64,
}

impl From<ClientView> for ClientOut {
    fn from(v: ClientView) -> Self {
        let c = v.client;
        ClientOut {
            public: c.is_public(),
            client_id: c.client_id,
            name: c.name,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c.grant_types,
            scopes: c.allowed_scopes,
            allowed_groups: v.allowed_groups,
            backchannel_logout_uri: c.backchannel_logout_uri,
            token_endpoint_auth_method: c.token_endpoint_auth_method.as_str().to_string(),
            id_token_signed_response_alg: c.id_token_signed_response_alg,
            skip_consent: c.skip_consent,
            created_at: c.created_at,
        }
    }
}

/// Only the fields given change, checked as at registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientUpdate {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub allowed_groups: Option<Vec<String>>,
    pub skip_consent: Option<bool>,
    pub id_token_signed_response_alg: Option<String>,
    /// null removes it.
    #[serde(default, deserialize_with = "super::input::present")]
    #[schema(value_type = Option<String>)]
    pub backchannel_logout_uri: Option<Option<String>>,
}

/// A new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewSecret {
    pub client_secret: String,
    /// Until when (Unix seconds) the previous secret still works; null: it stopped.
    pub previous_secret_expires_at: Option<i64>,
}

/// A client just registered: the generated secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: ClientOut,
    pub client_secret: Option<String>,
}

fn shown(out: ClientOut) -> Response {
    let etag = etag_of(&out);
    ([etag_header(&etag)], Json(out)).into_response()
}

#[utoipa::path(get, path = "/clients", tag = "clients",
    responses((status = 200, body = inline(Page<ClientOut>)), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
) -> Result<Json<Page<ClientOut>>, Problem> {
    let items = rules::list(&state.db)
        .await?
        .into_iter()
        .map(ClientOut::from)
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/clients", tag = "clients", request_body = NewClient,
    responses((status = 201, body = CreatedClient), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn create(
    Writer(actor): Writer,
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewClient>,
) -> Result<Response, Problem> {
    let auth_method = new
        .token_endpoint_auth_method
        .as_deref()
        .map(|m| {
            AuthMethod::parse_registrable(m)
                .map_err(|message| Problem::invalid("token_endpoint_auth_method", message))
        })
        .transpose()?;
    let registered = rules::register(
        &state.db,
        state.keys.client_secrets(),
        Registration {
            client_id: new.client_id,
            name: new.name,
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            secret: (!new.public).then_some(Secret::Generate),
            auth_method,
            grant_types: new.grant_types,
            scopes: new.scopes,
            allowed_groups: new.allowed_groups,
            backchannel_logout_uri: new.backchannel_logout_uri,
            id_token_alg: new.id_token_signed_response_alg,
            skip_consent: new.skip_consent,
        },
        state.now(),
    )
    .await?;
    let client_id = registered.view.client.client_id.clone();
    audit_change(
        &state,
        &actor,
        "client_created",
        None,
        &format!("client {client_id}"),
    )
    .await?;
    let body = CreatedClient {
        client: ClientOut::from(registered.view),
        client_secret: registered.generated_secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientOut), super::Errors),
    security(("bearer" = ["gatehouse:admin.read"])))]
pub async fn get(
    _: Reader,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, Problem> {
    Ok(shown(rules::show(&state.db, &client_id).await?.into()))
}

/// Removes the client and everything issued to it (grants, codes, consents, its own
/// tokens).
#[utoipa::path(delete, path = "/clients/{client_id}", tag = "clients",
    params(("client_id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn delete(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    let current = ClientOut::from(rules::show(&state.db, &client_id).await?);
    check_if_match(&headers, &etag_of(&current))?;
    // Removing it would revoke the very token of this request: an automation would
    // lock itself out.
    if actor.client_id == client_id {
        return Err(Problem::new(
            crate::error::ProblemKind::Conflict,
            "this is the client the access token belongs to: remove it with another one",
        ));
    }
    rules::remove(&state.db, &client_id).await?;
    state.clients.forget(&client_id);
    audit_change(
        &state,
        &actor,
        "client_removed",
        None,
        &format!("client {client_id}"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/clients/{client_id}", tag = "clients", request_body = ClientUpdate,
    params(("client_id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ClientOut), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn update(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    JsonBody(changes): JsonBody<ClientUpdate>,
) -> Result<Response, Problem> {
    let read = rules::show(&state.db, &client_id).await?;
    check_if_match(&headers, &etag_of(&ClientOut::from(read.clone())))?;
    let changed = super::input::given_fields(&[
        ("name", changes.name.is_some()),
        ("redirect_uris", changes.redirect_uris.is_some()),
        (
            "post_logout_redirect_uris",
            changes.post_logout_redirect_uris.is_some(),
        ),
        ("grant_types", changes.grant_types.is_some()),
        ("scopes", changes.scopes.is_some()),
        ("allowed_groups", changes.allowed_groups.is_some()),
        ("skip_consent", changes.skip_consent.is_some()),
        (
            "id_token_signed_response_alg",
            changes.id_token_signed_response_alg.is_some(),
        ),
        (
            "backchannel_logout_uri",
            changes.backchannel_logout_uri.is_some(),
        ),
    ]);
    let view = rules::update(
        &state.db,
        &read.client,
        ClientChanges {
            name: changes.name,
            redirect_uris: changes.redirect_uris,
            post_logout_redirect_uris: changes.post_logout_redirect_uris,
            grant_types: changes.grant_types,
            scopes: changes.scopes,
            allowed_groups: changes.allowed_groups,
            skip_consent: changes.skip_consent,
            id_token_alg: changes.id_token_signed_response_alg,
            backchannel_logout_uri: changes.backchannel_logout_uri,
        },
        state.now(),
    )
    .await?;
    state.clients.forget(&client_id);
    let detail = format!("client {client_id}: {}", changed);
    audit_change(&state, &actor, "client_updated", None, &detail).await?;
    Ok(shown(view.into()))
}

/// A new generated secret; the previous one keeps working for
/// GATEHOUSE_CLIENT_SECRET_OVERLAP seconds.
#[utoipa::path(post, path = "/clients/{client_id}/secret", tag = "clients",
    params(("client_id" = String, Path)),
    responses((status = 200, body = NewSecret), super::Errors),
    security(("bearer" = ["gatehouse:admin"])))]
pub async fn rotate_secret(
    Writer(actor): Writer,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<NewSecret>, Problem> {
    let now = state.now();
    let overlap = state.config.client_secret_overlap;
    let secret = rules::rotate_secret(
        &state.db,
        state.keys.client_secrets(),
        &client_id,
        overlap,
        now,
    )
    .await?;
    state.clients.forget(&client_id);
    let detail = format!("secret of client {client_id} rotated (overlap {overlap} s)");
    audit_change(&state, &actor, "client_secret_rotated", None, &detail).await?;
    Ok(Json(NewSecret {
        client_secret: secret,
        previous_secret_expires_at: (overlap > 0).then_some(now + overlap as i64),
    }))
}
