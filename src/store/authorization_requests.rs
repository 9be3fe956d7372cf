//! Authorization requests that wait for the person to sign in or consent.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::authorization_requests::{self, Column, Entity};
use super::StoreError;
use crate::secrets::random_token;

pub use authorization_requests::Model as PendingRequest;

/// The validated parameters of an authorization request.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// None: a sign-in to the account page.
    pub client_id: Option<String>,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    /// None (query) or `form_post`.
    pub response_mode: Option<String>,
    /// The `claims` request parameter, normalized JSON.
    pub claims: Option<String>,
}

/// Stores a request bound to the browser whose binding secret hashes to `browser_hash`.
pub async fn create(
    db: &impl ConnectionTrait,
    request: NewRequest,
    browser_hash: &str,
    now: i64,
    ttl: i64,
) -> Result<PendingRequest, StoreError> {
    Ok(authorization_requests::ActiveModel {
        id: Set(random_token()),
        client_id: Set(request.client_id),
        redirect_uri: Set(request.redirect_uri),
        scope: Set(request.scope),
        state: Set(request.state),
        nonce: Set(request.nonce),
        code_challenge: Set(request.code_challenge),
        prompt: Set(request.prompt),
        max_age: Set(request.max_age),
        login_hint: Set(request.login_hint),
        acr_values: Set(request.acr_values),
        response_mode: Set(request.response_mode),
        claims: Set(request.claims),
        mfa_user_id: Set(None),
        browser_hash: Set(Some(browser_hash.to_string())),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(db)
    .await?)
}

/// A request that has not expired or completed.
pub async fn find_live(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
) -> Result<Option<PendingRequest>, StoreError> {
    Ok(Entity::find_by_id(id.to_string())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Completes a request: true for the one caller that removed it.
pub async fn complete(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    Ok(Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Drops requests nobody finished.
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// The person has just signed in for this request: `prompt=login` and `max_age`
/// are satisfied (OIDC Core §3.1.2.1) and must not ask again on the way back.
/// False when the request ended meanwhile.
pub async fn mark_authenticated(
    db: &impl ConnectionTrait,
    pending: &PendingRequest,
) -> Result<bool, StoreError> {
    let prompt = pending.prompt.as_deref().map(|p| {
        p.split(' ')
            .filter(|v| *v != "login")
            .collect::<Vec<_>>()
            .join(" ")
    });
    let updated = Entity::update_many()
        .col_expr(
            Column::Prompt,
            Expr::value(prompt.filter(|p| !p.is_empty())),
        )
        .col_expr(Column::MaxAge, Expr::value(Option::<i64>::None))
        .col_expr(Column::MfaUserId, Expr::value(Option::<String>::None))
        .filter(Column::Id.eq(pending.id.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The password was right and a second factor is due: remember for whom (the
/// request is bound to its browser already). False when the request ended.
pub async fn await_second_factor(
    db: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let updated = Entity::update_many()
        .col_expr(Column::MfaUserId, Expr::value(user_id))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}
