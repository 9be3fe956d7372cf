//! PKCE (RFC 7636) with S256 only: `plain` offers no protection against a stolen
//! code and RFC 9700 §2.1.1 says to prefer S256, so Gatehouse refuses it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::secrets::constant_time_eq;

/// RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the base64url (no padding) SHA-256: exactly 43 characters.
pub fn is_valid_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(&computed, challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert!(is_valid_s256_challenge(CHALLENGE));
        assert!(verify_s256(VERIFIER, CHALLENGE));
        assert!(!verify_s256(&VERIFIER.replace('d', "e"), CHALLENGE));
    }

    #[test]
    fn verifier_shape() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(is_valid_verifier(&"a~._-".repeat(9)));
    }

    #[test]
    fn challenge_shape() {
        assert!(!is_valid_s256_challenge("abc"));
        assert!(!is_valid_s256_challenge(&format!("{}=", &CHALLENGE[..42])));
    }
}
