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

/// RFC 9700 §4.1.3 / OIDC Core §3.1.2.1: simple string comparison with a registered
/// URI, except that on a loopback IP literal any port is allowed (RFC 8252 §7.3:
/// native apps listen on an ephemeral port). `localhost` is matched exactly
/// (RFC 8252 §8.3: it may resolve elsewhere).
pub fn matches_registered(requested: &str, registered: &[String]) -> bool {
    registered.iter().any(|r| {
        r == requested
            || matches!(
                (without_loopback_port(r), without_loopback_port(requested)),
                (Some(a), Some(b)) if a == b
            )
    })
}

/// `http://127.0.0.1:8000/cb` → `http://127.0.0.1/cb` (likewise `[::1]`); None for
/// any other URI. The rest is kept byte for byte, so it is compared exactly.
fn without_loopback_port(uri: &str) -> Option<(&'static str, &str)> {
    let (host, after) = ["http://127.0.0.1", "http://[::1]"]
        .into_iter()
        .find_map(|host| uri.strip_prefix(host).map(|after| (host, after)))?;
    let rest = match after.strip_prefix(':') {
        Some(port_and_rest) => {
            let digits = port_and_rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(port_and_rest.len());
            let port = &port_and_rest[..digits];
            // RFC 3986 §3.2.3: an empty port is the default port.
            if !port.is_empty() && port.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
                return None;
            }
            &port_and_rest[digits..]
        }
        None => after,
    };
    (rest.is_empty() || rest.starts_with(['/', '?'])).then_some((host, rest))
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
    fn loopback_ip_literals_match_any_port() {
        let v4 = vec!["http://127.0.0.1/cb".to_string()];
        let v6 = vec!["http://[::1]/cb".to_string()];
        let with_port = vec!["http://127.0.0.1:8000/cb?x=1".to_string()];
        let table: &[(&[String], &str, bool)] = &[
            (&v4, "http://127.0.0.1/cb", true),
            (&v4, "http://127.0.0.1:51234/cb", true),
            (&v4, "http://127.0.0.1:1/cb", true),
            (&v4, "http://127.0.0.1:65535/cb", true),
            (&v4, "http://127.0.0.1:65536/cb", false),
            (&v4, "http://127.0.0.1:0/cb", false),
            (&v4, "http://127.0.0.1:80x/cb", false),
            (&v4, "http://127.0.0.1:8000/cb/", false),
            (&v4, "http://127.0.0.1:8000/cb?x=1", false),
            (&v4, "http://127.0.0.1:8000/other", false),
            (&v4, "http://127.0.0.1.evil.example/cb", false),
            (&v4, "http://127.0.0.1@evil.example/cb", false),
            (&v4, "http://127.0.0.1:8000@evil.example/cb", false),
            (&v4, "https://127.0.0.1:8000/cb", false),
            (&v4, "http://[::1]:8000/cb", false),
            (&v6, "http://[::1]:8000/cb", true),
            (&v6, "http://[::1]/cb", true),
            (&v6, "http://127.0.0.1:8000/cb", false),
            (&with_port, "http://127.0.0.1:9000/cb?x=1", true),
            (&with_port, "http://127.0.0.1/cb?x=1", true),
            (&with_port, "http://127.0.0.1:9000/cb", false),
        ];
        for (registered, requested, ok) in table {
            assert_eq!(
                matches_registered(requested, registered),
                *ok,
                "{requested} against {registered:?}"
            );
        }
    }

    #[test]
    fn localhost_keeps_exact_matching() {
        let registered = vec!["http://localhost:3000/cb".to_string()];
        assert!(matches_registered("http://localhost:3000/cb", &registered));
        assert!(!matches_registered("http://localhost:3001/cb", &registered));
        let registered = vec!["http://localhost/cb".to_string()];
        assert!(!matches_registered("http://localhost:3000/cb", &registered));
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
