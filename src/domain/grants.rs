//! A user's connected applications (grants): an administrator ends one grant, the
//! user ends an application's access.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::Refusal;
use crate::store::{consents, grants};

/// Revokes one live grant of the user: its refresh and access tokens stop working
/// at once. NotFound when the user has no such live grant.
pub async fn revoke_for_user(
    db: &impl ConnectionTrait,
    user_id: &str,
    grant_id: &str,
    now: i64,
) -> Result<(), Refusal> {
    let live = grants::find(db, grant_id)
        .await?
        .filter(|g| g.user_id == user_id && g.revoked_at.is_none() && g.expires_at > now);
    if live.is_none() {
        return Err(Refusal::not_found(format!(
            "the user has no live grant '{grant_id}'"
        )));
    }
    grants::revoke(db, grant_id, "revoked by an administrator", now).await?;
    Ok(())
}

/// The user takes back an application's access: every live grant of the user to
/// `client_id` is revoked (its tokens stop at once) and the consent is forgotten,
/// so the application must ask again. NotFound when it had neither.
pub async fn revoke_application(
    db: &DatabaseConnection,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<(), Refusal> {
    let txn = db.begin().await?;
    let mut ended = 0;
    for grant in grants::live_for_user(&txn, user_id, now).await? {
        if grant.client_id == client_id {
            grants::revoke(&txn, &grant.id, "access revoked by the user", now).await?;
            ended += 1;
        }
    }
    let forgot = consents::forget(&txn, user_id, client_id).await?;
    if ended == 0 && !forgot {
        return Err(Refusal::not_found(format!(
            "'{client_id}' has no access to this account"
        )));
    }
    txn.commit().await?;
    Ok(())
}

/// An application with access to the user's account.
pub struct Application {
    pub client_id: String,
    pub name: String,
    /// What it was allowed, space-separated scopes.
    pub scope: String,
    pub since: i64,
}

/// The applications the user has consented to or holds live grants for, by name.
pub async fn applications(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: i64,
) -> Result<Vec<Application>, Refusal> {
    let mut found: Vec<Application> = Vec::new();
    let consented = consents::for_user(db, user_id).await?;
    let granted = grants::live_for_user(db, user_id, now)
        .await?
        .into_iter()
        .map(|g| (g.client_id, g.scope, g.created_at));
    for (client_id, scope, since) in consented.into_iter().chain(granted) {
        if let Some(known) = found.iter_mut().find(|a| a.client_id == client_id) {
            known.since = known.since.min(since);
            for s in scope.split_whitespace() {
                if !known.scope.split_whitespace().any(|k| k == s) {
                    known.scope = format!("{} {s}", known.scope);
                }
            }
            continue;
        }
        let name = crate::store::clients::find(db, &client_id)
            .await?
            .map(|c| c.name)
            .unwrap_or_else(|| client_id.clone());
        found.push(Application {
            client_id,
            name,
            scope,
            since,
        });
    }
    found.sort_by_key(|a| a.name.to_lowercase());
    Ok(found)
}
