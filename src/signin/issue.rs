//! The end of a sign-in: the grant and its authorization code, created together,
//! and the redirect back to the client (RFC 6749 §4.1.2, RFC 9207).

use axum::http::StatusCode;
use axum::response::Response;
use sea_orm::TransactionTrait;

use crate::auth::mfa;
use crate::error::{Error, Result};
use crate::signin::interaction::is_form_post;
use crate::state::AppState;
use crate::store::authorization_codes::{self, NewCode};
use crate::store::authorization_requests::{self, PendingRequest};
use crate::store::clients::Client;
use crate::store::from_json_list;
use crate::store::grants::{self, NewGrant};
use crate::store::sessions::Session;

pub async fn code(
    state: &AppState,
    client: &Client,
    pending: &PendingRequest,
    session: &Session,
) -> Result<Response> {
    let now = state.now();
    let amr = from_json_list(&session.amr);
    let scope = crate::domain::groups::scope_for_user(
        &state.db,
        &state.config.admin_group,
        &session.user_id,
        &pending.scope,
    )
    .await?;
    let txn = state.db.begin().await?;
    if !authorization_requests::complete(&txn, &pending.id).await? {
        // Another tab or a double submit finished it first.
        return Err(Error::page(
            StatusCode::BAD_REQUEST,
            "Sign-in already completed",
            "This sign-in request was already completed. Return to the application.",
        ));
    }
    let grant = grants::create(
        &txn,
        NewGrant {
            user_id: &session.user_id,
            client_id: &client.client_id,
            session_id: Some(&session.id),
            scope: &scope,
            auth_time: session.auth_time,
            amr: &amr,
            acr: Some(mfa::acr_for(&amr)),
            claims: pending.claims.as_deref(),
        },
        now,
        state.config.grant_ttl as i64,
    )
    .await?;
    let code = authorization_codes::create(
        &txn,
        NewCode {
            grant_id: &grant.id,
            client_id: &client.client_id,
            redirect_uri: &pending.redirect_uri,
            scope: &scope,
            nonce: pending.nonce.as_deref(),
            code_challenge: &pending.code_challenge,
        },
        now,
        state.config.authorization_code_ttl as i64,
    )
    .await?;
    txn.commit().await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &pending.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", state.issuer()));
    crate::web::redirect::respond(&pending.redirect_uri, &pairs, is_form_post(pending))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("registered redirect URI does not parse")))
}
