//! Passkeys: registering one, signing in with one (usernameless), using one as
//! the second factor, renaming and removing. Every ceremony's state is kept in
//! the database (any node finishes what another started), bound to the browser
//! that started it, single use, and dead after `CEREMONY_TTL`.

use sea_orm::TransactionTrait;

use crate::auth::mfa::{Factors, Proof};
use crate::auth::passkey::{self, Rejected};
use crate::auth::recovery;
use crate::domain::attempts::{self, Attempt, Kind, Outcome};
use crate::domain::email::{notify_security_change, SecurityChange};
use crate::domain::Refusal;
use crate::error::Result;
use crate::secrets::{constant_time_eq, hash_token, random_token};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::passkeys::{self as store, NewPasskey, Passkey, Use};
use crate::store::recovery_codes;
use crate::store::users::{self, User};
use crate::store::webauthn_ceremonies::{self, Ceremony, NewCeremony};

/// Seconds a ceremony may take, as long as the browser's own timeout.
pub const CEREMONY_TTL: i64 = passkey::TIMEOUT.as_secs() as i64;

/// The longest passkey name, in characters.
pub const NAME_MAX: usize = 64;

/// What a ceremony is for: the state of one is never accepted for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    /// Usernameless sign-in on the login page.
    SignIn,
    /// The second step after the password.
    SecondFactor,
    /// "Confirm it's you" on the account page.
    Confirm,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "signin",
            Purpose::SecondFactor => "second_factor",
            Purpose::Confirm => "confirm",
        }
    }
}

/// Who may finish a ceremony: the browser that started it (hash of its binding
/// cookie, signin::binding), for the same sign-in request when there is one.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub browser_hash: &'a str,
    pub request_id: Option<&'a str>,
}

/// A ceremony under way: the id the page carries back, and the options for
/// `navigator.credentials`.
#[derive(Debug, Clone)]
pub struct Started {
    pub ceremony: String,
    pub options: String,
}

/// The answer to a ceremony, as the page posted it.
pub struct Answer<'a> {
    pub ceremony: &'a str,
    pub credential: &'a str,
}

/// Why a passkey was not accepted, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Unknown, used, expired, or started by another browser or for another step.
    CeremonyExpired,
    /// The authenticator's answer did not check out.
    NotVerified,
    /// Too many failures: try again in this many seconds.
    Locked { retry_after: i64 },
}

impl Failure {
    pub fn message(&self) -> &'static str {
        match self {
            Failure::CeremonyExpired => {
                "That passkey request expired or was already used. Try again."
            }
            Failure::NotVerified => "That passkey could not be verified. Try again.",
            Failure::Locked { .. } => "Too many attempts. Wait a while and try again.",
        }
    }
}

/// The WebAuthn user handle of a user: the user id (opaque, no personal data;
/// WebAuthn §14.6.1).
fn user_handle(user: &User) -> &[u8] {
    user.id.as_bytes()
}

async fn start(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<&str>,
    binding: Binding<'_>,
    (options, ceremony_state): (String, String),
) -> Result<Started> {
    let id = random_token();
    webauthn_ceremonies::create(
        &state.db,
        NewCeremony {
            id_hash: hash_token(&id),
            purpose: purpose.as_str(),
            user_id: user_id.map(str::to_string),
            request_id: binding.request_id.map(str::to_string),
            browser_hash: binding.browser_hash.to_string(),
            state: ceremony_state,
        },
        state.now(),
        CEREMONY_TTL,
    )
    .await?;
    Ok(Started {
        ceremony: id,
        options,
    })
}

/// Takes the ceremony `id` out of the store if it is live and was started by this
/// browser, for this purpose, request and user. Taking it ends it either way.
async fn take(
    state: &AppState,
    id: &str,
    purpose: Purpose,
    binding: Binding<'_>,
    user_id: Option<&str>,
) -> Result<Option<Ceremony>> {
    let well_formed = id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Ok(None);
    }
    let Some(ceremony) = webauthn_ceremonies::take(&state.db, &hash_token(id), state.now()).await?
    else {
        return Ok(None);
    };
    let matches = ceremony.purpose == purpose.as_str()
        && constant_time_eq(&ceremony.browser_hash, binding.browser_hash)
        && ceremony.request_id.as_deref() == binding.request_id
        && ceremony.user_id.as_deref() == user_id;
    Ok(matches.then_some(ceremony))
}

