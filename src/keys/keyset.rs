//! The keys this node signs and verifies with, loaded from the database and
//! reloaded periodically and whenever a token names a kid this node does not know.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::{anyhow, bail, Context};
use josekit::jwk::Jwk;
use josekit::jws::{JwsSigner, JwsVerifier, ES256, RS256};
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};

use super::lifecycle::{self, Action, Policy};
use super::master::MasterKey;
use super::{generate, jwt};
use crate::store::audit;
use crate::store::signing_keys::{self, StoredKey, STATE_CURRENT, STATE_NEXT};

pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    pub signer: Box<dyn JwsSigner>,
}

/// One consistent view of the keys: the key that signs per algorithm, the keys that
/// verify, and the JWKS publishing their public halves.
pub struct KeySet {
    pub signers: HashMap<String, SigningKey>,
    pub verifiers: HashMap<String, Box<dyn JwsVerifier>>,
    pub jwks: Value,
    /// Tokens this keyset verified, by their exact text: resource servers present
    /// the same access token many times, and a signature check costs far more than
    /// the lookup. Successes only; every reload (rotation, `keys revoke`) starts an
    /// empty cache. Claims (expiry) and grant liveness are still checked per use.
    verified: Mutex<HashMap<String, Arc<jwt::Verified>>>,
}

/// Entries kept before the verified-token cache starts over (each is a token and
/// its claims, about 2 KiB).
const VERIFIED_CACHE_ENTRIES: usize = 2048;

fn verifier(alg: &str, jwk: &Jwk) -> anyhow::Result<Box<dyn JwsVerifier>> {
    Ok(match alg {
        "ES256" => Box::new(ES256.verifier_from_jwk(jwk)?),
        "RS256" => Box::new(RS256.verifier_from_jwk(jwk)?),
        other => bail!("unsupported algorithm {other}"),
    })
}

fn signer(alg: &str, pem: &[u8]) -> anyhow::Result<Box<dyn JwsSigner>> {
    Ok(match alg {
        "ES256" => Box::new(ES256.signer_from_pem(pem)?),
        "RS256" => Box::new(RS256.signer_from_pem(pem)?),
        other => bail!("unsupported algorithm {other}"),
    })
}

