//! Registering and changing client applications: the rules the command line, the
//! admin API and the console share.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde::Serialize;

use super::{groups as group_rules, Refusal};
use crate::auth_method::AuthMethod;
use crate::grant_type::GrantType;
use crate::redirect_uri;
use crate::secrets::{random_token, DigestKey};
use crate::store::clients::{self, Client};
use crate::store::{groups, users};

/// The shortest client secret an operator may choose: only a digest is kept, which
/// is safe for high-entropy secrets only (generated ones are 256-bit).
pub const MIN_SECRET_LEN: usize = 32;

/// Where a confidential client's secret comes from.
pub enum Secret {
    Generate,
    Given(String),
}

/// A client as asked for.
pub struct Registration {
    pub client_id: String,
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// None: a public client.
    pub secret: Option<Secret>,
    pub auth_method: Option<AuthMethod>,
    /// Empty: the default pair.
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub allowed_groups: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// None: ES256 (OIDC Registration §2 lets the provider choose; ours is ES256).
    pub id_token_alg: Option<String>,
    pub skip_consent: bool,
}

/// A client with the groups it admits, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    #[serde(flatten)]
    pub client: Client,
    /// Group names; empty: every user.
    pub allowed_groups: Vec<String>,
}

/// A registered client and, when it was generated, its secret (shown once).
pub struct Registered {
    pub view: ClientView,
    pub generated_secret: Option<String>,
}

pub fn check_client_id(client_id: &str) -> Result<(), Refusal> {
    if !clients::is_valid_client_id(client_id) {
        return Err(Refusal::invalid(
            "client_id",
            format!("'{client_id}' is not a valid client id: use 1 to 128 of A-Z a-z 0-9 - . _ ~"),
        ));
    }
    // RFC 9700 §4.15.1: a client's own tokens carry its client_id as `sub`, so a
    // client_id must never be mistaken for a user's `sub` (a UUID).
    if uuid::Uuid::parse_str(client_id).is_ok() {
        return Err(Refusal::invalid(
            "client_id",
            format!(
                "'{client_id}' has the shape of a user identifier (a UUID): choose another client id"
            ),
        ));
    }
    Ok(())
}

fn check_uris(field: &'static str, uris: &[String]) -> Result<(), Refusal> {
    for uri in uris {
        redirect_uri::validate_registration(uri).map_err(|m| Refusal::invalid(field, m))?;
    }
    Ok(())
}

pub fn check_grant_types(grant_types: &[String]) -> Result<Vec<String>, Refusal> {
    if grant_types.is_empty() {
        return Ok(GrantType::DEFAULT.map(|g| g.as_str().to_string()).to_vec());
    }
    let mut kept: Vec<String> = Vec::new();
    for g in grant_types {
        if GrantType::parse(g).is_none() {
            let supported: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
            return Err(Refusal::invalid(
                "grant_types",
                format!(
                    "grant type '{g}' is not supported (supported: {})",
                    supported.join(", ")
                ),
            ));
        }
        if !kept.contains(g) {
            kept.push(g.clone());
        }
    }
    Ok(kept)
}

fn check_scopes(scopes: &[String]) -> Result<(), Refusal> {
    match scopes
        .iter()
        .find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        Some(bad) => Err(Refusal::invalid(
            "scopes",
            format!("'{bad}' is not a scope token"),
        )),
        None => Ok(()),
    }
}

/// The method a client gets: the one asked for, which must suit its kind.
pub fn choose_auth_method(public: bool, asked: Option<AuthMethod>) -> Result<AuthMethod, Refusal> {
    match (public, asked) {
        (true, None | Some(AuthMethod::None)) => Ok(AuthMethod::None),
        (true, Some(other)) => Err(Refusal::invalid(
            "token_endpoint_auth_method",
            format!("a public client has no secret: {other} needs a confidential client"),
        )),
        (false, None) => Ok(AuthMethod::ClientSecretBasic),
        (false, Some(AuthMethod::None)) => Err(Refusal::invalid(
            "token_endpoint_auth_method",
            "none is for public clients",
        )),
        (false, Some(method)) => Ok(method),
    }
}

