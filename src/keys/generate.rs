//! Creating new signing keys.

use anyhow::Context;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::KeyPair;

use crate::store::signing_keys::StoredKey;

/// A fresh ES256 (P-256) key in the given state, with a random kid.
pub fn es256(state: &str, now: i64) -> anyhow::Result<StoredKey> {
    let pair = EcKeyPair::generate(EcCurve::P256).context("generating a P-256 key")?;
    let kid = crate::secrets::random_token()[..16].to_string();
    let mut jwk = pair.to_jwk_public_key();
    jwk.set_key_id(&kid);
    jwk.set_key_use("sig");
    jwk.set_algorithm("ES256");
    let private_pem = String::from_utf8(pair.to_pem_private_key()).context("PEM is UTF-8")?;
    Ok(StoredKey {
        kid,
        alg: "ES256".into(),
        state: state.into(),
        private_key: private_pem,
        public_jwk: jwk.to_string(),
        created_at: now,
        activates_at: now,
        retires_at: None,
    })
}
