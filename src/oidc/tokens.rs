//! Claims of the tokens Gatehouse issues (pure functions; signing is in keys::jwt).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token (ES256/RS256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub struct IdTokenClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub session_id: Option<&'a str>,
    /// How the user authenticated (RFC 8176) and the resulting level.
    pub amr: &'a [String],
    pub acr: Option<&'a str>,
    pub access_token: &'a str,
    pub issued_at: i64,
    pub ttl: i64,
}

/// OIDC Core §2: the ID token carries protocol claims only; profile data is at userinfo.
pub fn id_token(c: &IdTokenClaims<'_>) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(c.issuer));
    claims.insert("sub".into(), json!(c.subject));
    claims.insert("aud".into(), json!(c.client_id));
    claims.insert("exp".into(), json!(c.issued_at + c.ttl));
    claims.insert("iat".into(), json!(c.issued_at));
    claims.insert("auth_time".into(), json!(c.auth_time));
    if let Some(nonce) = c.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if !c.amr.is_empty() {
        claims.insert("amr".into(), json!(c.amr));
    }
    if let Some(acr) = c.acr {
        claims.insert("acr".into(), json!(acr));
    }
    claims.insert("azp".into(), json!(c.client_id));
    claims.insert("at_hash".into(), json!(at_hash(c.access_token)));
    if let Some(sid) = c.session_id {
        claims.insert("sid".into(), json!(sid));
    }
    claims
}

pub struct AccessTokenClaims<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    /// None for tokens no person authenticated for (client_credentials).
    pub auth_time: Option<i64>,
    pub session_id: Option<&'a str>,
    pub jti: &'a str,
    pub issued_at: i64,
    pub ttl: i64,
}

/// RFC 9068 §2.2. The audience is the issuer itself: Gatehouse's userinfo endpoint is
/// the resource these tokens are for until resource indicators are supported.
pub fn access_token(c: &AccessTokenClaims<'_>) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(c.issuer));
    claims.insert("sub".into(), json!(c.subject));
    claims.insert("aud".into(), json!(c.issuer));
    claims.insert("exp".into(), json!(c.issued_at + c.ttl));
    claims.insert("iat".into(), json!(c.issued_at));
    if let Some(auth_time) = c.auth_time {
        claims.insert("auth_time".into(), json!(auth_time));
    }
    claims.insert("jti".into(), json!(c.jti));
    claims.insert("client_id".into(), json!(c.client_id));
    claims.insert("scope".into(), json!(c.scope));
    if let Some(sid) = c.session_id {
        claims.insert("sid".into(), json!(sid));
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_left_half_of_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 | b00361a3…; left half b64url:
        assert_eq!(at_hash("abc"), "ungWv48Bz-pBQUDeXa4iIw");
    }

    #[test]
    fn id_token_has_protocol_claims() {
        let claims = id_token(&IdTokenClaims {
            issuer: "https://id.example.com",
            subject: "u1",
            client_id: "app",
            nonce: Some("n-0S6"),
            auth_time: 100,
            session_id: Some("s1"),
            amr: &["pwd".to_string()],
            acr: Some("1"),
            access_token: "abc",
            issued_at: 200,
            ttl: 600,
        });
        assert_eq!(claims["aud"], "app");
        assert_eq!(claims["azp"], "app");
        assert_eq!(claims["exp"], 800);
        assert_eq!(claims["nonce"], "n-0S6");
        assert_eq!(claims["sid"], "s1");
        assert!(!claims.contains_key("email"));
    }

    #[test]
    fn access_token_follows_rfc9068() {
        let claims = access_token(&AccessTokenClaims {
            issuer: "https://id.example.com",
            subject: "u1",
            client_id: "app",
            scope: "openid email",
            auth_time: Some(100),
            session_id: None,
            jti: "j1",
            issued_at: 200,
            ttl: 600,
        });
        for claim in [
            "iss",
            "exp",
            "aud",
            "sub",
            "client_id",
            "iat",
            "jti",
            "scope",
        ] {
            assert!(claims.contains_key(claim), "{claim}");
        }
    }
}
