//! OAuth request parameters from a query string or an urlencoded form body.

use std::collections::HashMap;

/// Parsed parameters. RFC 6749 §3.1/§3.2: parameters sent without a value are
/// treated as omitted, and a parameter must not appear more than once.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    duplicates: Vec<String>,
    malformed: Vec<String>,
}

/// No OAuth parameter needs more; longer values are refused before they are stored.
pub const MAX_VALUE_LEN: usize = 2048;

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        let mut params = Params::default();
        for (key, value) in url::form_urlencoded::parse(raw) {
            if value.is_empty() {
                continue;
            }
            // Control characters (NUL among them, which PostgreSQL refuses in text)
            // have no place in any parameter.
            if value.len() > MAX_VALUE_LEN || value.chars().any(char::is_control) {
                params.malformed.push(key.clone().into_owned());
            }
            if params.values.contains_key(key.as_ref()) {
                params.duplicates.push(key.into_owned());
            } else {
                params.values.insert(key.into_owned(), value.into_owned());
            }
        }
        params
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The first parameter that was repeated, if any.
    pub fn first_duplicate(&self) -> Option<&str> {
        self.duplicates.first().map(String::as_str)
    }

    /// The first parameter with control characters or an excessive length, if any.
    pub fn first_malformed(&self) -> Option<&str> {
        self.malformed.first().map(String::as_str)
    }

    /// Whether the named parameter is malformed.
    pub fn is_malformed(&self, name: &str) -> bool {
        self.malformed.iter().any(|m| m == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_absent() {
        let p = Params::parse(b"a=1&b=&c=x%20y");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y"));
        assert_eq!(p.first_duplicate(), None);
    }

    #[test]
    fn control_characters_and_huge_values_are_malformed() {
        let p = Params::parse(b"a=x%00y&b=ok&c=line%0Abreak");
        assert_eq!(p.first_malformed(), Some("a"));
        assert!(p.is_malformed("c"));
        assert!(!p.is_malformed("b"));
        let long = format!("d={}", "x".repeat(MAX_VALUE_LEN + 1));
        assert!(Params::parse(long.as_bytes()).is_malformed("d"));
    }

    #[test]
    fn repeated_parameters_are_reported() {
        let p = Params::parse(b"scope=openid&scope=email");
        assert_eq!(p.get("scope"), Some("openid"));
        assert_eq!(p.first_duplicate(), Some("scope"));
    }
}
