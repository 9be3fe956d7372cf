//! Scope values (RFC 6749 §3.3): a set of space-separated, case-sensitive strings.

pub const OPENID: &str = "openid";
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The admin API, read and write.
pub const ADMIN: &str = "gatehouse:admin";
/// The admin API, read only.
pub const ADMIN_READ: &str = "gatehouse:admin.read";

/// Whether a scope value opens the admin API.
pub fn is_admin(scope: &str) -> bool {
    scope == ADMIN || scope == ADMIN_READ
}

/// A parsed scope parameter: the values in order, without empty ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes<'a>(Vec<&'a str>);

impl<'a> Scopes<'a> {
    pub fn parse(scope: &'a str) -> Scopes<'a> {
        Scopes(scope.split(' ').filter(|s| !s.is_empty()).collect())
    }

    pub fn contains(&self, value: &str) -> bool {
        self.0.contains(&value)
    }

    /// True when every value of `wanted` is in this set.
    pub fn covers(&self, wanted: &Scopes) -> bool {
        wanted.0.iter().all(|s| self.contains(s))
    }

    /// OIDC Core §11: refresh tokens that outlive the session.
    pub fn offline_access(&self) -> bool {
        self.contains(OFFLINE_ACCESS)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_coverage() {
        let granted = Scopes::parse("openid  email offline_access");
        assert!(granted.offline_access());
        assert!(granted.covers(&Scopes::parse("email openid")));
        assert!(granted.covers(&Scopes::parse("")));
        assert!(!granted.covers(&Scopes::parse("openid profile")));
        assert!(!Scopes::parse("openid").offline_access());
        assert_eq!(granted.iter().count(), 3);
    }
}
