//! Minting the signed tokens a grant type answers with.

use crate::error::{Error, ErrorCode, Result};
use crate::keys::jwt;
use crate::oidc::access_token::new_jti;
use crate::oidc::token::TokenResponse;
use crate::oidc::tokens::{self, AccessTokenClaims, IdTokenClaims};
use crate::oidc::{claims_request, scopes};
use crate::state::AppState;
use crate::store::clients::Client;
use crate::store::grants::{self, Grant};
use crate::store::{audit, groups, users};

/// Tokens for a person's grant: an access token and an ID token (OIDC Core §3.1.3.3,
/// §12.2: on refresh the ID token keeps sub, aud, auth_time, azp and sid, and has no
/// nonce), plus the refresh token when one was issued.
pub async fn for_grant(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    scope: &str,
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<TokenResponse> {
    let now = state.now();
    // A client that admits only some groups stops serving a user who left them at
    // the next token: the grant ends (a sign-in decides afresh).
    if !groups::admits(&state.db, client, &grant.user_id).await? {
        grants::revoke(&state.db, &grant.id, "user not in an allowed group", now).await?;
        audit::record(
            &state.db,
            audit::Event {
                actor: None,
                kind: "access_denied",
                user_id: Some(&grant.user_id),
                client_id: Some(&client.client_id),
                ip: None,
                detail: Some("not in an allowed group of the client; grant revoked"),
            },
            now,
        )
        .await?;
        return Err(Error::json(
            ErrorCode::InvalidGrant,
            "the user may no longer use this application",
        ));
    }
    // Admin scopes only while the user is in the admin group (left it: dropped).
    let scope = &crate::domain::groups::scope_for_user(
        &state.db,
        &state.config.admin_group,
        &grant.user_id,
        scope,
    )
    .await?;
    let keys = state.keys.get();
    let config = &state.config;
    let jti = new_jti(Some(&grant.id));
    let amr = crate::store::from_json_list(&grant.amr);
    let access_token = jwt::sign(
        &keys,
        "ES256",
        "at+jwt",
        tokens::access_token(&AccessTokenClaims {
            issuer: &config.issuer,
            subject: &grant.user_id,
            client_id: &grant.client_id,
            scope,
            auth_time: Some(grant.auth_time),
            session_id: grant.session_id.as_deref(),
            jti: &jti,
            issued_at: now,
            ttl: config.access_token_ttl as i64,
        }),
    )?;
    // OIDC Registration §2: id_token_signed_response_alg, ES256 unless the client asked.
    let mut id_claims = tokens::id_token(&IdTokenClaims {
        issuer: &config.issuer,
        subject: &grant.user_id,
        client_id: &grant.client_id,
        nonce,
        auth_time: grant.auth_time,
        session_id: grant.session_id.as_deref(),
        amr: &amr,
        acr: grant.acr.as_deref(),
        access_token: &access_token,
        issued_at: now,
        ttl: config.id_token_ttl as i64,
    });
    if scopes::releases_groups(scope) {
        let names = groups::names_of_user(&state.db, &grant.user_id).await?;
        id_claims.insert("groups".into(), serde_json::json!(names));
    }
    add_requested_claims(state, grant, scope, &mut id_claims).await?;
    let id_token = jwt::sign(
        &keys,
        &client.id_token_signed_response_alg,
        "JWT",
        id_claims,
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl,
        id_token: Some(id_token),
        refresh_token,
        scope: Some(scope.to_string()),
    })
}

/// OIDC Core §5.5: user claims the `claims` parameter asked for in the ID token,
/// released only within the granted scopes; protocol claims are never replaced.
async fn add_requested_claims(
    state: &AppState,
    grant: &Grant,
    scope: &str,
    id_claims: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let requested = claims_request::requested(grant.claims.as_deref(), "id_token");
    if requested.is_empty() {
        return Ok(());
    }
    let Some(user) = users::find(&state.db, &grant.user_id).await? else {
        return Ok(());
    };
    // The groups claim, when released, is in the ID token already.
    let available = scopes::user_claims(&user, &[], scope);
    for name in requested {
        if let (false, Some(value)) = (id_claims.contains_key(&name), available.get(&name)) {
            id_claims.insert(name, value.clone());
        }
    }
    Ok(())
}

/// A client's own access token (client_credentials): sub is the client, no person,
/// no ID token, no refresh token (RFC 6749 §4.4.3).
pub fn for_client(state: &AppState, client: &Client, scope: &str) -> Result<TokenResponse> {
    let keys = state.keys.get();
    let config = &state.config;
    let jti = new_jti(None);
    let access_token = jwt::sign(
        &keys,
        "ES256",
        "at+jwt",
        tokens::access_token(&AccessTokenClaims {
            issuer: &config.issuer,
            subject: &client.client_id,
            client_id: &client.client_id,
            scope,
            auth_time: None,
            session_id: None,
            jti: &jti,
            issued_at: state.now(),
            ttl: config.access_token_ttl as i64,
        }),
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: config.access_token_ttl,
        id_token: None,
        refresh_token: None,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
    })
}
