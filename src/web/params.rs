//! OAuth request parameters from a query string or an urlencoded form body.

use std::collections::HashMap;

/// Parsed parameters. RFC 6749 §3.1/§3.2: parameters sent without a value are
/// treated as omitted, and a parameter must not appear more than once.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
    duplicates: Vec<String>,
}

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        let mut params = Params::default();
        for (key, value) in url::form_urlencoded::parse(raw) {
            if value.is_empty() {
                continue;
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
    fn repeated_parameters_are_reported() {
        let p = Params::parse(b"scope=openid&scope=email");
        assert_eq!(p.get("scope"), Some("openid"));
        assert_eq!(p.first_duplicate(), Some("scope"));
    }
}
