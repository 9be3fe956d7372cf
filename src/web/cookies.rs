//! Reading and writing the few cookies Gatehouse sets.

use axum::http::{header, HeaderMap, HeaderValue};

/// The value of cookie `name` from the request, if present.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: always HttpOnly, path `/`, SameSite as given; `Secure` when
/// the issuer is https. `max_age` of `None` makes a browser-session cookie.
pub fn build(
    name: &str,
    value: &str,
    same_site: &str,
    secure: bool,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    // Names and values are our own base64url tokens, always valid header bytes.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gh_session=xyz; b=2"),
        );
        assert_eq!(get(&headers, "gh_session"), Some("xyz"));
        assert_eq!(get(&headers, "missing"), None);
    }

    #[test]
    fn secure_flag_follows_issuer() {
        let plain = build("n", "v", "Lax", false, None);
        assert_eq!(
            plain.to_str().unwrap(),
            "n=v; Path=/; HttpOnly; SameSite=Lax"
        );
        let secure = build("n", "v", "Strict", true, Some(60));
        assert_eq!(
            secure.to_str().unwrap(),
            "n=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=60"
        );
    }
}
