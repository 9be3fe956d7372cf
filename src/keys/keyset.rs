//! The keys this node signs and verifies with, loaded from the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{anyhow, Context};
use josekit::jwk::Jwk;
use josekit::jws::alg::ecdsa::{EcdsaJwsSigner, EcdsaJwsVerifier};
use josekit::jws::ES256;
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};

use crate::store::signing_keys::{self, StoredKey, STATE_CURRENT};

pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    pub signer: EcdsaJwsSigner,
}

/// One consistent view of the keys: the key that signs, the keys that verify, and
/// the JWKS document publishing their public halves.
pub struct KeySet {
    pub current: SigningKey,
    pub verifiers: HashMap<String, EcdsaJwsVerifier>,
    pub jwks: Value,
}

impl KeySet {
    pub fn from_stored(keys: &[StoredKey]) -> anyhow::Result<KeySet> {
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        for key in keys {
            let jwk = Jwk::from_bytes(key.public_jwk.as_bytes())
                .with_context(|| format!("stored JWK of key {} is invalid", key.kid))?;
            verifiers.insert(
                key.kid.clone(),
                ES256
                    .verifier_from_jwk(&jwk)
                    .with_context(|| format!("key {} cannot verify", key.kid))?,
            );
            // Only public members are published (never d).
            let public: Value = serde_json::from_str(&key.public_jwk)?;
            published.push(public);
        }
        // Several current keys can only come from nodes starting at once on an empty
        // database; the newest signs and all of them stay published.
        let current = keys
            .iter()
            .filter(|k| k.state == STATE_CURRENT)
            .max_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)))
            .ok_or_else(|| anyhow!("no current signing key"))?;
        let signer = ES256
            .signer_from_pem(current.private_key.as_bytes())
            .with_context(|| format!("private key {} is unreadable", current.kid))?;
        Ok(KeySet {
            current: SigningKey {
                kid: current.kid.clone(),
                alg: current.alg.clone(),
                signer,
            },
            verifiers,
            jwks: json!({ "keys": published }),
        })
    }
}

/// The shared, reloadable keyset of a running server.
pub struct Keys {
    inner: RwLock<Arc<KeySet>>,
}

impl Keys {
    /// Loads the keyset, creating the first key on a new database.
    pub async fn load(db: &DatabaseConnection, now: i64) -> anyhow::Result<Keys> {
        let mut stored = signing_keys::published(db).await?;
        if !stored.iter().any(|k| k.state == STATE_CURRENT) {
            let key = super::generate::es256(STATE_CURRENT, now)?;
            tracing::info!(kid = %key.kid, "created the first signing key");
            signing_keys::insert(db, key).await?;
            stored = signing_keys::published(db).await?;
        }
        Ok(Keys {
            inner: RwLock::new(Arc::new(KeySet::from_stored(&stored)?)),
        })
    }

    pub fn get(&self) -> Arc<KeySet> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