impl KeySet {
    pub fn from_stored(keys: &[StoredKey], master: &MasterKey) -> anyhow::Result<KeySet> {
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        let mut signers = HashMap::new();
        for key in keys.iter().filter(|k| lifecycle::is_published(k)) {
            let jwk = Jwk::from_bytes(key.public_jwk.as_bytes())
                .with_context(|| format!("stored JWK of key {} is invalid", key.kid))?;
            verifiers.insert(key.kid.clone(), verifier(&key.alg, &jwk)?);
            // Only public members were ever stored in public_jwk.
            published.push(serde_json::from_str::<Value>(&key.public_jwk)?);
        }
        for alg in lifecycle::ALGS {
            let current = keys
                .iter()
                .filter(|k| k.alg == *alg && k.state == STATE_CURRENT)
                .max_by_key(|k| k.generation);
            let Some(current) = current else { continue };
            let pem = master
                .open(&current.kid, &current.private_key)
                .ok_or_else(|| {
                    anyhow!(
                        "the master key does not open signing key {}: this database was set up \
                     with another master key (GATEHOUSE_MASTER_KEY or the key file)",
                        current.kid
                    )
                })?;
            signers.insert(
                alg.to_string(),
                SigningKey {
                    kid: current.kid.clone(),
                    alg: alg.to_string(),
                    signer: signer(alg, &pem)
                        .with_context(|| format!("private key {} is unreadable", current.kid))?,
                },
            );
        }
        if !signers.contains_key("ES256") {
            bail!("no current ES256 signing key");
        }
        Ok(KeySet {
            signers,
            verifiers,
            jwks: json!({ "keys": published }),
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// Verifies a token's signature, remembering the result for its next use.
    pub fn verify(&self, token: &str) -> Option<Arc<jwt::Verified>> {
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache.get(token) {
            return Some(hit.clone());
        }
        drop(cache);
        let verified = Arc::new(jwt::verify(self, token)?);
        cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= VERIFIED_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(token.to_string(), verified.clone());
        Some(verified)
    }

    /// The current key for `alg`, falling back to the ES256 default.
    pub fn signer(&self, alg: &str) -> &SigningKey {
        self.signers
            .get(alg)
            .or_else(|| self.signers.get("ES256"))
            .expect("KeySet::from_stored guarantees an ES256 signer")
    }
}

/// Minimum seconds between reloads triggered by unknown kids (a token with a random
/// kid must not turn into a database query per request).
const UNKNOWN_KID_RELOAD: i64 = 2;

/// The shared, reloadable keyset of a running server.
pub struct Keys {
    inner: RwLock<Arc<KeySet>>,
    master: MasterKey,
    /// Derived once: client authentication checks a secret on every token request.
    client_secrets: crate::secrets::DigestKey,
    recovery_codes: crate::secrets::DigestKey,
    policy: Policy,
    /// When the keyset was last read (injected-clock seconds).
    last_reload: AtomicI64,
}

impl Keys {
    /// Runs due transitions (creating the first keys on a new database) and loads.
    pub async fn start(
        db: &DatabaseConnection,
        master: MasterKey,
        policy: Policy,
        now: i64,
    ) -> anyhow::Result<Keys> {
        // Check the master key against existing keys before writing anything.
        let existing = signing_keys::all(db).await?;
        if !existing.is_empty() {
            KeySet::from_stored(&existing, &master)?;
        }
        tick(db, &master, &policy, now).await?;
        let keyset = KeySet::from_stored(&signing_keys::all(db).await?, &master)?;
        Ok(Keys {
            inner: RwLock::new(Arc::new(keyset)),
            client_secrets: master.digest_key(crate::secrets::CLIENT_SECRETS),
            recovery_codes: master.digest_key(crate::secrets::RECOVERY_CODES),
            master,
            policy,
            last_reload: AtomicI64::new(now),
        })
    }

    pub fn get(&self) -> Arc<KeySet> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The digest key of client secrets at rest.
    pub fn client_secrets(&self) -> &crate::secrets::DigestKey {
        &self.client_secrets
    }

    /// The digest key of recovery codes at rest.
    pub fn recovery_codes(&self) -> &crate::secrets::DigestKey {
        &self.recovery_codes
    }

    /// Re-reads the keys from the database.
    pub async fn reload(&self, db: &DatabaseConnection, now: i64) -> anyhow::Result<()> {
        self.last_reload.store(now, Ordering::Relaxed);
        let keyset = KeySet::from_stored(&signing_keys::all(db).await?, &self.master)?;
        match self.inner.write() {
            Ok(mut guard) => *guard = Arc::new(keyset),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keyset),
        }
        Ok(())
    }

    /// Runs due transitions, then reloads: what the background task does each period.
    pub async fn maintain(&self, db: &DatabaseConnection, now: i64) -> anyhow::Result<()> {
        tick(db, &self.master, &self.policy, now).await?;
        self.reload(db, now).await
    }

    /// Verifies one of our JWTs. A kid this node does not know may be a key another
    /// node just created: reload once (rate-limited) and try again.
    pub async fn verify(
        &self,
        db: &DatabaseConnection,
        token: &str,
        now: i64,
    ) -> Option<Arc<jwt::Verified>> {
        let keyset = self.get();
        if let Some(verified) = keyset.verify(token) {
            return Some(verified);
        }
        let kid = jwt::kid_of(token)?;
        if keyset.verifiers.contains_key(&kid) {
            return None;
        }
        // Claim the reload slot before reloading, so a burst of unknown kids causes
        // one reload, not one per request.
        let last = self.last_reload.load(Ordering::Relaxed);
        let claimed = now - last >= UNKNOWN_KID_RELOAD
            && self
                .last_reload
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok();
        if !claimed {
            return None;
        }
        if let Err(err) = self.reload(db, now).await {
            tracing::warn!(error = %err, "key reload failed");
            return None;
        }
        self.get().verify(token)
    }
}

/// Plans and applies due transitions until none is left. Every write is guarded,
/// so nodes running this at the same moment do each transition once.
pub async fn tick(
    db: &DatabaseConnection,
    master: &MasterKey,
    policy: &Policy,
    now: i64,
) -> anyhow::Result<()> {
    for _ in 0..4 {
        let keys = signing_keys::all(db).await?;
        let actions = lifecycle::plan(&keys, now, policy);
        if actions.is_empty() {
            return Ok(());
        }
        for action in actions {
            apply(db, master, action, now).await?;
        }
    }
    Ok(())
}

async fn apply(
    db: &DatabaseConnection,
    master: &MasterKey,
    action: Action,
    now: i64,
) -> anyhow::Result<()> {
    match action {
        Action::CreateCurrent { alg, generation } => {
            let key = generate::new_key(&alg, generation, STATE_CURRENT, now, now, master)?;
            let kid = key.kid.clone();
            if signing_keys::create(db, key).await? {
                tracing::info!(%kid, %alg, "created the first signing key");
            }
        }
        Action::CreateNext {
            alg,
            generation,
            activates_at,
        } => {
            let key = generate::new_key(&alg, generation, STATE_NEXT, now, activates_at, master)?;
            let kid = key.kid.clone();
            if signing_keys::create(db, key).await? {
                tracing::info!(%kid, %alg, activates_at, "published the next signing key");
            }
        }
        Action::Promote {
            next_kid,
            current_kid,
        } => {
            if signing_keys::promote(db, &next_kid, current_kid.as_deref(), now).await? {
                tracing::info!(kid = %next_kid, retired = ?current_kid, "signing key rotated");
                crate::observability::metrics::key_rotated();
                let detail = format!(
                    "{} now signs; {} retired",
                    next_kid,
                    current_kid.as_deref().unwrap_or("-")
                );
                audit::record(
                    db,
                    audit::Event {
                        kind: "key_rotated",
                        detail: Some(&detail),
                        ..Default::default()
                    },
                    now,
                )
                .await?;
            }
        }
        Action::Remove { kid } => {
            if signing_keys::remove(db, &kid).await? {
                tracing::info!(%kid, "retired signing key removed");
            }
        }
    }
    Ok(())
}
