//! "Confirm it's you": changes to how an account signs in (turning off a second
//! factor, new recovery codes, removing a passkey) need an authentication of the
//! user's full strength within the last few minutes, not only a session cookie
//! (OWASP ASVS V3.7.1).

/// How long a re-authentication counts, seconds.
pub const WINDOW: i64 = 5 * 60;

/// Whether a session last authenticated at `last_authenticated` (sign-in or
/// confirmation) is fresh enough: recent, and with the second factor when the
/// user has one.
pub fn is_fresh(last_authenticated: i64, second_factor: bool, enrolled: bool, now: i64) -> bool {
    now - last_authenticated <= WINDOW && (second_factor || !enrolled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness() {
        let cases = [
            // (last, second factor, enrolled, fresh)
            (1000, false, false, true),
            (1000 - WINDOW, false, false, true),
            (999 - WINDOW, false, false, false),
            (1000, false, true, false),
            (1000, true, true, true),
            (999 - WINDOW, true, true, false),
        ];
        for (last, second, enrolled, fresh) in cases {
            assert_eq!(
                is_fresh(last, second, enrolled, 1000),
                fresh,
                "{last} {second} {enrolled}"
            );
        }
    }
}
