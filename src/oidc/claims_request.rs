//! The `claims` request parameter (OIDC Core §5.5): individual claims asked for in
//! the ID token or at userinfo. Gatehouse releases a requested claim only within the
//! scopes the user consented to, so the parameter moves claims into the ID token
//! but never widens what the client may see.

use serde_json::Value;

/// Checks the parameter's shape and returns it normalized.
pub fn parse(raw: &str) -> Result<String, &'static str> {
    let value: Value = serde_json::from_str(raw).map_err(|_| "claims is not valid JSON")?;
    let object = value.as_object().ok_or("claims must be a JSON object")?;
    for (member, requests) in object {
        if member != "userinfo" && member != "id_token" {
            continue; // OIDC Core §5.5: other members are ignored
        }
        let requests = requests
            .as_object()
            .ok_or("claims members must be JSON objects")?;
        for request in requests.values() {
            if !(request.is_null() || request.is_object()) {
                return Err("each requested claim must be null or an object");
            }
        }
    }
    Ok(value.to_string())
}

/// The claim names requested for `member` (`id_token` or `userinfo`).
pub fn requested(claims: Option<&str>, member: &str) -> Vec<String> {
    claims
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|v| v.get(member).and_then(Value::as_object).cloned())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lists_requested_claims() {
        let raw = r#"{"id_token":{"email":{"essential":true},"name":null},"userinfo":{"phone_number":null}}"#;
        let normalized = parse(raw).unwrap();
        let mut id = requested(Some(&normalized), "id_token");
        id.sort();
        assert_eq!(id, vec!["email", "name"]);
        assert_eq!(
            requested(Some(&normalized), "userinfo"),
            vec!["phone_number"]
        );
        assert!(requested(None, "id_token").is_empty());
    }

    #[test]
    fn refuses_malformed_requests() {
        assert!(parse("not json").is_err());
        assert!(parse("[1]").is_err());
        assert!(parse(r#"{"id_token":5}"#).is_err());
        assert!(parse(r#"{"id_token":{"email":5}}"#).is_err());
        assert!(parse(r#"{"other":5}"#).is_ok());
    }
}
