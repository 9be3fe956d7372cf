//! When a second factor is due, and what the tokens then say about it.

use crate::auth::passkey::{AMR_HARDWARE_KEY, AMR_USER_PRESENCE_VERIFIED};
use crate::store::users::User;
use crate::store::{passkeys, StoreError};

/// `acr` values (OIDC Core §2): "1" one factor, "2" two (a password and a second
/// factor, or a passkey that verified the user).
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

/// The second factors a user has set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Factors {
    pub totp: bool,
    pub passkeys: u64,
}

impl Factors {
    pub async fn of(
        db: &impl sea_orm::ConnectionTrait,
        user: &User,
    ) -> Result<Factors, StoreError> {
        Ok(Factors {
            totp: user.totp_secret.is_some(),
            passkeys: passkeys::count_for_user(db, &user.id).await?,
        })
    }

    pub fn any(self) -> bool {
        self.totp || self.passkeys > 0
    }

    /// Whether one factor may be taken away: not the last one of a user whose
    /// policy requires a second factor.
    pub fn may_remove_one(self, required: bool) -> bool {
        let count = u64::from(self.totp) + self.passkeys;
        !required || count > 1
    }
}

/// Whether the user has a second factor set up (TOTP or a passkey).
pub async fn is_enrolled(
    db: &impl sea_orm::ConnectionTrait,
    user: &User,
) -> Result<bool, StoreError> {
    Ok(Factors::of(db, user).await?.any())
}

/// What a second step (or "confirm it's you") was proved with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Totp,
    RecoveryCode,
    Passkey { user_verified: bool },
}

impl Proof {
    /// Its RFC 8176 method values.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Proof::Totp | Proof::RecoveryCode => &[AMR_OTP],
            Proof::Passkey {
                user_verified: true,
            } => &[AMR_HARDWARE_KEY, AMR_USER_PRESENCE_VERIFIED],
            Proof::Passkey {
                user_verified: false,
            } => &[AMR_HARDWARE_KEY],
        }
    }

    /// As the audit log names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Totp => "totp",
            Proof::RecoveryCode => "recovery_code",
            Proof::Passkey { .. } => "passkey",
        }
    }
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

/// Whether `amr` records two factors: a one-time code after the password, or a
/// passkey with the password or with user verification (the passkey is what the
/// user has, the PIN or biometric what they know or are).
pub fn has_second_factor(amr: &[String]) -> bool {
    let has = |value: &str| amr.iter().any(|m| m == value);
    has(AMR_OTP)
        || (has(AMR_HARDWARE_KEY) && (has(AMR_PASSWORD) || has(AMR_USER_PRESENCE_VERIFIED)))
}

/// Whether the session was signed in with the password.
pub fn has_password(amr: &[String]) -> bool {
    amr.iter().any(|m| m == AMR_PASSWORD)
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

    fn amr(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn what_counts_as_two_factors() {
        let cases: [(&[&str], bool); 8] = [
            (&["pwd"], false),
            (&["pwd", "otp"], true),
            (&["pwd", "hwk"], true),
            (&["pwd", "hwk", "user"], true),
            (&["hwk", "user"], true),
            (&["hwk"], false),
            (&["user"], false),
            (&[], false),
        ];
        for (values, two) in cases {
            assert_eq!(has_second_factor(&amr(values)), two, "{values:?}");
            let acr = if two { "2" } else { "1" };
            assert_eq!(acr_for(&amr(values)), acr, "{values:?}");
        }
    }

    #[test]
    fn the_last_required_factor_stays() {
        let cases = [
            // (totp, passkeys, required, may remove one)
            (true, 0, false, true),
            (true, 0, true, false),
            (false, 1, true, false),
            (true, 1, true, true),
            (false, 2, true, true),
            (false, 1, false, true),
        ];
        for (totp, passkeys, required, may) in cases {
            let factors = Factors { totp, passkeys };
            assert_eq!(
                factors.may_remove_one(required),
                may,
                "{factors:?} {required}"
            );
        }
    }

    #[test]
    fn proofs_name_their_methods() {
        assert_eq!(Proof::Totp.amr(), ["otp"]);
        assert_eq!(
            Proof::Passkey {
                user_verified: true
            }
            .amr(),
            ["hwk", "user"]
        );
        assert_eq!(
            Proof::Passkey {
                user_verified: false
            }
            .amr(),
            ["hwk"]
        );
    }

    #[test]
    fn acr_follows_amr() {
        assert_eq!(acr_for(&["pwd".into()]), "1");
        assert_eq!(acr_for(&["pwd".into(), "otp".into()]), "2");
    }
}
