//! How a client authenticates at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3; the names are OIDC Registration §2 `token_endpoint_auth_method`).

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The secret in HTTP Basic (RFC 6749 §2.3.1); the default for confidential clients.
    ClientSecretBasic,
    /// The secret as `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client: only its client_id (RFC 6749 §2.1).
    None,
    /// Clients registered before the method was enforced accepted either secret
    /// method; they keep doing so until `client set-auth-method` picks one.
    ClientSecretBasicOrPost,
}

impl AuthMethod {
    /// What `client add --auth-method` accepts.
    pub const REGISTRABLE: [AuthMethod; 3] = [
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasicOrPost => "client_secret_basic client_secret_post",
        }
    }

    /// One of the registrable names.
    pub fn parse(value: &str) -> Option<AuthMethod> {
        AuthMethod::REGISTRABLE
            .into_iter()
            .find(|m| m.as_str() == value)
    }

    /// One of the registrable names, or a refusal that lists them.
    pub fn parse_registrable(value: &str) -> Result<AuthMethod, String> {
        AuthMethod::parse(value).ok_or_else(|| {
            let names: Vec<&str> = AuthMethod::REGISTRABLE.iter().map(|m| m.as_str()).collect();
            format!("'{value}' is not one of {}", names.join(", "))
        })
    }

    /// As stored: a registrable name or the legacy pair.
    pub fn from_stored(value: &str) -> Option<AuthMethod> {
        AuthMethod::parse(value).or_else(|| {
            (value == AuthMethod::ClientSecretBasicOrPost.as_str())
                .then_some(AuthMethod::ClientSecretBasicOrPost)
        })
    }

    /// Whether a client has a secret to present.
    pub fn uses_secret(self) -> bool {
        self != AuthMethod::None
    }

    /// Whether a request authenticated with `used` (one of the three methods) is
    /// acceptable for a client registered with `self`.
    pub fn accepts(self, used: AuthMethod) -> bool {
        match self {
            AuthMethod::ClientSecretBasicOrPost => {
                matches!(
                    used,
                    AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
                )
            }
            registered => registered == used,
        }
    }
}

impl Serialize for AuthMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthMethod::{ClientSecretBasic, ClientSecretBasicOrPost, ClientSecretPost};

    #[test]
    fn names_round_trip() {
        for m in AuthMethod::REGISTRABLE {
            assert_eq!(AuthMethod::parse(m.as_str()), Some(m));
            assert_eq!(AuthMethod::from_stored(m.as_str()), Some(m));
        }
        assert_eq!(AuthMethod::parse(ClientSecretBasicOrPost.as_str()), None);
        assert_eq!(
            AuthMethod::from_stored(ClientSecretBasicOrPost.as_str()),
            Some(ClientSecretBasicOrPost)
        );
        assert_eq!(AuthMethod::parse("private_key_jwt"), None);
    }

    #[test]
    fn only_the_registered_method_is_accepted() {
        let table = [
            (ClientSecretBasic, ClientSecretBasic, true),
            (ClientSecretBasic, ClientSecretPost, false),
            (ClientSecretBasic, AuthMethod::None, false),
            (ClientSecretPost, ClientSecretPost, true),
            (ClientSecretPost, ClientSecretBasic, false),
            (ClientSecretPost, AuthMethod::None, false),
            (AuthMethod::None, AuthMethod::None, true),
            (AuthMethod::None, ClientSecretBasic, false),
            (AuthMethod::None, ClientSecretPost, false),
            (ClientSecretBasicOrPost, ClientSecretBasic, true),
            (ClientSecretBasicOrPost, ClientSecretPost, true),
            (ClientSecretBasicOrPost, AuthMethod::None, false),
        ];
        for (registered, used, ok) in table {
            assert_eq!(registered.accepts(used), ok, "{registered} with {used}");
        }
    }
}
