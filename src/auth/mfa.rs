//! When a second factor is due, and what the tokens then say about it.

use crate::store::users::User;

/// `acr` values (OIDC Core §2): "1" password only, "2" password and a second factor.
pub const ACR_PASSWORD: &str = "1";
pub const ACR_MFA: &str = "2";
pub const ACR_VALUES: &[&str] = &[ACR_PASSWORD, ACR_MFA];

/// RFC 8176 method values.
pub const AMR_PASSWORD: &str = "pwd";
pub const AMR_OTP: &str = "otp";

/// Whether a user must sign in with a second factor: the user's own setting, else
/// `GATEHOUSE_MFA_POLICY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaPolicy {
    Optional,
    Required,
}

impl MfaPolicy {
    pub fn parse(value: &str) -> Option<MfaPolicy> {
        match value {
            "optional" => Some(MfaPolicy::Optional),
            "required" => Some(MfaPolicy::Required),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Optional => "optional",
            MfaPolicy::Required => "required",
        }
    }
}

pub fn is_enrolled(user: &User) -> bool {
    user.totp_secret.is_some()
}

/// The user's own policy, else the global one.
pub fn policy_of(user: &User, global_policy: MfaPolicy) -> MfaPolicy {
    user.mfa_policy
        .as_deref()
        .and_then(MfaPolicy::parse)
        .unwrap_or(global_policy)
}

pub fn required_by_policy(user: &User, global_policy: MfaPolicy) -> bool {
    policy_of(user, global_policy) == MfaPolicy::Required
}

/// Whether acr_values asks for the second factor (OIDC Core §3.1.2.1).
pub fn requested(acr_values: Option<&str>) -> bool {
    acr_values.is_some_and(|v| v.split(' ').any(|a| a == ACR_MFA))
}

/// Whether this sign-in must include a second factor.
pub fn second_factor_due(user: &User, global_policy: MfaPolicy, acr_values: Option<&str>) -> bool {
    is_enrolled(user) || required_by_policy(user, global_policy) || requested(acr_values)
}

pub fn has_second_factor(amr: &[String]) -> bool {
    amr.iter().any(|m| m == AMR_OTP)
}

pub fn acr_for(amr: &[String]) -> &'static str {
    if has_second_factor(amr) {
        ACR_MFA
    } else {
        ACR_PASSWORD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(totp: bool, policy: Option<&str>) -> User {
        User {
            id: "u".into(),
            username: "u".into(),
            email: None,
            email_verified: false,
            name: None,
            phone_number: None,
            phone_number_verified: false,
            address: None,
            password_hash: None,
            disabled: false,
            totp_secret: totp.then(|| "sealed".into()),
            totp_last_step: None,
            mfa_policy: policy.map(str::to_string),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn second_factor_rules() {
        assert!(!second_factor_due(
            &user(false, None),
            MfaPolicy::Optional,
            None
        ));
        assert!(
            second_factor_due(&user(true, None), MfaPolicy::Optional, None),
            "enrolled"
        );
        assert!(
            second_factor_due(&user(false, None), MfaPolicy::Required, None),
            "global policy"
        );
        assert!(second_factor_due(
            &user(false, Some("required")),
            MfaPolicy::Optional,
            None
        ));
        assert!(
            !second_factor_due(&user(false, Some("optional")), MfaPolicy::Required, None),
            "user policy wins"
        );
        assert!(
            second_factor_due(&user(false, None), MfaPolicy::Optional, Some("1 2")),
            "acr_values"
        );
    }

    #[test]
    fn acr_follows_amr() {
        assert_eq!(acr_for(&["pwd".into()]), "1");
        assert_eq!(acr_for(&["pwd".into(), "otp".into()]), "2");
    }
}
