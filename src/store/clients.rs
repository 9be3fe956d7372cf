//! Clients: the applications registered to sign people in.

use crate::auth_method::AuthMethod;
use crate::grant_type::GrantType;
use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use super::entities::client_allowed_groups as allowed;
use super::entities::clients::{self, Column, Entity};
use super::{conflict, from_json_list, to_json_list, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    /// Scopes the client may request for itself (client_credentials).
    pub allowed_scopes: Vec<String>,
    /// Where logout tokens are POSTed (Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    pub token_endpoint_auth_method: AuthMethod,
    pub id_token_signed_response_alg: String,
    pub skip_consent: bool,
    pub created_at: i64,
    /// When the registration last changed (0: never); a version, not shown.
    #[serde(skip)]
    pub updated_at: i64,
    /// The ids of the groups the client admits (empty: every user), read with the
    /// client so that a cached client answers "may this user sign in" without a query
    /// when it admits everyone.
    #[serde(skip)]
    pub allowed_group_ids: Vec<String>,
}

impl Client {
    /// Public clients (RFC 6749 §2.1) have no secret and authenticate with `none`.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows_grant(&self, grant_type: GrantType) -> bool {
        self.grant_types.iter().any(|g| g == grant_type.as_str())
    }
}

/// Client ids travel in URLs and Basic credentials: 1–128 URL-safe characters.
pub fn is_valid_client_id(client_id: &str) -> bool {
    !client_id.is_empty()
        && client_id.len() <= 128
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl From<clients::Model> for Client {
    fn from(m: clients::Model) -> Self {
        // Written only by this code; an unreadable value falls back to what the
        // client's secret (or its absence) allows at the least.
        let auth_method = AuthMethod::from_stored(&m.token_endpoint_auth_method).unwrap_or(
            if m.secret_hash.is_some() {
                AuthMethod::ClientSecretBasic
            } else {
                AuthMethod::None
            },
        );
        Client {
            client_id: m.client_id,
            name: m.name,
            secret_hash: m.secret_hash,
            redirect_uris: from_json_list(&m.redirect_uris),
            post_logout_redirect_uris: from_json_list(&m.post_logout_redirect_uris),
            grant_types: from_json_list(&m.grant_types),
            allowed_scopes: from_json_list(&m.allowed_scopes),
            backchannel_logout_uri: m.backchannel_logout_uri,
            token_endpoint_auth_method: auth_method,
            id_token_signed_response_alg: m.id_token_signed_response_alg,
            skip_consent: m.skip_consent,
            created_at: m.created_at,
            updated_at: m.updated_at,
            allowed_group_ids: Vec::new(),
        }
    }
}

pub async fn create(db: &impl ConnectionTrait, client: &Client) -> Result<(), StoreError> {
    clients::ActiveModel {
        client_id: Set(client.client_id.clone()),
        name: Set(client.name.clone()),
        secret_hash: Set(client.secret_hash.clone()),
        redirect_uris: Set(to_json_list(&client.redirect_uris)),
        post_logout_redirect_uris: Set(to_json_list(&client.post_logout_redirect_uris)),
        grant_types: Set(to_json_list(&client.grant_types)),
        allowed_scopes: Set(to_json_list(&client.allowed_scopes)),
        backchannel_logout_uri: Set(client.backchannel_logout_uri.clone()),
        token_endpoint_auth_method: Set(client.token_endpoint_auth_method.as_str().to_string()),
        id_token_signed_response_alg: Set(client.id_token_signed_response_alg.clone()),
        skip_consent: Set(client.skip_consent),
        created_at: Set(client.created_at),
        previous_secret_hash: Set(None),
        previous_secret_expires_at: Set(None),
        updated_at: Set(client.updated_at),
    }
    .insert(db)
    .await
    .map_err(|e| conflict(e, format!("client '{}'", client.client_id)))?;
    Ok(())
}

pub async fn find(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Option<Client>, StoreError> {
    let Some(mut client) = Entity::find_by_id(client_id.to_string())
        .one(db)
        .await?
        .map(Client::from)
    else {
        return Ok(None);
    };
    client.allowed_group_ids = allowed::Entity::find()
        .select_only()
        .column(allowed::Column::GroupId)
        .filter(allowed::Column::ClientId.eq(client_id))
        .into_tuple::<String>()
        .all(db)
        .await?;
    Ok(Some(client))
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find().count(db).await?)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Client>, StoreError> {
    let mut admitted: HashMap<String, Vec<String>> = HashMap::new();
    for row in allowed::Entity::find().all(db).await? {
        admitted
            .entry(row.client_id)
            .or_default()
            .push(row.group_id);
    }
    Ok(Entity::find()
        .order_by_asc(Column::ClientId)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let mut client = Client::from(m);
            client.allowed_group_ids = admitted.remove(&client.client_id).unwrap_or_default();
            client
        })
        .collect())
}