fn rejected(err: Rejected) -> crate::error::Error {
    crate::error::Error::Internal(anyhow::anyhow!("passkey options: {err:?}"))
}

/// Starts adding a passkey for `user`; the user's passkeys are excluded, so an
/// authenticator that holds one already says so instead of making another.
pub async fn begin_registration(
    state: &AppState,
    user: &User,
    binding: Binding<'_>,
) -> Result<Started> {
    let mut exclude = Vec::new();
    for existing in store::list_for_user(&state.db, &user.id).await? {
        if let Ok(credential) = passkey::credential_from_json(&existing.credential) {
            exclude.push(credential.cred_id);
        }
    }
    let display = user.name.as_deref().unwrap_or(&user.username);
    let options = state
        .passkeys
        .registration_options(user_handle(user), &user.username, display, exclude)
        .map_err(rejected)?;
    start(state, Purpose::Register, Some(&user.id), binding, options).await
}

/// A passkey's name as the person typed it: trimmed, 1 to 64 characters, no
/// control characters. Empty: "Passkey".
pub fn check_name(raw: &str) -> std::result::Result<String, Refusal> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok("Passkey".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(Refusal::invalid(
            "name",
            format!("a passkey name has at most {NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::invalid(
            "name",
            "a passkey name has no control characters",
        ));
    }
    Ok(name.to_string())
}

/// What adding a passkey brought.
pub struct Registered {
    pub passkey: Passkey,
    /// New recovery codes, when this is the user's first second factor.
    pub recovery_codes: Option<Vec<String>>,
    pub user_verified: bool,
}

/// Finishes adding a passkey: checks the authenticator's answer against the
/// ceremony and stores the credential (with recovery codes when it is the user's
/// first second factor), audited.
pub async fn finish_registration(
    state: &AppState,
    user: &User,
    binding: Binding<'_>,
    answer: Answer<'_>,
    name: &str,
    ip: &str,
) -> Result<std::result::Result<Registered, Failure>> {
    let Some(ceremony) = take(
        state,
        answer.ceremony,
        Purpose::Register,
        binding,
        Some(&user.id),
    )
    .await?
    else {
        return Ok(Err(Failure::CeremonyExpired));
    };
    let credential = match state.passkeys.register(&ceremony.state, answer.credential) {
        Ok(credential) => credential,
        Err(err) => {
            tracing::info!(user_id = %user.id, error = ?err, "passkey registration refused");
            return Ok(Err(Failure::NotVerified));
        }
    };
    let name = check_name(name).unwrap_or_else(|_| "Passkey".into());
    let now = state.now();
    let factors = Factors::of(&state.db, user).await?;
    let txn = state.db.begin().await?;
    let created = store::create(
        &txn,
        NewPasskey {
            user_id: user.id.clone(),
            credential_id: passkey::encode_id(&credential.cred_id),
            name,
            credential: passkey::credential_to_json(&credential).map_err(rejected)?,
            sign_count: credential.counter,
            backup_eligible: credential.backup_eligible,
            backed_up: credential.backup_state,
            user_verified: credential.user_verified,
        },
        now,
    )
    .await;
    let created = match created {
        Ok(created) => created,
        // WebAuthn §7.1 step 22: a credential id registered already is refused.
        Err(crate::store::StoreError::Conflict(_)) => return Ok(Err(Failure::NotVerified)),
        Err(err) => return Err(err.into()),
    };
    let recovery_codes = if factors.any() {
        None
    } else {
        let codes = recovery::generate();
        recovery_codes::replace(&txn, state.keys.recovery_codes(), &user.id, &codes, now).await?;
        Some(codes)
    };
    txn.commit().await?;
    let event = Event {
        actor: None,
        kind: "passkey_registered",
        user_id: Some(&user.id),
        client_id: None,
        ip: Some(ip),
        detail: Some(&created.id),
    };
    audit::record(&state.db, event, now).await?;
    notify_security_change(state, user, SecurityChange::PasskeyAdded);
    Ok(Ok(Registered {
        user_verified: credential.user_verified,
        passkey: created,
        recovery_codes,
    }))
}

