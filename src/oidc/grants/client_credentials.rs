//! The client_credentials grant (RFC 6749 §4.4): a confidential client acting on
//! its own behalf.

use crate::error::{Error, ErrorCode, Result};
use crate::grant_type::GrantType;
use crate::oidc::token::TokenResponse;
use crate::state::AppState;
use crate::store::clients::Client;
use crate::web::params::Params;

use super::issue;

/// Scopes about a person mean nothing without one: every scope the sign-in offers.
fn needs_user(scope: &str) -> bool {
    crate::oidc::scopes::SUPPORTED.contains(&scope)
}

/// Registered scopes a token gets only when asked for by name: a default must never
/// hand out the right to administer Gatehouse.
fn only_when_asked(scope: &str) -> bool {
    scope.starts_with("gatehouse:")
}

pub fn exchange(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse> {
    // RFC 6749 §4.4: only confidential clients.
    if client.is_public() || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(Error::json(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        ));
    }
    let requested = params.get("scope").unwrap_or_default();
    if let Some(bad) = requested.split(' ').find(|s| needs_user(s)) {
        return Err(Error::json(
            ErrorCode::InvalidScope,
            format!("scope '{bad}' needs a user; client_credentials has none"),
        ));
    }
    // RFC 6749 §3.3: the server grants by its policy: only scopes registered for the
    // client (`client add --scope`).
    if let Some(bad) = requested
        .split(' ')
        .find(|s| !s.is_empty() && !client.allowed_scopes.iter().any(|a| a == s))
    {
        return Err(Error::json(
            ErrorCode::InvalidScope,
            format!("scope '{bad}' is not allowed for this client"),
        ));
    }
    // RFC 6749 §3.3: with no scope asked for, the server applies its default: the
    // scopes registered for the client.
    let scope = if requested.trim().is_empty() {
        client
            .allowed_scopes
            .iter()
            .filter(|s| !needs_user(s) && !only_when_asked(s))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        requested
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    issue::for_client(state, client, &scope)
}
