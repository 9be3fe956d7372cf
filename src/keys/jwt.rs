//! Signing and verifying our own JWTs.

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::{JwsHeader, JwsVerifier};
use josekit::jwt::{self, JwtPayload};
use serde_json::{Map, Value};

use super::KeySet;

/// Signs `claims` with the current key of `alg`; `typ` is `JWT` for ID tokens and
/// `at+jwt` for access tokens (RFC 9068 §2.1).
pub fn sign(
    keys: &KeySet,
    alg: &str,
    typ: &str,
    claims: Map<String, Value>,
) -> anyhow::Result<String> {
    let key = keys.signer(alg);
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(&key.kid);
    let payload = JwtPayload::from_map(claims).context("claims are not a JWT payload")?;
    jwt::encode_with_signer(&payload, &header, key.signer.as_ref()).context("signing a JWT")
}

/// A verified token's claims and header `typ`.
pub struct Verified {
    pub claims: Map<String, Value>,
    pub typ: Option<String>,
}

/// Verifies the signature with the key its `kid` names; the algorithm is the key's
/// own, so `alg: none` or a swapped algorithm never verifies.
pub fn verify(keys: &KeySet, token: &str) -> Option<Verified> {
    let (payload, header) = jwt::decode_with_verifier_selector(token, |header| {
        Ok(header
            .key_id()
            .and_then(|kid| keys.verifiers.get(kid))
            .map(|v| v.as_ref() as &dyn JwsVerifier))
    })
    .ok()?;
    Some(Verified {
        claims: payload.claims_set().clone(),
        typ: header.token_type().map(str::to_string),
    })
}

/// The `kid` of a compact JWS header, unverified.
pub fn kid_of(token: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header.get("kid")?.as_str().map(str::to_string)
}
