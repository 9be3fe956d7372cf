//! `gatehouse client …`.

use crate::auth_method::AuthMethod;
use clap::Subcommand;
use serde_json::json;

use super::user::read_stdin_line;
use super::{open_db, print_json, CliError};
use crate::config::Config;
use crate::domain::clients::{self as client_rules, Registration, Secret};
use crate::secrets::CLIENT_SECRETS;

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
        /// Only members of this group may sign in to the client (repeatable; none:
        /// every user).
        #[arg(long = "allowed-group")]
        allowed_groups: Vec<String>,
        /// Where Gatehouse POSTs logout tokens when a session ends (Back-Channel Logout).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Algorithm of the client's ID tokens (id_token_signed_response_alg; default ES256).
        #[arg(long, value_parser = ["ES256", "RS256"])]
        id_token_alg: Option<String>,
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
    /// Show one client with the groups it admits.
    Show {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a client's registration; a list option replaces the whole list.
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long = "allowed-group")]
        allowed_groups: Vec<String>,
        /// Admit every user again (no allowed groups).
        #[arg(long, conflicts_with = "allowed_groups")]
        all_users: bool,
        #[arg(long, value_parser = clap::value_parser!(bool))]
        skip_consent: Option<bool>,
        #[arg(long, value_parser = ["ES256", "RS256"])]
        id_token_alg: Option<String>,
        /// The back-channel logout URI ("" removes it).
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give a confidential client a new generated secret, printed once; the old one
    /// keeps working for GATEHOUSE_CLIENT_SECRET_OVERLAP seconds.
    RotateSecret {
        client_id: String,
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
    AuthMethod::parse_registrable(value)
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
            allowed_groups,
            backchannel_logout_uri,
            id_token_alg,
            json,
        } => {
            let secret = match (public, secret_stdin) {
                (true, _) => None,
                (false, true) => Some(Secret::Given(read_stdin_line()?)),
                (false, false) => Some(Secret::Generate),
            };
            let db = open_db(config).await?;
            let master = super::keys::load_master(config, &db).await?;
            let registered = client_rules::register(
                &db,
                &master.digest_key(CLIENT_SECRETS),
                Registration {
                    client_id,
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    secret,
                    auth_method,
                    grant_types,
                    scopes,
                    allowed_groups,
                    backchannel_logout_uri,
                    id_token_alg,
                    skip_consent,
                },
                crate::clock::Clock::system().now(),
            )
            .await?;
            let client_id = &registered.view.client.client_id;
            let now = crate::clock::Clock::system().now();
            let detail = format!("client {client_id}; command line");
            super::audit(&db, "client_created", None, &detail, now).await?;
            if json {
                let mut value =
                    serde_json::to_value(&registered.view).map_err(anyhow::Error::from)?;
                if let Some(secret) = &registered.generated_secret {
                    value["client_secret"] = json!(secret);
                }
                print_json(&value)?;
            } else {
                crate::say!("created client {client_id}");
                if let Some(secret) = &registered.generated_secret {
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
            client_rules::set_auth_method(&db, &client_id, method).await?;
            let now = crate::clock::Clock::system().now();
            let detail = format!("client {client_id} authenticates with {method}; command line");
            super::audit(&db, "client_updated", None, &detail, now).await?;
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
        ClientCommand::Show { client_id, json } => {
            let db = open_db(config).await?;
            let view = client_rules::show(&db, &client_id).await?;
            if json {
                print_json(&view)?;
            } else {
                let value = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
                if let Some(fields) = value.as_object() {
                    for (name, v) in fields {
                        crate::say!("{name:<28} {v}");
                    }
                }
            }
            Ok(())
        }
        ClientCommand::Update {
            client_id,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            allowed_groups,
            all_users,
            skip_consent,
            id_token_alg,
            backchannel_logout_uri,
            json,
        } => {
            let list = |v: Vec<String>| (!v.is_empty()).then_some(v);
            let db = open_db(config).await?;
            let read = client_rules::show(&db, &client_id).await?;
            let view = client_rules::update(
                &db,
                &read.client,
                client_rules::ClientChanges {
                    name,
                    redirect_uris: list(redirect_uris),
                    post_logout_redirect_uris: list(post_logout_redirect_uris),
                    grant_types: list(grant_types),
                    scopes: list(scopes),
                    allowed_groups: if all_users {
                        Some(Vec::new())
                    } else {
                        list(allowed_groups)
                    },
                    skip_consent,
                    id_token_alg,
                    backchannel_logout_uri: backchannel_logout_uri
                        .map(|u| (!u.is_empty()).then_some(u)),
                },
                crate::clock::Clock::system().now(),
            )
            .await?;
            let now = crate::clock::Clock::system().now();
            let detail = format!("client {client_id}; command line");
            super::audit(&db, "client_updated", None, &detail, now).await?;
            if json {
                print_json(&view)?;
            } else {
                crate::say!("updated client {client_id}");
                crate::say!("(running nodes apply it within GATEHOUSE_CLIENT_CACHE_TTL seconds)");
            }
            Ok(())
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let db = open_db(config).await?;
            let master = super::keys::load_master(config, &db).await?;
            let now = crate::clock::Clock::system().now();
            let overlap = config.client_secret_overlap;
            let secret = client_rules::rotate_secret(
                &db,
                &master.digest_key(CLIENT_SECRETS),
                &client_id,
                overlap,
                now,
            )
            .await?;
            let until = (overlap > 0).then_some(now + overlap as i64);
            let detail =
                format!("secret of client {client_id} rotated (overlap {overlap} s); command line");
            super::audit(&db, "client_secret_rotated", None, &detail, now).await?;
            if json {
                print_json(&json!({
                    "client_id": client_id,
                    "client_secret": secret,
                    "previous_secret_expires_at": until,
                }))?;
            } else {
                crate::say!("client_secret: {secret}");
                crate::say!("(store it now: it is not stored and cannot be shown again)");
                match until {
                    Some(_) => crate::say!("the previous secret works for {overlap} more seconds"),
                    None => crate::say!("the previous secret no longer works"),
                }
            }
            Ok(())
        }
        ClientCommand::List { json } => {
            let db = open_db(config).await?;
            let list = client_rules::list(&db).await?;
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
                for c in list.iter().map(|v| &v.client) {
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
            client_rules::remove(&db, &client_id).await?;
            let now = crate::clock::Clock::system().now();
            let detail = format!("client {client_id}; command line");
            super::audit(&db, "client_removed", None, &detail, now).await?;
            if json {
                print_json(&json!({ "removed": client_id }))?;
            } else {
                crate::say!("removed client {client_id}");
            }
            Ok(())
        }
    }
}