/// Starts a usernameless sign-in for a pending request; the same options serve
/// the login page's autofill (conditional mediation) and its button.
pub async fn begin_signin(state: &AppState, binding: Binding<'_>) -> Result<Started> {
    let options = state
        .passkeys
        .authentication_options(Vec::new(), true)
        .map_err(rejected)?;
    start(state, Purpose::SignIn, None, binding, options).await
}

/// Starts a passkey check of `user` (second step, or "confirm it's you"), limited
/// to the user's passkeys. None when the user has none.
pub async fn begin_check(
    state: &AppState,
    user: &User,
    purpose: Purpose,
    binding: Binding<'_>,
) -> Result<Option<Started>> {
    let allowed: Vec<_> = store::list_for_user(&state.db, &user.id)
        .await?
        .iter()
        .filter_map(|p| passkey::credential_from_json(&p.credential).ok())
        .collect();
    if allowed.is_empty() {
        return Ok(None);
    }
    let options = state
        .passkeys
        .authentication_options(allowed, false)
        .map_err(rejected)?;
    Ok(Some(
        start(state, purpose, Some(&user.id), binding, options).await?,
    ))
}

/// Who signed in with a passkey.
pub struct SignedIn {
    pub user: User,
    pub user_verified: bool,
}

/// Finishes a usernameless sign-in: the credential names the passkey, its user
/// handle the user; throttled like a password.
pub async fn finish_signin(
    state: &AppState,
    binding: Binding<'_>,
    answer: Answer<'_>,
    ip: &str,
    client_id: Option<&str>,
    device_of: impl Fn(&str) -> Option<String>,
) -> Result<std::result::Result<SignedIn, Failure>> {
    let Some(ceremony) = take(state, answer.ceremony, Purpose::SignIn, binding, None).await? else {
        return Ok(Err(Failure::CeremonyExpired));
    };
    let assertion = passkey::parse_assertion(answer.credential).ok();
    let credential_id = assertion
        .as_ref()
        .map(|a| passkey::encode_id(a.get_credential_id()))
        .unwrap_or_default();
    let stored = match &assertion {
        Some(_) => store::find_by_credential_id(&state.db, &credential_id).await?,
        None => None,
    };
    // WebAuthn §7.2 step 6: the user handle must name the passkey's owner.
    let owner = match (&assertion, &stored) {
        (Some(assertion), Some(stored))
            if assertion.get_user_unique_id() == Some(stored.user_id.as_bytes()) =>
        {
            users::find(&state.db, &stored.user_id).await?
        }
        _ => None,
    };
    let device = owner.as_ref().and_then(|u| device_of(&u.id));
    let attempt = Attempt {
        kind: Kind::Passkey,
        // An unknown credential is counted by its id (and the address).
        username: owner
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(&credential_id),
        user_id: owner.as_ref().map(|u| u.id.as_str()),
        client_id,
        ip,
        device: device.as_deref(),
    };
    let checked = attempts::guard(state, &attempt, async {
        let (Some(assertion), Some(stored), Some(owner)) = (&assertion, &stored, &owner) else {
            return Ok(None);
        };
        if owner.disabled {
            return Ok(None);
        }
        verify_use(state, &ceremony, assertion, stored, ip, client_id).await
    })
    .await?;
    match checked {
        Outcome::Passed(user_verified) => match owner {
            Some(user) => Ok(Ok(SignedIn {
                user,
                user_verified,
            })),
            None => Ok(Err(Failure::NotVerified)),
        },
        Outcome::Failed => Ok(Err(Failure::NotVerified)),
        Outcome::Locked { retry_after } => Ok(Err(Failure::Locked { retry_after })),
    }
}

/// Checks a passkey of `user` for a ceremony begun by `begin_check`. Not
/// throttled here: the caller guards it as the attempt it is (second factor or
/// re-authentication). Some(proof) when it checks out.
pub async fn check(
    state: &AppState,
    user: &User,
    purpose: Purpose,
    binding: Binding<'_>,
    answer: Answer<'_>,
    ip: &str,
    client_id: Option<&str>,
) -> Result<Option<Proof>> {
    let Some(ceremony) = take(state, answer.ceremony, purpose, binding, Some(&user.id)).await?
    else {
        return Ok(None);
    };
    let Ok(assertion) = passkey::parse_assertion(answer.credential) else {
        return Ok(None);
    };
    let credential_id = passkey::encode_id(assertion.get_credential_id());
    let Some(stored) = store::find_by_credential_id(&state.db, &credential_id)
        .await?
        .filter(|p| p.user_id == user.id)
    else {
        return Ok(None);
    };
    Ok(
        verify_use(state, &ceremony, &assertion, &stored, ip, client_id)
            .await?
            .map(|user_verified| Proof::Passkey { user_verified }),
    )
}

