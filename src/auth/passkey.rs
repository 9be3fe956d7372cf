//! Passkeys (WebAuthn Level 2), through webauthn-rs-core: the options a page hands
//! to `navigator.credentials`, and the checks of what the authenticator answers.
//! Ceremony state is serialised here and kept server-side only (see
//! domain::passkeys); the browser never holds it.

use std::time::Duration;

use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationResult, AuthenticationState, Credential,
    Mediation, PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState,
    UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

/// RFC 8176 method values of a passkey sign-in: a hardware-secured key, and the
/// user verified by the authenticator (PIN or biometrics).
pub const AMR_HARDWARE_KEY: &str = "hwk";
pub const AMR_USER_PRESENCE_VERIFIED: &str = "user";

/// How long the browser waits for the authenticator; the ceremony's state lives
/// as long (domain::passkeys::CEREMONY_TTL).
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// The relying party: its id and origin come from the issuer (WebAuthn §5.1.3:
/// the RP id is the origin's effective domain).
pub struct RelyingParty {
    core: WebauthnCore,
}

/// Why a credential was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The signature counter did not advance: the key may have been cloned
    /// (WebAuthn §6.1.1).
    CounterRegression,
    /// Not a valid answer to this ceremony (wrong origin, challenge, signature…).
    Invalid(String),
}

impl From<WebauthnError> for Rejected {
    fn from(err: WebauthnError) -> Rejected {
        match err {
            WebauthnError::CredentialPossibleCompromise => Rejected::CounterRegression,
            other => Rejected::Invalid(other.to_string()),
        }
    }
}

/// What one successful use tells about the passkey.
pub struct Verified {
    pub user_verified: bool,
    /// The stored credential with its new counter and backup state.
    pub credential: Credential,
}

impl RelyingParty {
    pub fn from_issuer(issuer: &str) -> Result<RelyingParty, String> {
        let url = url::Url::parse(issuer).map_err(|e| format!("issuer is not a URL: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| "issuer has no host".to_string())?
            .to_string();
        let origin = url::Url::parse(&url.origin().ascii_serialization())
            .map_err(|e| format!("issuer origin: {e}"))?;
        let core = WebauthnCore::new_unsafe_experts_only(
            "Gatehouse",
            &host,
            vec![origin],
            TIMEOUT,
            Some(false),
            Some(false),
        );
        Ok(RelyingParty { core })
    }

    /// Options for `navigator.credentials.create` and the state to keep: a
    /// discoverable credential (usernameless sign-in) with user verification
    /// preferred, no attestation (we trust no vendor list), none of `exclude`.
    pub fn registration_options(
        &self,
        user_handle: &[u8],
        username: &str,
        display_name: &str,
        exclude: Vec<Vec<u8>>,
    ) -> Result<(String, String), Rejected> {
        let builder = self
            .core
            .new_challenge_register_builder(user_handle, username, display_name)?
            .attestation(AttestationConveyancePreference::None)
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .require_resident_key(true)
            .exclude_credentials((!exclude.is_empty()).then_some(exclude));
        let (options, state) = self.core.generate_challenge_register(builder)?;
        Ok((to_json(&options)?, to_json(&state)?))
    }

    /// Checks the authenticator's answer to a registration.
    pub fn register(&self, state: &str, response: &str) -> Result<Credential, Rejected> {
        let state: RegistrationState = from_json(state)?;
        let response: RegisterPublicKeyCredential = from_json(response)?;
        Ok(self.core.register_credential(&response, &state, None)?)
    }

    /// Options for `navigator.credentials.get` and the state to keep. No
    /// credentials: any discoverable one of this RP (usernameless).
    pub fn authentication_options(
        &self,
        allowed: Vec<Credential>,
        conditional: bool,
    ) -> Result<(String, String), Rejected> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(allowed, Some(UserVerificationPolicy::Preferred))?
            // A synced passkey may become backup eligible after an update.
            .allow_backup_eligible_upgrade(true);
        let (mut options, state) = self.core.generate_challenge_authenticate(builder)?;
        if conditional {
            // WebAuthn Level 3 §5.1.4: offered in the username field's autofill.
            options.mediation = Some(Mediation::Conditional);
        }
        Ok((to_json(&options)?, to_json(&state)?))
    }

    /// Checks an assertion made with `stored`.
    pub fn authenticate(
        &self,
        state: &str,
        response: &PublicKeyCredential,
        stored: &Credential,
    ) -> Result<Verified, Rejected> {
        let state: AuthenticationState = from_json(state)?;
        let result: AuthenticationResult = self
            .core
            .authenticate_single_credential(response, &state, stored)?;
        let mut credential = stored.clone();
        credential.counter = result.counter();
        credential.backup_state = result.backup_state();
        credential.backup_eligible = result.backup_eligible();
        Ok(Verified {
            user_verified: result.user_verified(),
            credential,
        })
    }
}

/// An assertion as the page posted it.
pub fn parse_assertion(response: &str) -> Result<PublicKeyCredential, Rejected> {
    from_json(response)
}

pub fn credential_from_json(stored: &str) -> Result<Credential, Rejected> {
    from_json(stored)
}

pub fn credential_to_json(credential: &Credential) -> Result<String, Rejected> {
    to_json(credential)
}

/// base64url without padding, as WebAuthn's JSON encodes binary.
pub fn encode_id(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn to_json(value: &impl serde::Serialize) -> Result<String, Rejected> {
    serde_json::to_string(value).map_err(|e| Rejected::Invalid(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Rejected> {
    serde_json::from_str(text).map_err(|e| Rejected::Invalid(format!("malformed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_comes_from_the_issuer() {
        let cases = [
            ("https://id.example.com", true),
            ("https://id.example.com/tenant", true),
            ("http://localhost:8080", true),
            ("not a url", false),
        ];
        for (issuer, ok) in cases {
            assert_eq!(RelyingParty::from_issuer(issuer).is_ok(), ok, "{issuer}");
        }
        let rp = RelyingParty::from_issuer("https://id.example.com:8443/tenant").unwrap();
        assert_eq!(
            rp.core.get_allowed_origins()[0].as_str(),
            "https://id.example.com:8443/"
        );
        let (options, _) = rp.authentication_options(vec![], false).unwrap();
        let options: serde_json::Value = serde_json::from_str(&options).unwrap();
        assert_eq!(options["publicKey"]["rpId"], "id.example.com");
        assert_eq!(options["publicKey"]["userVerification"], "preferred");
    }

    #[test]
    fn registration_asks_for_a_discoverable_credential() {
        let rp = RelyingParty::from_issuer("http://localhost:8080").unwrap();
        let (options, state) = rp
            .registration_options(b"user-1", "alice", "alice", vec![vec![1, 2, 3]])
            .unwrap();
        let options: serde_json::Value = serde_json::from_str(&options).unwrap();
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required");
        assert_eq!(selection["userVerification"], "preferred");
        assert_eq!(options["publicKey"]["excludeCredentials"][0]["id"], "AQID");
        assert!(matches!(
            rp.register(&state, "{}"),
            Err(Rejected::Invalid(m)) if m.starts_with("malformed")
        ));
    }
}
