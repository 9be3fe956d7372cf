//! Bearer secrets: 256-bit random values of which only the SHA-256 is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh 256-bit random value, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256: the only form in which bearer secrets reach the database.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Low-entropy or human-chosen secrets at rest (recovery codes, client secrets an
/// operator typed): HMAC-SHA-256 under a key derived from the master key, so a
/// stolen database alone cannot be searched offline for them.
#[derive(Clone)]
pub struct DigestKey([u8; 32]);

/// What each digest key is for (separate keys, separate digests).
pub const RECOVERY_CODES: &str = "recovery-codes";
pub const CLIENT_SECRETS: &str = "client-secrets";

/// How a stored digest matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestMatch {
    Keyed,
    /// A plain SHA-256 written before keyed digests: accepted, to be upgraded.
    Legacy,
    No,
}

const KEYED_PREFIX: &str = "h1.";

impl DigestKey {
    pub fn new(key: [u8; 32]) -> DigestKey {
        DigestKey(key)
    }

    /// The stored form of `secret`.
    pub fn digest(&self, secret: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(secret.as_bytes());
        format!(
            "{KEYED_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Every stored form `secret` may have: keyed first, then legacy.
    pub fn candidates(&self, secret: &str) -> [String; 2] {
        [self.digest(secret), hash_token(secret)]
    }

    /// Compares in constant time.
    pub fn check(&self, stored: &str, secret: &str) -> DigestMatch {
        if stored.starts_with(KEYED_PREFIX) {
            if constant_time_eq(stored, &self.digest(secret)) {
                return DigestMatch::Keyed;
            }
        } else if constant_time_eq(stored, &hash_token(secret)) {
            return DigestMatch::Legacy;
        }
        DigestMatch::No
    }
}

/// Constant-time equality for secrets and their hashes.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Seals `plaintext` under a key derived from `token` (AES-256-GCM). Only someone who
/// presents `token` again can open it: a refresh token's successor is kept this way,
/// so a stolen database yields no usable token.
pub fn seal_with_token(token: &str, plaintext: &str) -> String {
    use aes_gcm::aead::{Aead, KeyInit};
    let cipher = aes_gcm::Aes256Gcm::new(&token_key(token).into());
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    // Encryption with a fresh nonce and a 32-byte key cannot fail.
    let ciphertext = cipher
        .encrypt(&nonce.into(), plaintext.as_bytes())
        .unwrap_or_default();
    let mut sealed = nonce.to_vec();
    sealed.extend(ciphertext);
    URL_SAFE_NO_PAD.encode(sealed)
}

/// Opens what `seal_with_token` sealed under the same token.
pub fn open_with_token(token: &str, sealed: &str) -> Option<String> {
    use aes_gcm::aead::{Aead, KeyInit};
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if raw.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = raw.split_at(12);
    let cipher = aes_gcm::Aes256Gcm::new(&token_key(token).into());
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let plaintext = cipher.decrypt(&nonce.into(), ciphertext).ok()?;
    String::from_utf8(plaintext).ok()
}

fn token_key(token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"gatehouse sealed successor\0");
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_token() {
        let sealed = seal_with_token("parent", "child");
        assert_eq!(open_with_token("parent", &sealed).as_deref(), Some("child"));
        assert_eq!(open_with_token("other", &sealed), None);
        assert_eq!(open_with_token("parent", "garbage"), None);
        assert_ne!(sealed, seal_with_token("parent", "child"), "fresh nonce");
    }

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
