//! A browser's User-Agent in words for people ("Chrome on Linux"), by woothee.

/// "Browser on OS", either part left out when unknown; None when neither is known.
pub fn describe(user_agent: Option<&str>) -> Option<String> {
    let parsed = woothee::parser::Parser::new().parse(user_agent?)?;
    let known =
        |s: &str| (!s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN).then(|| s.to_string());
    match (known(parsed.name), known(parsed.os)) {
        (Some(browser), Some(os)) => Some(format!("{browser} on {os}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn browsers_and_systems_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
                Some("Chrome on Linux"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                Some("Safari on iPhone"),
            ),
            ("curl/8.5.0", Some("HTTP Library")),
            ("", None),
        ];
        for (agent, expected) in cases {
            assert_eq!(describe(Some(agent)).as_deref(), expected, "{agent}");
        }
        assert_eq!(describe(None), None);
    }
}
