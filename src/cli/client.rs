//! `gatehouse client …`.

use crate::auth_method::AuthMethod;
use crate::grant_type::GrantType;
use clap::Subcommand;
use serde_json::json;

use super::user::read_stdin_line;
use super::{open_db, print_json, CliError};
use crate::config::Config;
use crate::oidc::redirect_uri;
use crate::secrets::{random_token, CLIENT_SECRETS};
use crate::store::clients::{self, Client};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client application.
    Add {
        client_id: String,
        /// Redirect URI (exact match, but any port on http://127.0.0.1 and
        /// http://[::1]; repeatable). Required unless the client only uses
        /// client_credentials.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where the client may be sent after logout (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (SPA, native app): no secret, PKCE only.
        #[arg(long, conflicts_with = "secret_stdin")]
        public: bool,
        /// Read the client secret from standard input instead of generating one.
        #[arg(long)]
        secret_stdin: bool,
        /// How the client authenticates at the token endpoint: client_secret_basic,
        /// client_secret_post, or none (default: none with --public, client_secret_basic
        /// otherwise).
        #[arg(long, value_parser = parse_auth_method)]
        auth_method: Option<AuthMethod>,
        /// Display name shown on the login and consent pages.
        #[arg(long)]
        name: Option<String>,
        /// Allowed grant type: authorization_code, refresh_token, client_credentials
        /// (repeatable; default authorization_code and refresh_token).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Do not ask users for consent (first-party applications).
        #[arg(long)]
        skip_consent: bool,
        /// A scope the client may request for itself with client_credentials (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Where Gatehouse POSTs logout tokens when a session ends (Back-Channel Logout).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Algorithm of the client's ID tokens (id_token_signed_response_alg).
        #[arg(long, value_parser = ["ES256", "RS256"], default_value = "ES256")]
        id_token_alg: String,
        #[arg(long)]
        json: bool,
    },
    /// Change how a registered client authenticates at the token endpoint.
    SetAuthMethod {
        client_id: String,
        /// client_secret_basic or client_secret_post (a client keeps its kind: a public
        /// client stays `none`).
        #[arg(value_parser = parse_auth_method)]
        method: AuthMethod,
        #[arg(long)]
        json: bool,
    },
    /// List registered clients.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a client and everything issued to it.
    Remove {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_auth_method(value: &str) -> Result<AuthMethod, String> {
    AuthMethod::parse(value).ok_or_else(|| {
        let names: Vec<&str> = AuthMethod::REGISTRABLE.iter().map(|m| m.as_str()).collect();
        format!("use one of {}", names.join(", "))
    })
}

/// The method a new client gets: the one asked for, which must suit its kind.
fn choose_auth_method(public: bool, asked: Option<AuthMethod>) -> Result<AuthMethod, CliError> {
    match (public, asked) {
        (true, None | Some(AuthMethod::None)) => Ok(AuthMethod::None),
        (true, Some(other)) => Err(CliError::Usage(format!(
            "a public client has no secret: --auth-method {other} needs a confidential client"
        ))),
        (false, None) => Ok(AuthMethod::ClientSecretBasic),
        (false, Some(AuthMethod::None)) => Err(CliError::Usage(
            "--auth-method none is for public clients: add --public".into(),
        )),
        (false, Some(method)) => Ok(method),
    }
}

pub fn check_client_id(client_id: &str) -> Result<(), CliError> {
    if !clients::is_valid_client_id(client_id) {
        return Err(CliError::Usage(format!(
            "'{client_id}' is not a valid client id: use 1 to 128 of A-Z a-z 0-9 - . _ ~"
        )));
    }
    // RFC 9700 §4.15.1: a client's own tokens carry its client_id as `sub`, so a
    // client_id must never be mistaken for a user's `sub` (a UUID).
    if uuid::Uuid::parse_str(client_id).is_ok() {
        return Err(CliError::Usage(format!(
            "'{client_id}' has the shape of a user identifier (a UUID): choose another client id"
        )));
    }
    Ok(())
}

fn check_uris(uris: &[String]) -> Result<(), CliError> {
    for uri in uris {
        redirect_uri::validate_registration(uri).map_err(CliError::Usage)?;
    }
    Ok(())
}

fn check_grant_types(grant_types: &[String]) -> Result<Vec<String>, CliError> {
    if grant_types.is_empty() {
        return Ok(GrantType::DEFAULT.map(|g| g.as_str().to_string()).to_vec());
    }
    let mut kept: Vec<String> = Vec::new();
    for g in grant_types {
        if GrantType::parse(g).is_none() {
            let supported: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
            return Err(CliError::Usage(format!(
                "grant type '{g}' is not supported (supported: {})",
                supported.join(", ")
            )));
        }
        if !kept.contains(g) {
            kept.push(g.clone());
        }
    }
    Ok(kept)
}

pub async fn run(config: &Config, command: ClientCommand) -> Result<(), CliError> {
    match command {
        ClientCommand::Add {
            client_id,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            secret_stdin,
            auth_method,
            name,
            grant_types,
            skip_consent,
            scopes,
            backchannel_logout_uri,
            id_token_alg,
            json,
        } => {
            if let Some(uri) = &backchannel_logout_uri {
                // Back-Channel Logout §2.2: an absolute URI, https except on loopback.
                redirect_uri::validate_registration(uri).map_err(CliError::Usage)?;
            }
            if let Some(bad) = scopes
                .iter()
                .find(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()))
            {
                return Err(CliError::Usage(format!("'{bad}' is not a scope token")));
            }
            check_client_id(&client_id)?;
            check_uris(&redirect_uris)?;
            check_uris(&post_logout_redirect_uris)?;
            let grant_types = check_grant_types(&grant_types)?;
            let auth_method = choose_auth_method(public, auth_method)?;
            if redirect_uris.is_empty()
                && grant_types
                    .iter()
                    .any(|g| g == GrantType::AuthorizationCode.as_str())
            {
                return Err(CliError::Usage(
                    "the authorization_code grant needs at least one --redirect-uri".into(),
                ));
            }
            if public
                && grant_types
                    .iter()
                    .any(|g| g == GrantType::ClientCredentials.as_str())
            {
                return Err(CliError::Usage(
                    "a public client cannot use client_credentials (it has no secret)".into(),
                ));
            }
            // Only the SHA-256 of a secret is stored, which is safe for high-entropy
            // secrets only: generated ones are 256-bit, given ones must be long.
            let (secret, generated) = if public {
                (None, false)
            } else if secret_stdin {
                let secret = read_stdin_line()?;
                if secret.len() < 32 {
                    return Err(CliError::Usage(
                        "a client secret must have at least 32 characters".into(),
                    ));
                }
                (Some(secret), false)
            } else {
                (Some(random_token()), true)
            };
            let mut client = Client {
                name: name.unwrap_or_else(|| client_id.clone()),
                client_id,
                // Set below, keyed with the master key, once the database is open.
                secret_hash: None,
                redirect_uris,
                post_logout_redirect_uris,
                grant_types,
                allowed_scopes: scopes,
                backchannel_logout_uri,
                token_endpoint_auth_method: auth_method,
                id_token_signed_response_alg: id_token_alg,
                skip_consent,
                created_at: crate::clock::Clock::system().now(),
            };
            let db = open_db(config).await?;
            if let Some(secret) = &secret {
                let master = super::keys::load_master(config, &db).await?;
                client.secret_hash = Some(master.digest_key(CLIENT_SECRETS).digest(secret));
            }
            if crate::store::users::find(&db, &client.client_id)
                .await?
                .is_some()
            {
                return Err(CliError::Usage(format!(
                    "'{}' is a user's identifier: choose another client id",
                    client.client_id
                )));
            }
            clients::create(&db, &client).await?;
            let shown_secret = secret.filter(|_| generated);
            if json {
                let mut value = serde_json::to_value(&client).map_err(anyhow::Error::from)?;
                if let Some(secret) = &shown_secret {
                    value["client_secret"] = json!(secret);
                }
                print_json(&value)?;
            } else {
                crate::say!("created client {}", client.client_id);
                if let Some(secret) = &shown_secret {
                    crate::say!("client_secret: {secret}");
                    crate::say!("(store it now: it is not stored and cannot be shown again)");
                }
            }
            Ok(())
        }
        ClientCommand::SetAuthMethod {
            client_id,
            method,
            json,
        } => {
            let db = open_db(config).await?;
            let client = clients::find(&db, &client_id)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no client '{client_id}'")))?;
            choose_auth_method(client.is_public(), Some(method))?;
            clients::set_auth_method(&db, &client_id, method).await?;
            if json {
                print_json(
                    &json!({ "client_id": client_id, "token_endpoint_auth_method": method }),
                )?;
            } else {
                crate::say!("client {client_id} now authenticates with {method}");
                crate::say!("(running nodes apply it within GATEHOUSE_CLIENT_CACHE_TTL seconds)");
            }
            Ok(())
        }
        ClientCommand::List { json } => {
            let db = open_db(config).await?;
            let list = clients::list(&db).await?;
            if json {
                print_json(&list)?;
            } else {
                crate::say!(
                    "{:<24} {:<12} {:<20} {:<40} REDIRECT URIS",
                    "CLIENT ID",
                    "TYPE",
                    "NAME",
                    "AUTH METHOD"
                );
                for c in &list {
                    let kind = if c.is_public() {
                        "public"
                    } else {
                        "confidential"
                    };
                    crate::say!(
                        "{:<24} {:<12} {:<20} {:<40} {}",
                        c.client_id,
                        kind,
                        c.name,
                        c.token_endpoint_auth_method.as_str(),
                        c.redirect_uris.join(" ")
                    );
                }
            }
            Ok(())
        }
        ClientCommand::Remove { client_id, json } => {
            let db = open_db(config).await?;
            if !clients::remove(&db, &client_id).await? {
                return Err(CliError::Usage(format!("no client '{client_id}'")));
            }
            if json {
                print_json(&json!({ "removed": client_id }))?;
            } else {
                crate::say!("removed client {client_id}");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_url_safe() {
        assert!(check_client_id("my-app_1.0~x").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("a b").is_err());
        assert!(check_client_id("a:b").is_err());
    }

    #[test]
    fn grant_types_default_and_validate() {
        assert_eq!(
            check_grant_types(&[]).unwrap(),
            vec!["authorization_code", "refresh_token"]
        );
        assert!(check_grant_types(&["implicit".into()]).is_err());
    }
}
