//! Creating new signing keys, their private halves sealed with the master key.

use anyhow::{bail, Context};
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair};

use super::master::MasterKey;
use crate::store::signing_keys::StoredKey;

/// A new key of `alg` in `state`, with a random kid.
pub fn new_key(
    alg: &str,
    generation: i64,
    state: &str,
    now: i64,
    activates_at: i64,
    master: &MasterKey,
) -> anyhow::Result<StoredKey> {
    let (pem, mut jwk): (Vec<u8>, Jwk) = match alg {
        "ES256" => {
            let pair = EcKeyPair::generate(EcCurve::P256).context("generating a P-256 key")?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
        "RS256" => {
            let pair = RsaKeyPair::generate(2048).context("generating an RSA key")?;
            (pair.to_pem_private_key(), pair.to_jwk_public_key())
        }
        other => bail!("unsupported signing algorithm {other}"),
    };
    let kid = crate::secrets::random_token()[..16].to_string();
    jwk.set_key_id(&kid);
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg);
    Ok(StoredKey {
        private_key: master.seal(&kid, &pem),
        kid,
        alg: alg.into(),
        generation,
        state: state.into(),
        public_jwk: jwk.to_string(),
        created_at: now,
        activates_at,
        retires_at: None,
    })
}
