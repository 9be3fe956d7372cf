//! A throttled attempt: every check of a secret a person types (password, second
//! factor, the current password on the account page) goes through `guard`:
//! throttle check → verify → record success or failure → audit.

use std::future::Future;

use crate::auth::throttle;
use crate::error::Result;
use crate::state::AppState;
use crate::store::audit::{self, Event};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The password on the login page.
    Password,
    /// A TOTP or recovery code. Its own counter: a correct password does not
    /// reset it, only a correct second factor does.
    SecondFactor,
    /// A passkey sign-in: counted with the password (the same account and address
    /// budgets), audited under its own name.
    Passkey,
    /// A re-authentication on the account page (current password, or "confirm
    /// it's you"): counted with the password.
    Reauthentication,
}

impl Kind {
    fn events(self) -> (&'static str, &'static str) {
        match self {
            Kind::Password => ("login_failed", "login_locked"),
            Kind::SecondFactor => ("mfa_failed", "mfa_locked"),
            Kind::Passkey => ("passkey_failed", "passkey_locked"),
            Kind::Reauthentication => ("reauth_failed", "reauth_locked"),
        }
    }
}

/// Who tries, from where.
pub struct Attempt<'a> {
    pub kind: Kind,
    /// The username typed (passwords: unknown names are counted like known ones).
    pub username: &'a str,
    /// The user, when known.
    pub user_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub ip: &'a str,
    /// This browser is a known device of the user: its own budget replaces the
    /// account's (see auth::known_device).
    pub device: Option<&'a str>,
}

impl Attempt<'_> {
    /// The per-account counter this kind of attempt uses, and the address's.
    fn keys(&self) -> [String; 2] {
        let account = match (self.kind, self.user_id, self.device) {
            (Kind::SecondFactor, Some(user_id), _) => throttle::second_factor_key(user_id),
            (_, Some(user_id), Some(device)) => throttle::device_key(device, user_id),
            _ => throttle::account_key(self.username),
        };
        [account, throttle::ip_key(self.ip)]
    }
}

pub enum Outcome<T> {
    /// Refused before checking: try again in this many seconds.
    Locked {
        retry_after: i64,
    },
    Failed,
    Passed(T),
}

/// Runs `verify` unless the account or the address is locked; `verify` answers
/// `Some` for a correct secret. Failures are counted and audited here.
pub async fn guard<T>(
    state: &AppState,
    attempt: &Attempt<'_>,
    verify: impl Future<Output = Result<Option<T>>>,
) -> Result<Outcome<T>> {
    let now = state.now();
    let keys = attempt.keys();
    if let Some(wait) = throttle::retry_after(&state.db, &keys, now).await? {
        return Ok(Outcome::Locked { retry_after: wait });
    }
    match verify.await? {
        Some(value) => {
            throttle::record_success(&state.db, &keys[0]).await?;
            Ok(Outcome::Passed(value))
        }
        None => {
            let policy = state.config.throttle_policy();
            let locked = throttle::record_failure(&state.db, &policy, &keys, now).await?;
            if attempt.kind != Kind::Reauthentication {
                crate::observability::metrics::login(false);
            }
            let (failed, locked_kind) = attempt.kind.events();
            let event = |kind| Event {
                actor: None,
                kind,
                user_id: attempt.user_id,
                client_id: attempt.client_id,
                ip: Some(attempt.ip),
                detail: None,
            };
            audit::record(&state.db, event(failed), now).await?;
            if locked {
                audit::record(&state.db, event(locked_kind), now).await?;
            }
            Ok(Outcome::Failed)
        }
    }
}
