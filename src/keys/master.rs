//! The master key that seals private keys (and other secrets) at rest with
//! AES-256-GCM. It comes from GATEHOUSE_MASTER_KEY or, for the embedded default, a
//! key file created with mode 0600 on first start.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use anyhow::{bail, Context};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::Rng;

const PREFIX: &str = "v1.";

#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        MasterKey(key)
    }

    /// Parses 32 bytes given as base64 (standard or URL-safe) or 64 hex digits.
    pub fn parse(text: &str) -> Option<MasterKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
                .ok()?
        };
        Some(MasterKey(bytes.try_into().ok()?))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Seals `plaintext`; `context` (e.g. the kid) is bound as associated data, so a
    /// sealed value moved to another row does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&self.0.into());
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption with a 32-byte key and a fresh nonce does not fail.
        let ciphertext = cipher.encrypt(&nonce.into(), payload).unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    /// HMAC-SHA-256 of `message` under a key derived for `purpose`, so that one
    /// purpose's MACs are worthless for another (RFC 2104; key separation as in
    /// NIST SP 800-108's HMAC-based derivation).
    pub fn mac(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        let derived = hmac_sha256(&self.0, format!("gatehouse/{purpose}").as_bytes());
        hmac_sha256(&derived, message)
    }

    /// The key for keyed digests of `purpose` (see secrets::DigestKey).
    pub fn digest_key(&self, purpose: &str) -> crate::secrets::DigestKey {
        crate::secrets::DigestKey::new(hmac_sha256(
            &self.0,
            format!("gatehouse/digest/{purpose}").as_bytes(),
        ))
    }

    /// Opens a sealed value; `None` when the key or context is wrong or it was altered.
    pub fn open(&self, context: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        Aes256Gcm::new(&self.0.into())
            .decrypt(&nonce.into(), payload)
            .ok()
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The master key to use: from the environment value, else from `file`. The file is
/// created only for a database that has no sealed keys yet: for an existing one a
/// missing key is an error, never a fresh key that would orphan the old ones.
pub fn load(
    from_env: Option<&str>,
    file: &Path,
    database_has_keys: bool,
    database_file: Option<&Path>,
) -> anyhow::Result<MasterKey> {
    if let Some(text) = from_env {
        return MasterKey::parse(text)
            .context("GATEHOUSE_MASTER_KEY must be 32 bytes in base64 or 64 hex digits");
    }
    if file.exists() {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the master key file {}", file.display()))?;
        return MasterKey::parse(&text).with_context(|| {
            format!(
                "the master key file {} does not hold a 32-byte key",
                file.display()
            )
        });
    }
    if database_has_keys {
        bail!(
            "no master key: the database holds sealed signing keys but neither \
             GATEHOUSE_MASTER_KEY is set nor does {} exist",
            file.display()
        );
    }
    let key = MasterKey::generate();
    write_key_file(file, &key)?;
    let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    tracing::info!(path = %path.display(), "created the master key file: back it up apart from the database");
    if database_file.is_some_and(|db| same_directory(&path, db)) {
        tracing::warn!(
            path = %path.display(),
            "the master key file sits beside the SQLite database: a copy of that directory holds \
             the data and the key that opens it. Keep the key elsewhere \
             (GATEHOUSE_MASTER_KEY_FILE, or GATEHOUSE_MASTER_KEY from a secret store)"
        );
    }
    Ok(key)
}

fn same_directory(key_file: &Path, database_file: &Path) -> bool {
    let dir = |p: &Path| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        p.parent().map(Path::to_path_buf)
    };
    dir(key_file).is_some() && dir(key_file) == dir(database_file)
}

fn write_key_file(file: &Path, key: &MasterKey) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .with_context(|| format!("cannot create the master key file {}", file.display()))?;
    writeln!(f, "{}", key.to_base64())
        .with_context(|| format!("cannot write the master key file {}", file.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_keys_are_separate_per_purpose_and_master_key() {
        let key = MasterKey::generate();
        let codes = key.digest_key(crate::secrets::RECOVERY_CODES);
        let secrets = key.digest_key(crate::secrets::CLIENT_SECRETS);
        let stored = codes.digest("abcd");
        assert!(stored.starts_with("h1."));
        assert_eq!(
            codes.check(&stored, "abcd"),
            crate::secrets::DigestMatch::Keyed
        );
        assert_eq!(
            codes.check(&stored, "abce"),
            crate::secrets::DigestMatch::No
        );
        assert_ne!(secrets.digest("abcd"), stored, "another purpose");
        let other = MasterKey::generate().digest_key(crate::secrets::RECOVERY_CODES);
        assert_eq!(
            other.check(&stored, "abcd"),
            crate::secrets::DigestMatch::No
        );
        let legacy = crate::secrets::hash_token("abcd");
        assert_eq!(
            codes.check(&legacy, "abcd"),
            crate::secrets::DigestMatch::Legacy
        );
        assert_eq!(
            codes.check(&legacy, "abce"),
            crate::secrets::DigestMatch::No
        );
    }

    #[test]
    fn seal_and_open_bind_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal("kid-1", b"secret");
        assert_eq!(key.open("kid-1", &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(key.open("kid-2", &sealed), None, "another row");
        assert_eq!(
            MasterKey::generate().open("kid-1", &sealed),
            None,
            "another key"
        );
        assert_eq!(key.open("kid-1", "v1.garbage"), None);
    }

    #[test]
    fn a_key_file_beside_the_database_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("gatehouse.key");
        std::fs::write(&key, "x").unwrap();
        assert!(same_directory(&key, &dir.path().join("gatehouse.db")));
        let other = tempfile::tempdir().unwrap();
        assert!(!same_directory(&key, &other.path().join("gatehouse.db")));
    }

    #[test]
    fn parses_base64_and_hex() {
        let key = MasterKey::generate();
        let again = MasterKey::parse(&key.to_base64()).unwrap();
        assert_eq!(key.0, again.0);
        assert!(MasterKey::parse(&"ab".repeat(32)).is_some());
        assert!(MasterKey::parse("too short").is_none());
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gatehouse.key");
        let created = load(None, &file, false, None).unwrap();
        let loaded = load(None, &file, true, None).unwrap();
        assert_eq!(created.0, loaded.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let missing = dir.path().join("missing.key");
        assert!(load(None, &missing, true, None).is_err());
        assert!(!missing.exists(), "no new key for an existing database");
    }
}
