//! Back-Channel Logout 1.0: when a session ends, every client of the session that
//! registered a backchannel_logout_uri gets a signed logout token, delivered in the
//! background with bounded retries.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::keys::{jwt, KeySet};
use crate::state::AppState;
use crate::store::clients::Client;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const ATTEMPTS: u32 = 3;

/// Back-Channel Logout §2.4: iss, aud, iat, exp, jti, events with exactly the
/// logout event, sub and sid; never a nonce.
pub fn logout_token_claims(
    issuer: &str,
    client_id: &str,
    subject: &str,
    session_id: &str,
    now: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 120));
    claims.insert("jti".into(), json!(crate::secrets::random_token()));
    claims.insert("sub".into(), json!(subject));
    claims.insert("sid".into(), json!(session_id));
    claims.insert("events".into(), json!({ EVENT: {} }));
    claims
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            // §2.5: the OP does not follow redirects from the logout endpoint.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

/// A logout notice owed to a client of an ended session.
#[derive(Debug, Clone)]
pub struct Notice {
    pub client: Client,
    pub subject: String,
    pub session_id: String,
}

/// The signed logout token and where it goes, for a client that registered a URI.
fn sign(keys: &KeySet, issuer: &str, notice: &Notice, now: i64) -> Option<(String, String)> {
    let uri = notice.client.backchannel_logout_uri.clone()?;
    let claims = logout_token_claims(
        issuer,
        &notice.client.client_id,
        &notice.subject,
        &notice.session_id,
        now,
    );
    match jwt::sign(
        keys,
        &notice.client.id_token_signed_response_alg,
        "logout+jwt",
        claims,
    ) {
        Ok(token) => Some((uri, token)),
        Err(err) => {
            tracing::error!(error = %err, "cannot sign a logout token");
            None
        }
    }
}

/// Posts one logout token, with bounded retries.
async fn send(uri: String, token: String, client_id: String) {
    for attempt in 1..=ATTEMPTS {
        let sent = http()
            .post(&uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cache-control", "no-store")
            .body(format!(
                "logout_token={}",
                url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
            ))
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::warn!(client = %client_id, status = %response.status(), attempt, "back-channel logout refused")
            }
            Err(err) => {
                tracing::warn!(client = %client_id, error = %err, attempt, "back-channel logout failed")
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
    }
}

/// Delivers the notices in the background (a server: the request does not wait).
pub fn notify(state: &AppState, notices: Vec<Notice>) {
    let keys = state.keys.get();
    for notice in notices {
        if let Some((uri, token)) = sign(&keys, state.issuer(), &notice, state.now()) {
            tokio::spawn(send(uri, token, notice.client.client_id.clone()));
        }
    }
}

/// Delivers the notices and waits for every delivery to end (the command line,
/// which exits right after).
pub async fn deliver(keys: &KeySet, issuer: &str, notices: Vec<Notice>, now: i64) {
    let mut sending = tokio::task::JoinSet::new();
    for notice in notices {
        if let Some((uri, token)) = sign(keys, issuer, &notice, now) {
            sending.spawn(send(uri, token, notice.client.client_id.clone()));
        }
    }
    while sending.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_token_has_exactly_the_required_claims() {
        let claims = logout_token_claims("https://id", "app", "u1", "s1", 100);
        assert_eq!(claims["events"], json!({ EVENT: {} }));
        assert!(!claims.contains_key("nonce"));
        for claim in ["iss", "aud", "iat", "jti", "sub", "sid"] {
            assert!(claims.contains_key(claim), "{claim}");
        }
    }
}