/// The signature check of one use, and its record: the new counter and backup
/// state, or the audit event of a counter that went backwards. Some(user
/// verified) when it checks out.
async fn verify_use(
    state: &AppState,
    ceremony: &Ceremony,
    assertion: &webauthn_rs_core::proto::PublicKeyCredential,
    stored: &Passkey,
    ip: &str,
    client_id: Option<&str>,
) -> Result<Option<bool>> {
    let now = state.now();
    let event = |kind| Event {
        actor: None,
        kind,
        user_id: Some(&stored.user_id),
        client_id,
        ip: Some(ip),
        detail: Some(&stored.id),
    };
    let Ok(credential) = passkey::credential_from_json(&stored.credential) else {
        return Ok(None);
    };
    let verified = match state
        .passkeys
        .authenticate(&ceremony.state, assertion, &credential)
    {
        Ok(verified) => verified,
        Err(Rejected::CounterRegression) => {
            // WebAuthn §6.1.1: a counter that did not advance suggests a cloned key.
            audit::record(&state.db, event("passkey_counter_regression"), now).await?;
            return Ok(None);
        }
        Err(Rejected::Invalid(reason)) => {
            tracing::info!(passkey = %stored.id, %reason, "passkey assertion refused");
            return Ok(None);
        }
    };
    let used = Use {
        credential: passkey::credential_to_json(&verified.credential).map_err(rejected)?,
        sign_count: verified.credential.counter,
        backed_up: verified.credential.backup_state,
        user_verified: verified.user_verified,
    };
    // Of two uses checked against the same stored counter, only one is recorded;
    // the other is refused like a regression.
    if !store::record_use(&state.db, stored, used, now).await? {
        audit::record(&state.db, event("passkey_counter_regression"), now).await?;
        return Ok(None);
    }
    audit::record(&state.db, event("passkey_used"), now).await?;
    Ok(Some(verified.user_verified))
}

pub async fn list(state: &AppState, user: &User) -> Result<Vec<Passkey>> {
    Ok(store::list_for_user(&state.db, &user.id).await?)
}

pub async fn rename(
    state: &AppState,
    user: &User,
    id: &str,
    name: &str,
    ip: &str,
) -> std::result::Result<(), Refusal> {
    let name = check_name(name)?;
    if !store::rename(&state.db, &user.id, id, &name).await? {
        return Err(Refusal::not_found("no such passkey"));
    }
    let event = Event {
        actor: None,
        kind: "passkey_renamed",
        user_id: Some(&user.id),
        client_id: None,
        ip: Some(ip),
        detail: Some(id),
    };
    audit::record(&state.db, event, state.now()).await?;
    Ok(())
}

/// Removes one passkey, unless it is the last second factor of a user whose
/// policy requires one. With the last factor go the recovery codes. The caller
/// audits it, naming who removed it.
pub async fn remove(state: &AppState, user: &User, id: &str) -> std::result::Result<(), Refusal> {
    let factors = Factors::of(&state.db, user).await?;
    if store::find(&state.db, &user.id, id).await?.is_none() {
        return Err(Refusal::not_found("no such passkey"));
    }
    let required = crate::auth::mfa::required_by_policy(user, state.config.mfa_policy);
    if !factors.may_remove_one(required) {
        return Err(Refusal::Conflict(
            "this is the account's last second factor, and its policy requires one".into(),
        ));
    }
    let txn = state.db.begin().await?;
    if !store::remove(&txn, &user.id, id).await? {
        return Err(Refusal::not_found("no such passkey"));
    }
    if !factors.totp && factors.passkeys == 1 {
        recovery_codes::remove_all(&txn, &user.id).await?;
    }
    txn.commit().await?;
    notify_security_change(state, user, SecurityChange::PasskeyRemoved);
    Ok(())
}
