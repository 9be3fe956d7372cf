//! id_token_hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token we issued,
//! identifying the user and the client. Expired hints are accepted: only the
//! signature and the issuer matter.

use serde_json::Value;

use crate::app::AppState;

pub struct Hint {
    pub subject: String,
    pub client_id: String,
    pub session_id: Option<String>,
}

/// The hint's subject, client and session if it is an ID token of ours.
pub async fn verify(state: &AppState, hint: &str) -> Option<Hint> {
    let verified = state.keys.verify(&state.db, hint, state.now()).await?;
    // An access token is not an ID token (RFC 9068 §4).
    if verified
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
    {
        return None;
    }
    let claims = &verified.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(state.issuer()) {
        return None;
    }
    let client_id = match claims.get("aud")? {
        Value::String(aud) => aud.clone(),
        Value::Array(auds) => auds.first()?.as_str()?.to_string(),
        _ => return None,
    };
    Some(Hint {
        subject: claims.get("sub")?.as_str()?.to_string(),
        client_id,
        session_id: claims
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}
