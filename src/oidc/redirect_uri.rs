//! Redirect URI rules: what may be registered, and how a request's URI is matched.

use url::{Host, Url};

/// Whether a URI may be registered as a redirect URI:
/// absolute, no fragment (RFC 6749 §3.1.2); https, or http only on a loopback host
/// (RFC 8252 §7.3, RFC 9700 §2.1); or a private-use scheme in reverse-domain form for
/// native apps (RFC 8252 §7.1). Never javascript:, data: and the like.
pub fn validate_registration(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|e| format!("'{uri}' is not an absolute URI: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("'{uri}' must not contain a fragment"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "'{uri}' uses http:// on a host that is not loopback; use https://"
        )),
        scheme if scheme.contains('.') && url.host().is_none() => Ok(()),
        scheme => Err(format!(
            "'{uri}' has scheme '{scheme}'; use https://, http:// on loopback, or a reverse-domain private-use scheme"
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// RFC 9700 §4.1.3 / OIDC Core §3.1.2.1: simple string comparison with a registered URI.
pub fn matches_registered(requested: &str, registered: &[String]) -> bool {
    registered.iter().any(|r| r == requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        assert!(validate_registration("https://app.example.com/cb").is_ok());
        assert!(validate_registration("http://127.0.0.1:8000/cb").is_ok());
        assert!(validate_registration("http://[::1]/cb").is_ok());
        assert!(validate_registration("http://localhost:3000/cb").is_ok());
        assert!(validate_registration("com.example.app:/oauth2redirect").is_ok());
        assert!(validate_registration("http://app.example.com/cb").is_err());
        assert!(validate_registration("https://app.example.com/cb#frag").is_err());
        assert!(validate_registration("/relative").is_err());
        assert!(validate_registration("javascript:alert(1)").is_err());
        assert!(validate_registration("not a uri").is_err());
    }

    #[test]
    fn matching_is_exact() {
        let registered = vec!["https://app.example.com/cb".to_string()];
        assert!(matches_registered(
            "https://app.example.com/cb",
            &registered
        ));
        assert!(!matches_registered(
            "https://app.example.com/cb/",
            &registered
        ));
        assert!(!matches_registered(
            "https://app.example.com/cb?x=1",
            &registered
        ));
        assert!(!matches_registered(
            "HTTPS://app.example.com/cb",
            &registered
        ));
    }
}
