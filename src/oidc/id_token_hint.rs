//! id_token_hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token we issued,
//! identifying the user and the client. Expired hints are accepted: only the
//! signature and the issuer matter.

use serde_json::{Map, Value};

use crate::state::AppState;

pub struct Hint {
    pub subject: String,
    pub client_id: String,
    pub session_id: Option<String>,
}

/// The hint's subject, client and session if it is an ID token of ours.
pub async fn verify(state: &AppState, hint: &str) -> Option<Hint> {
    let verified = state.keys.verify(&state.db, hint, state.now()).await?;
    let claims = &verified.claims;
    if !is_id_token(verified.typ.as_deref(), claims) {
        return None;
    }
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

/// Whether a token we signed is an ID token rather than another of our JWTs: an
/// access token (`typ` at+jwt, RFC 9068 §4) or a logout token (`typ` logout+jwt,
/// with `events`, Back-Channel Logout §2.4) is never accepted as a hint. ID tokens
/// carry `typ` JWT and the claims of OIDC Core §2.
pub fn is_id_token(typ: Option<&str>, claims: &Map<String, Value>) -> bool {
    let typ_ok = typ.is_none_or(|t| t.eq_ignore_ascii_case("JWT"));
    let has = |name: &str| claims.contains_key(name);
    let id_claims = ["iss", "sub", "aud", "exp", "iat"].iter().all(|c| has(c));
    let other_kind = has("events") || has("scope") || has("client_id");
    typ_ok && id_claims && !other_kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn only_id_tokens_are_hints() {
        let id =
            claims(json!({"iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1, "sid": "x"}));
        let logout = claims(
            json!({"iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1, "jti": "j",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}),
        );
        let access = claims(
            json!({"iss": "i", "sub": "s", "aud": "a", "exp": 2, "iat": 1,
            "client_id": "a", "scope": "openid"}),
        );
        let partial = claims(json!({"iss": "i", "sub": "s", "aud": "a"}));
        let cases = [
            (Some("JWT"), &id, true),
            (None, &id, true),
            (Some("logout+jwt"), &id, false),
            (Some("at+jwt"), &id, false),
            (Some("JWT"), &logout, false),
            (Some("JWT"), &access, false),
            (Some("JWT"), &partial, false),
        ];
        for (i, (typ, claims, expected)) in cases.into_iter().enumerate() {
            assert_eq!(is_id_token(typ, claims), expected, "case {i}");
        }
    }
}
