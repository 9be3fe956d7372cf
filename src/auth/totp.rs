//! TOTP (RFC 6238) via totp-rs: SHA-1, 6 digits, 30-second steps, ±1 step of skew —
//! what every authenticator app understands.

use anyhow::anyhow;
use rand::Rng;
use totp_rs::{Builder, Secret, Totp};

/// A new 160-bit secret (RFC 4226 §4 recommends 160 bits).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// Base32, as typed into an authenticator by hand.
pub fn secret_text(secret: &[u8]) -> String {
    // Groups of four are easier to type into an authenticator app; apps ignore spaces.
    let text = Secret::from(secret.to_vec()).to_base32();
    let groups: Vec<String> = text
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    groups.join(" ")
}

fn totp(secret: &[u8], account: &str, issuer: &str) -> anyhow::Result<Totp> {
    // The otpauth label separates issuer and account with ':'.
    Builder::new()
        .with_secret(secret.to_vec())
        .with_skew(1)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(issuer.replace(':', "_")))
        .build()
        .map_err(|e| anyhow!("invalid TOTP parameters: {e:?}"))
}

/// The otpauth:// URI an authenticator app scans.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> anyhow::Result<String> {
    totp(secret, account, issuer)?
        .to_url()
        .map_err(|e| anyhow!("cannot build the otpauth URI: {e:?}"))
}

/// The time step `code` is valid for at `now` (±1 step), if any.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "x", "x").ok()?;
    totp.check(&code, u64::try_from(now).ok()?)
        .and_then(|step| i64::try_from(step).ok())
}

/// The current code (for tests and the CLI's own checks).
pub fn code_at(secret: &[u8], now: i64) -> String {
    totp(secret, "x", "x")
        .map(|t| t.generate(u64::try_from(now).unwrap_or(0)).to_string())
        .unwrap_or_default()
}

/// An SVG QR code for the otpauth URI, rendered here: no third-party script.
pub fn qr_svg(uri: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| anyhow!("QR encoding: {e}"))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_within_one_step_of_skew() {
        let secret = new_secret();
        let now = 1_000_000_000;
        let code = code_at(&secret, now);
        assert_eq!(matching_step(&secret, &code, now), Some(now / 30));
        assert!(
            matching_step(&secret, &code, now + 30).is_some(),
            "one step late"
        );
        assert!(
            matching_step(&secret, &code, now - 30).is_some(),
            "one step early"
        );
        assert_eq!(matching_step(&secret, &code, now + 90), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn rfc6238_test_vector() {
        // RFC 6238 Appendix B, SHA-1, T = 59: 94287082 (8 digits) → last 6: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
    }

    #[test]
    fn provisioning_uri_and_qr() {
        let secret = new_secret();
        let uri = provisioning_uri(&secret, "alice", "id.example.com:8443").unwrap();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&secret_text(&secret).replace(' ', "")));
        let shown = secret_text(&secret);
        assert!(
            shown.split(' ').all(|g| g.len() <= 4),
            "groups of four: {shown}"
        );
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}
