//! Back-Channel Logout 1.0: when a session ends, every client of the session that
//! registered a backchannel_logout_uri gets a signed logout token, delivered in the
//! background with bounded retries.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::keys::jwt;
use crate::oidc::access_token::new_jti;
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
    claims.insert("jti".into(), json!(new_jti(None)));
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

/// Signs a logout token for `client` and delivers it in the background.
pub fn notify(state: &AppState, client: &Client, subject: &str, session_id: &str) {
    let Some(uri) = client.backchannel_logout_uri.clone() else {
        return;
    };
    let claims = logout_token_claims(
        state.issuer(),
        &client.client_id,
        subject,
        session_id,
        state.now(),
    );
    let token = match jwt::sign(
        &state.keys.get(),
        &client.id_token_signed_response_alg,
        "logout+jwt",
        claims,
    ) {
        Ok(token) => token,
        Err(err) => {
            tracing::error!(error = %err, "cannot sign a logout token");
            return;
        }
    };
    let client_id = client.client_id.clone();
    tokio::spawn(async move {
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
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
    });
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
