//! Password hashing with argon2id at the OWASP parameters (m = 19456 KiB, t = 2, p = 1).
//!
//! Hashing costs ~20 ms and 19 MiB, so it runs on the blocking pool behind a
//! semaphore: a login flood queues instead of exhausting memory or stalling the
//! async runtime that serves tokens and discovery.

use std::sync::Arc;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::{OnceCell, Semaphore};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (blocking; call from a blocking context).
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Checks a password against a PHC string (blocking). A malformed hash is a mismatch.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    argon2().verify_password(password.as_bytes(), phc).is_ok()
}

/// NIST SP 800-63B §5.1.1.2: at least 8 characters; a generous upper bound keeps
/// hashing cost predictable.
pub fn check_policy(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < 8 {
        return Err("The password must have at least 8 characters.".into());
    }
    if len > 1024 {
        return Err("The password must have at most 1024 characters.".into());
    }
    Ok(())
}

/// Bounded, off-runtime password verification shared by every login.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    concurrency: usize,
    /// A real hash of a random password: unknown users are checked against it so they
    /// cost the same time as a wrong password.
    dummy: Arc<OnceCell<String>>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        Passwords {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
            dummy: Arc::new(OnceCell::new()),
        }
    }

    /// Verifies `password` against `phc`, or against the dummy hash when there is no
    /// user (or no password), so both paths do the same work. Returns false then.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> anyhow::Result<bool> {
        let (target, real) = match phc {
            Some(phc) => (phc.to_string(), true),
            None => (self.dummy().await?, false),
        };
        let password = password.to_string();
        let permit = self
            .permits
            .acquire()
            .await
            .context("password pool closed")?;
        let matches = tokio::task::spawn_blocking(move || verify_blocking(&password, &target))
            .await
            .context("password verification task failed")?;
        drop(permit);
        self.release_memory_when_idle();
        Ok(real && matches)
    }

    /// Each hash allocates 19 MiB, which the allocator keeps for the next one and
    /// returns to the system lazily. A burst of logins reuses it (about 40 % more
    /// logins per second than mapping fresh memory for every hash); when the last
    /// hash in flight ends, it is returned at once rather than kept by an idle server.
    fn release_memory_when_idle(&self) {
        if self.permits.available_permits() == self.concurrency {
            tokio::task::spawn_blocking(crate::allocator::release_freed_memory);
        }
    }

    /// The dummy hash, computed once; `serve` warms it at start-up so the first
    /// unknown-user login is not slower than the rest.
    pub async fn dummy(&self) -> anyhow::Result<String> {
        let hash = self
            .dummy
            .get_or_try_init(|| async {
                let secret = crate::secrets::random_token();
                let hash = tokio::task::spawn_blocking(move || hash_blocking(&secret))
                    .await
                    .context("password hashing task failed")?;
                self.release_memory_when_idle();
                hash
            })
            .await?;
        Ok(hash.clone())
    }

    /// Hashes a new password off the runtime.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let password = password.to_string();
        let permit = self
            .permits
            .acquire()
            .await
            .context("password pool closed")?;
        let hash = tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .context("password hashing task failed")?;
        drop(permit);
        self.release_memory_when_idle();
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_uses_owasp_argon2id_parameters() {
        let phc = hash_blocking("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse", &phc));
        assert!(!verify_blocking("wrong", &phc));
        assert!(!verify_blocking("correct horse", "not a hash"));
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        let passwords = Passwords::new(1);
        assert!(!passwords.verify("anything", None).await.unwrap());
    }
}