/// The rules every registration, new or changed, must meet together.
fn check_shape(client: &Client) -> Result<(), Refusal> {
    if client.is_public() && client.allows_grant(GrantType::ClientCredentials) {
        return Err(Refusal::invalid(
            "grant_types",
            "a public client cannot use client_credentials (it has no secret)",
        ));
    }
    if client.redirect_uris.is_empty() && client.allows_grant(GrantType::AuthorizationCode) {
        return Err(Refusal::invalid(
            "redirect_uris",
            "the authorization_code grant needs at least one redirect URI",
        ));
    }
    if let Some(uri) = &client.backchannel_logout_uri {
        // Back-Channel Logout §2.2: an absolute URI, https except on loopback.
        redirect_uri::validate_registration(uri)
            .map_err(|m| Refusal::invalid("backchannel_logout_uri", m))?;
    }
    if !crate::keys::lifecycle::ALGS.contains(&client.id_token_signed_response_alg.as_str()) {
        return Err(Refusal::invalid(
            "id_token_signed_response_alg",
            format!(
                "'{}' is not offered (use one of {})",
                client.id_token_signed_response_alg,
                crate::keys::lifecycle::ALGS.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Registers a client, with the groups it admits, in one transaction.
pub async fn register(
    db: &DatabaseConnection,
    secrets: &DigestKey,
    registration: Registration,
    now: i64,
) -> Result<Registered, Refusal> {
    let r = registration;
    check_client_id(&r.client_id)?;
    check_uris("redirect_uris", &r.redirect_uris)?;
    check_uris("post_logout_redirect_uris", &r.post_logout_redirect_uris)?;
    check_scopes(&r.scopes)?;
    let grant_types = check_grant_types(&r.grant_types)?;
    let auth_method = choose_auth_method(r.secret.is_none(), r.auth_method)?;
    let (secret_hash, generated_secret) = match r.secret {
        None => (None, None),
        Some(Secret::Given(secret)) => {
            if secret.len() < MIN_SECRET_LEN {
                return Err(Refusal::invalid(
                    "client_secret",
                    format!("a client secret must have at least {MIN_SECRET_LEN} characters"),
                ));
            }
            (Some(secrets.digest(&secret)), None)
        }
        Some(Secret::Generate) => {
            let secret = random_token();
            (Some(secrets.digest(&secret)), Some(secret))
        }
    };
    let client = Client {
        name: r.name.unwrap_or_else(|| r.client_id.clone()),
        client_id: r.client_id,
        secret_hash,
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        grant_types,
        allowed_scopes: r.scopes,
        backchannel_logout_uri: r.backchannel_logout_uri,
        token_endpoint_auth_method: auth_method,
        id_token_signed_response_alg: r.id_token_alg.unwrap_or_else(|| "ES256".into()),
        skip_consent: r.skip_consent,
        created_at: now,
        updated_at: 0,
        allowed_group_ids: vec![],
    };
    check_shape(&client)?;
    let txn = db.begin().await?;
    if users::find(&txn, &client.client_id).await?.is_some() {
        return Err(Refusal::invalid(
            "client_id",
            format!(
                "'{}' is a user's identifier: choose another client id",
                client.client_id
            ),
        ));
    }
    let group_ids = group_rules::ids_of(&txn, "allowed_groups", &r.allowed_groups).await?;
    let mut client = client;
    client.allowed_group_ids = group_ids.clone();
    clients::create(&txn, &client).await?;
    groups::set_allowed_for_client(&txn, &client.client_id, &group_ids).await?;
    let allowed_groups = names(&txn, &client.client_id).await?;
    txn.commit().await?;
    Ok(Registered {
        view: ClientView {
            client,
            allowed_groups,
        },
        generated_secret,
    })
}

async fn names(db: &impl ConnectionTrait, client_id: &str) -> Result<Vec<String>, Refusal> {
    Ok(groups::allowed_for_client(db, client_id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect())
}

/// A client with the groups it admits.
pub async fn show(db: &impl ConnectionTrait, client_id: &str) -> Result<ClientView, Refusal> {
    let client = clients::find(db, client_id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no client '{client_id}'")))?;
    let allowed_groups = names(db, client_id).await?;
    Ok(ClientView {
        client,
        allowed_groups,
    })
}

/// Every client with the groups it admits (two statements however many clients:
/// the clients carry their groups' ids).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<ClientView>, Refusal> {
    let names: std::collections::HashMap<String, String> = groups::list(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    Ok(clients::list(db)
        .await?
        .into_iter()
        .map(|client| {
            let mut allowed_groups: Vec<String> = client
                .allowed_group_ids
                .iter()
                .filter_map(|id| names.get(id).cloned())
                .collect();
            allowed_groups.sort();
            ClientView {
                client,
                allowed_groups,
            }
        })
        .collect())
}

/// Changes to a registration; None leaves a value as it is.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub allowed_groups: Option<Vec<String>>,
    pub skip_consent: Option<bool>,
    pub id_token_alg: Option<String>,
    /// Some(None) removes it.
    pub backchannel_logout_uri: Option<Option<String>>,
}

/// Applies `changes` to the registration as it was `read`, with the rules of a new
/// registration, in one transaction; Stale if it changed meanwhile. Running nodes see
/// the change within GATEHOUSE_CLIENT_CACHE_TTL.
pub async fn update(
    db: &DatabaseConnection,
    read: &Client,
    changes: ClientChanges,
    now: i64,
) -> Result<ClientView, Refusal> {
    let client_id = read.client_id.as_str();
    let mut client = read.clone();
    if let Some(name) = changes.name {
        if name.trim().is_empty()
            || name.chars().count() > 128
            || name.chars().any(char::is_control)
        {
            return Err(Refusal::invalid("name", "a name has 1 to 128 characters"));
        }
        client.name = name;
    }
    if let Some(uris) = changes.redirect_uris {
        check_uris("redirect_uris", &uris)?;
        client.redirect_uris = uris;
    }
    if let Some(uris) = changes.post_logout_redirect_uris {
        check_uris("post_logout_redirect_uris", &uris)?;
        client.post_logout_redirect_uris = uris;
    }
    if let Some(grant_types) = changes.grant_types {
        client.grant_types = check_grant_types(&grant_types)?;
    }
    if let Some(scopes) = changes.scopes {
        check_scopes(&scopes)?;
        client.allowed_scopes = scopes;
    }
    if let Some(skip) = changes.skip_consent {
        client.skip_consent = skip;
    }
    if let Some(alg) = changes.id_token_alg {
        client.id_token_signed_response_alg = alg;
    }
    if let Some(uri) = changes.backchannel_logout_uri {
        client.backchannel_logout_uri = uri;
    }
    check_shape(&client)?;
    let txn = db.begin().await?;
    if !clients::update(&txn, &client, now).await? {
        return Err(Refusal::Stale(format!(
            "client '{client_id}' changed or went meanwhile: read it again"
        )));
    }
    if let Some(names) = &changes.allowed_groups {
        let ids = group_rules::ids_of(&txn, "allowed_groups", names).await?;
        groups::set_allowed_for_client(&txn, client_id, &ids).await?;
    }
    let allowed_groups = names(&txn, client_id).await?;
    let client = clients::find(&txn, client_id).await?.unwrap_or(client);
    txn.commit().await?;
    Ok(ClientView {
        client,
        allowed_groups,
    })
}

/// Gives a confidential client a new generated secret, returned once. The old one
/// keeps working for `overlap` seconds (0: it stops now).
pub async fn rotate_secret(
    db: &impl ConnectionTrait,
    secrets: &DigestKey,
    client_id: &str,
    overlap: u64,
    now: i64,
) -> Result<String, Refusal> {
    let client = clients::find(db, client_id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no client '{client_id}'")))?;
    let Some(old) = &client.secret_hash else {
        return Err(Refusal::Conflict(format!(
            "'{client_id}' is a public client: it has no secret"
        )));
    };
    let secret = random_token();
    let previous_until = (overlap > 0).then_some(now + overlap as i64);
    if !clients::rotate_secret(db, client_id, old, &secrets.digest(&secret), previous_until).await?
    {
        return Err(Refusal::Conflict(
            "the secret was rotated at the same moment by another request: try again".into(),
        ));
    }
    Ok(secret)
}

/// Removes a client and everything issued to it (grants, codes, consents, its own
/// tokens). Running nodes stop authenticating it within GATEHOUSE_CLIENT_CACHE_TTL.
pub async fn remove(db: &impl ConnectionTrait, client_id: &str) -> Result<(), Refusal> {
    if !clients::remove(db, client_id).await? {
        return Err(Refusal::not_found(format!("no client '{client_id}'")));
    }
    Ok(())
}

/// Changes how a confidential client authenticates; a client keeps its kind.
pub async fn set_auth_method(
    db: &impl ConnectionTrait,
    client_id: &str,
    method: AuthMethod,
) -> Result<(), Refusal> {
    let client = clients::find(db, client_id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no client '{client_id}'")))?;
    choose_auth_method(client.is_public(), Some(method))?;
    clients::set_auth_method(db, client_id, method).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_url_safe_and_never_uuids() {
        assert!(check_client_id("my-app_1.0~x").is_ok());
        for bad in ["", "a b", "a:b", "0b5f4e0e-3a8e-4a55-9a3e-3f9c1c2b7d11"] {
            assert!(check_client_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grant_types_default_and_validate() {
        assert_eq!(
            check_grant_types(&[]).unwrap(),
            vec!["authorization_code", "refresh_token"]
        );
        assert!(check_grant_types(&["implicit".into()]).is_err());
    }

    #[test]
    fn auth_method_suits_the_kind() {
        use AuthMethod::*;
        let table = [
            (true, Option::None, Ok(None)),
            (true, Some(None), Ok(None)),
            (true, Some(ClientSecretBasic), Err(())),
            (true, Some(ClientSecretPost), Err(())),
            (false, Option::None, Ok(ClientSecretBasic)),
            (false, Some(ClientSecretPost), Ok(ClientSecretPost)),
            (false, Some(None), Err(())),
        ];
        for (public, asked, expected) in table {
            assert_eq!(
                choose_auth_method(public, asked).map_err(|_| ()),
                expected,
                "{public} {asked:?}"
            );
        }
    }
}
