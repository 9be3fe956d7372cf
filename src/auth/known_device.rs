//! Known devices: a browser that signed in to an account carries a cookie, signed
//! with a key derived from the master key, that names it as a known device of that
//! account. Its failed passwords count against its own budget, so failures sent
//! from anywhere else (which can lock the account) never lock its owner out
//! (OWASP Authentication Cheat Sheet, "account lockout"; the device cookie idea
//! of OWASP's "Slow down online guessing attacks with device cookies").

use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::keys::master::MasterKey;
use crate::secrets::{constant_time_eq, hash_token, random_token};
use crate::web::cookies;

const PURPOSE: &str = "known-device";

/// One cookie per account; the name carries a digest of the user id, not the id.
fn cookie_name(user_id: &str, secure: bool) -> String {
    let digest = &hash_token(user_id)[..16];
    if secure {
        format!("__Host-gatehouse_device_{digest}")
    } else {
        format!("gatehouse_device_{digest}")
    }
}

fn mac(master: &MasterKey, user_id: &str, device_id: &str, expires: i64) -> String {
    let message = format!("{user_id}\n{device_id}\n{expires}");
    URL_SAFE_NO_PAD.encode(master.mac(PURPOSE, message.as_bytes()))
}

/// The device id this browser holds for `user_id`, when its cookie is ours, for
/// that account, and not expired.
pub fn recognise(
    master: &MasterKey,
    headers: &HeaderMap,
    user_id: &str,
    now: i64,
    secure: bool,
) -> Option<String> {
    let value = cookies::get(headers, &cookie_name(user_id, secure))?;
    parse(master, value, user_id, now)
}

fn parse(master: &MasterKey, value: &str, user_id: &str, now: i64) -> Option<String> {
    let mut parts = value.split('.');
    let (device_id, expires, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    let genuine = constant_time_eq(tag, &mac(master, user_id, device_id, expires));
    (genuine && expires > now).then(|| device_id.to_string())
}

/// The cookie that makes (or keeps) this browser a known device of `user_id` for
/// `ttl` seconds; an existing device keeps its id (and so its failure count).
pub fn cookie(
    master: &MasterKey,
    headers: &HeaderMap,
    user_id: &str,
    now: i64,
    ttl: i64,
    secure: bool,
) -> HeaderValue {
    let device_id = recognise(master, headers, user_id, now, secure).unwrap_or_else(random_token);
    let expires = now + ttl;
    let value = format!(
        "{device_id}.{expires}.{}",
        mac(master, user_id, &device_id, expires)
    );
    // Strict: the cookie is only read by our own login forms.
    cookies::build(
        &cookie_name(user_id, secure),
        &value,
        "Strict",
        secure,
        Some(ttl),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(cookie: &HeaderValue) -> String {
        let text = cookie.to_str().unwrap();
        let pair = text.split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_string()
    }

    #[test]
    fn signed_per_account_and_expiring() {
        let master = MasterKey::generate();
        let headers = HeaderMap::new();
        let value = value_of(&cookie(&master, &headers, "u1", 100, 50, false));
        let device = parse(&master, &value, "u1", 120).expect("genuine");
        assert_eq!(device.len(), 43);
        assert_eq!(parse(&master, &value, "u2", 120), None, "another account");
        assert_eq!(parse(&master, &value, "u1", 150), None, "expired");
        assert_eq!(
            parse(&MasterKey::generate(), &value, "u1", 120),
            None,
            "another key"
        );
        let forged = value.replacen("150", "999", 1);
        assert_eq!(parse(&master, &forged, "u1", 120), None, "altered expiry");
        assert_eq!(parse(&master, "garbage", "u1", 120), None);
    }

    #[test]
    fn a_known_device_keeps_its_id() {
        let master = MasterKey::generate();
        let first = cookie(&master, &HeaderMap::new(), "u1", 100, 50, false);
        let mut headers = HeaderMap::new();
        let pair = first
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        headers.insert("cookie", HeaderValue::from_str(&pair).unwrap());
        let again = cookie(&master, &headers, "u1", 120, 50, false);
        let id = |c: &HeaderValue| value_of(c).split('.').next().unwrap().to_string();
        assert_eq!(id(&first), id(&again));
    }
}