/// Replaces a client's stored secret digest, if it is still `old` (a legacy digest
/// upgraded on use: concurrent upgrades write once).
pub async fn upgrade_secret_hash(
    db: &impl ConnectionTrait,
    client_id: &str,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    Entity::update_many()
        .col_expr(Column::SecretHash, Expr::value(new))
        .filter(Column::ClientId.eq(client_id))
        .filter(Column::SecretHash.eq(old))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes a client's editable registration (everything but its id, secret, method
/// and creation time) if it is still as read (`client.updated_at`); false if it
/// changed or went meanwhile.
pub async fn update(
    db: &impl ConnectionTrait,
    client: &Client,
    now: i64,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(client.name.clone()))
        .col_expr(
            Column::RedirectUris,
            Expr::value(to_json_list(&client.redirect_uris)),
        )
        .col_expr(
            Column::PostLogoutRedirectUris,
            Expr::value(to_json_list(&client.post_logout_redirect_uris)),
        )
        .col_expr(
            Column::GrantTypes,
            Expr::value(to_json_list(&client.grant_types)),
        )
        .col_expr(
            Column::AllowedScopes,
            Expr::value(to_json_list(&client.allowed_scopes)),
        )
        .col_expr(
            Column::BackchannelLogoutUri,
            Expr::value(client.backchannel_logout_uri.clone()),
        )
        .col_expr(
            Column::IdTokenSignedResponseAlg,
            Expr::value(client.id_token_signed_response_alg.clone()),
        )
        .col_expr(Column::SkipConsent, Expr::value(client.skip_consent))
        .col_expr(
            Column::UpdatedAt,
            Expr::value(now.max(client.updated_at + 1)),
        )
        .filter(Column::ClientId.eq(client.client_id.as_str()))
        .filter(Column::UpdatedAt.eq(client.updated_at))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Replaces a client's secret digest; the old one keeps working until
/// `previous_until` (None: not at all).
pub async fn rotate_secret(
    db: &impl ConnectionTrait,
    client_id: &str,
    old: &str,
    new: &str,
    previous_until: Option<i64>,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::SecretHash, Expr::value(new))
        .col_expr(
            Column::PreviousSecretHash,
            Expr::value(previous_until.map(|_| old.to_string())),
        )
        .col_expr(Column::PreviousSecretExpiresAt, Expr::value(previous_until))
        .filter(Column::ClientId.eq(client_id))
        .filter(Column::SecretHash.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The digest of a client's previous secret while it still works.
pub async fn previous_secret_hash(
    db: &impl ConnectionTrait,
    client_id: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    Ok(Entity::find_by_id(client_id.to_string())
        .one(db)
        .await?
        .filter(|m| m.previous_secret_expires_at.is_some_and(|t| t > now))
        .and_then(|m| m.previous_secret_hash))
}

/// Sets how a client authenticates. False if unknown.
pub async fn set_auth_method(
    db: &impl ConnectionTrait,
    client_id: &str,
    method: AuthMethod,
) -> Result<bool, StoreError> {
    let result = Entity::update_many()
        .col_expr(
            Column::TokenEndpointAuthMethod,
            Expr::value(method.as_str()),
        )
        .filter(Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Removes a client and (by cascade) its grants, codes and consents. False if unknown.
pub async fn remove(db: &impl ConnectionTrait, client_id: &str) -> Result<bool, StoreError> {
    let result = Entity::delete_by_id(client_id.to_string()).exec(db).await?;
    Ok(result.rows_affected > 0)
}

/// Clients as the token, introspection and revocation endpoints read them: every call
/// authenticates one, and registrations change rarely. Each entry is kept for
/// `GATEHOUSE_CLIENT_CACHE_TTL` seconds of real time, so a change made with the CLI
/// or on another node reaches every node within that time; 0 turns the cache off.
/// Unknown ids are never cached (they are looked up every time).
pub struct ClientCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<HashMap<String, (std::time::Instant, Arc<Client>)>>,
}

impl ClientCache {
    pub fn new(ttl_seconds: u64) -> ClientCache {
        ClientCache {
            ttl: std::time::Duration::from_secs(ttl_seconds),
            entries: Default::default(),
        }
    }

    pub async fn find(
        &self,
        db: &impl ConnectionTrait,
        client_id: &str,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if self.ttl.is_zero() {
            return Ok(find(db, client_id).await?.map(Arc::new));
        }
        if let Some((read_at, client)) = self.lock().get(client_id) {
            if read_at.elapsed() < self.ttl {
                return Ok(Some(client.clone()));
            }
        }
        let read_at = std::time::Instant::now();
        let found = find(db, client_id).await?.map(Arc::new);
        let mut entries = self.lock();
        match &found {
            Some(client) => {
                entries.insert(client_id.to_string(), (read_at, client.clone()));
            }
            None => {
                entries.remove(client_id);
            }
        }
        Ok(found)
    }

    /// Drops what this node holds for `client_id` (it changed).
    pub fn forget(&self, client_id: &str) {
        self.lock().remove(client_id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (std::time::Instant, Arc<Client>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
