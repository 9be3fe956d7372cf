//! Scopes Gatehouse understands and the claims each releases (OIDC Core §5.4).

use serde_json::{Map, Value};

use crate::scope::Scopes;
use crate::store::users::User;

pub const SUPPORTED: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "groups",
    "offline_access",
];

/// Claims listed in discovery: the protocol claims plus those released by scopes.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "sid",
    "amr",
    "acr",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "address",
    "phone_number",
    "phone_number_verified",
    "groups",
];

/// Keeps the scopes Gatehouse supports, in request order without repeats.
/// OIDC Core §3.1.2.1: scope values that are not understood are ignored.
pub fn filter_supported(requested: &str) -> Vec<&str> {
    let mut kept: Vec<&str> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if SUPPORTED.contains(&scope) && !kept.contains(&scope) {
            kept.push(scope);
        }
    }
    kept
}

/// True when every scope in `wanted` is in `granted`.
pub fn covers(granted: &str, wanted: &str) -> bool {
    Scopes::parse(granted).covers(&Scopes::parse(wanted))
}

/// What the consent page says about a scope.
pub fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "your account identifier",
        "profile" => "your name and username",
        "email" => "your email address",
        "address" => "your postal address",
        "phone" => "your phone number",
        "groups" => "the groups you are a member of",
        "offline_access" => "keep access while you are signed out",
        "gatehouse:admin" => "administer Gatehouse: users, groups, applications and keys",
        "gatehouse:admin.read" => "read Gatehouse's users, groups, applications and audit log",
        _ => "",
    }
}

/// Whether a scope set releases the `groups` claim (so the groups must be read).
pub fn releases_groups(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "groups")
}

/// The user claims a scope set releases at userinfo (OIDC Core §5.4); `groups` are
/// the names of the user's groups, read when `releases_groups(scope)`.
pub fn user_claims(user: &User, groups: &[String], scope: &str) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::String(user.id.clone()));
    for s in scope.split(' ') {
        match s {
            "profile" => {
                claims.insert(
                    "preferred_username".into(),
                    Value::String(user.username.clone()),
                );
                if let Some(name) = &user.name {
                    claims.insert("name".into(), Value::String(name.clone()));
                }
            }
            "email" => {
                if let Some(email) = &user.email {
                    claims.insert("email".into(), Value::String(email.clone()));
                    claims.insert("email_verified".into(), Value::Bool(user.email_verified));
                }
            }
            "address" => {
                if let Some(address) = &user.address {
                    claims.insert(
                        "address".into(),
                        serde_json::json!({ "formatted": address }),
                    );
                }
            }
            // An array even when empty: applications read "no groups" from it.
            "groups" => {
                claims.insert("groups".into(), serde_json::json!(groups));
            }
            "phone" => {
                if let Some(phone) = &user.phone_number {
                    claims.insert("phone_number".into(), Value::String(phone.clone()));
                    claims.insert(
                        "phone_number_verified".into(),
                        Value::Bool(user.phone_number_verified),
                    );
                }
            }
            _ => {}
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: "u1".into(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            email_verified: false,
            name: Some("Alice Liddell".into()),
            phone_number: Some("+1 555 0100".into()),
            phone_number_verified: false,
            address: Some("1 Rabbit Hole, Wonderland".into()),
            password_hash: None,
            disabled: false,
            totp_secret: None,
            totp_last_step: None,
            mfa_policy: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn unknown_scopes_are_dropped_and_repeats_removed() {
        assert_eq!(
            filter_supported("openid  email foo openid"),
            vec!["openid", "email"]
        );
    }

    #[test]
    fn consent_coverage() {
        assert!(covers("openid profile email", "openid email"));
        assert!(!covers("openid", "openid email"));
    }

    #[test]
    fn claims_follow_scopes() {
        let only_openid = user_claims(&user(), &[], "openid");
        assert_eq!(only_openid.len(), 1);
        let all = user_claims(&user(), &[], "openid profile email");
        assert_eq!(all["preferred_username"], "alice");
        assert_eq!(all["name"], "Alice Liddell");
        assert_eq!(all["email"], "alice@example.com");
        assert_eq!(all["email_verified"], false);
        assert!(all.get("phone_number").is_none(), "no phone scope");
        let more = user_claims(&user(), &[], "phone address openid");
        assert_eq!(more["phone_number"], "+1 555 0100");
        assert_eq!(more["address"]["formatted"], "1 Rabbit Hole, Wonderland");
        let groups = ["finance".to_string(), "ops".to_string()];
        assert!(user_claims(&user(), &groups, "openid")
            .get("groups")
            .is_none());
        let with_groups = user_claims(&user(), &groups, "openid groups");
        assert_eq!(with_groups["groups"], serde_json::json!(["finance", "ops"]));
        assert_eq!(
            user_claims(&user(), &[], "openid groups")["groups"],
            serde_json::json!([])
        );
        assert!(releases_groups("openid groups") && !releases_groups("openid groupsx"));
    }
}
