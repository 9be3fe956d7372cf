//! The one decision of a sign-in: given what is known about the request, the
//! browser's session and the user, what comes next. Pure: every handler that
//! advances a sign-in loads these values, asks `next`, and renders the answer.

use crate::auth::mfa::MfaPolicy;
use crate::error::{ErrorCode, OAuthError};

/// What the pending authorization request asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    pub prompt_none: bool,
    /// Still asking for a new authentication (cleared once the user signed in for it).
    pub prompt_login: bool,
    pub prompt_consent: bool,
    /// Also cleared once the user signed in for this request.
    pub max_age: Option<i64>,
    /// `acr_values` contains "2": the sign-in must include a second factor.
    pub wants_second_factor: bool,
    /// The scope includes offline_access.
    pub offline_access: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct UserFacts {
    pub disabled: bool,
    /// Has a second factor set up.
    pub enrolled: bool,
    /// The user's own policy, if set; the global one applies otherwise.
    pub policy: Option<MfaPolicy>,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub auth_time: i64,
    pub expires_at: i64,
    /// amr of the session includes a second factor.
    pub second_factor: bool,
    /// The session was signed in with the password (not a passkey alone).
    pub password: bool,
    pub user: UserFacts,
}

#[derive(Debug, Clone, Copy)]
pub struct ClientFacts {
    pub skip_consent: bool,
    /// The client admits the session's user (it has no allowed groups, or the user
    /// is in one of them).
    pub admits_user: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAnswer {
    Allow,
    Deny,
}

/// Everything the decision looks at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub request: RequestFacts,
    /// The user whose password this browser gave for this request, awaiting the
    /// second factor.
    pub password_user: Option<UserFacts>,
    /// The browser's live session, if any.
    pub session: Option<SessionFacts>,
    /// None: a sign-in to the account page, which ends there.
    pub client: Option<ClientFacts>,
    /// The user consented before to at least the requested scopes.
    pub consent_remembered: bool,
    /// The consent page was answered just now.
    pub consent_answer: Option<ConsentAnswer>,
    pub policy: MfaPolicy,
    pub now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// None set up yet: set one up now, before anything is issued.
    Enroll,
    Verify,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Login,
    SecondFactor(SecondFactor),
    Consent,
    /// Issue the code (or, for an account-page sign-in, go to the account page).
    /// `remember_consent`: the user allowed just now.
    Issue {
        remember_consent: bool,
    },
    Fail(OAuthError),
    /// The user signed in, but the client admits only groups the user is not in.
    NotAdmitted,
}

fn login_required() -> Next {
    Next::Fail(OAuthError::new(
        ErrorCode::LoginRequired,
        "the user must sign in",
    ))
}

/// Whether `user` must present a second factor in this sign-in: the policy or the
/// request asks for two factors, or the user has one set up and signed in with
/// the password. (A passkey sign-in without user verification stays one factor
/// for an enrolled user whom nothing requires two.)
pub fn second_factor_due(
    user: &UserFacts,
    policy: MfaPolicy,
    request: &RequestFacts,
    with_password: bool,
) -> bool {
    (user.enrolled && with_password)
        || user.policy.unwrap_or(policy) == MfaPolicy::Required
        || request.wants_second_factor
}

pub fn next(facts: &Facts) -> Next {
    let request = &facts.request;
    // The password was just given in this browser: the second step follows.
    if let Some(user) = facts.password_user.filter(|u| !u.disabled) {
        return Next::SecondFactor(if user.enrolled {
            SecondFactor::Verify
        } else {
            SecondFactor::Enroll
        });
    }
    let session = facts
        .session
        .filter(|s| s.expires_at > facts.now && !s.user.disabled);
    let Some(session) = session else {
        return if request.prompt_none {
            login_required()
        } else {
            Next::Login
        };
    };
    // OIDC Core §3.1.2.1: prompt=login asks for a new authentication; max_age bounds
    // the age of the one the session holds.
    let too_old = request
        .max_age
        .is_some_and(|max_age| facts.now - session.auth_time > max_age);
    if request.prompt_login || too_old {
        return if request.prompt_none {
            login_required()
        } else {
            Next::Login
        };
    }
    let due = second_factor_due(&session.user, facts.policy, request, session.password);
    if due && !session.second_factor {
        if request.prompt_none {
            return login_required();
        }
        // An enrolled user steps up with the factor alone, after the password.
        // Setting one up starts from the password again (a session cookie alone
        // must not enroll a factor), and so does a passkey session: a second
        // possession factor on top of a passkey would not make two kinds.
        return if session.user.enrolled && session.password {
            Next::SecondFactor(SecondFactor::Verify)
        } else {
            Next::Login
        };
    }
    let Some(client) = facts.client else {
        return Next::Issue {
            remember_consent: false,
        };
    };
    // Decided once the user is known for certain: after every factor, before consent.
    if !client.admits_user {
        return Next::NotAdmitted;
    }
    match facts.consent_answer {
        Some(ConsentAnswer::Allow) => {
            return Next::Issue {
                remember_consent: true,
            }
        }
        Some(ConsentAnswer::Deny) => {
            return Next::Fail(OAuthError::new(
                ErrorCode::AccessDenied,
                "the user denied access",
            ))
        }
        None => {}
    }
    // OIDC Core §11: offline access is never granted silently, even to first-party
    // clients; it needs consent the user gave.
    let consented = (facts.consent_remembered || (client.skip_consent && !request.offline_access))
        && !request.prompt_consent;
    if !consented {
        return if request.prompt_none {
            Next::Fail(OAuthError::new(
                ErrorCode::ConsentRequired,
                "the user must consent",
            ))
        } else {
            Next::Consent
        };
    }
    Next::Issue {
        remember_consent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 10_000;

    /// How a case differs from `base()`.
    type Adjust = Box<dyn Fn(&mut Facts)>;

    fn user() -> UserFacts {
        UserFacts {
            disabled: false,
            enrolled: false,
            policy: None,
        }
    }

    fn session(user: UserFacts) -> SessionFacts {
        SessionFacts {
            auth_time: NOW - 100,
            expires_at: NOW + 100,
            second_factor: false,
            password: true,
            user,
        }
    }

    fn base() -> Facts {
        Facts {
            request: RequestFacts::default(),
            password_user: None,
            session: Some(session(user())),
            client: Some(ClientFacts {
                skip_consent: false,
                admits_user: true,
            }),
            consent_remembered: true,
            consent_answer: None,
            policy: MfaPolicy::Optional,
            now: NOW,
        }
    }

    fn enrolled() -> UserFacts {
        UserFacts {
            enrolled: true,
            ..user()
        }
    }

    fn issue() -> Next {
        Next::Issue {
            remember_consent: false,
        }
    }

    #[test]
    fn decides_every_case() {
        use SecondFactor::{Enroll, Verify};
        let login_required = Next::Fail(OAuthError::new(
            ErrorCode::LoginRequired,
            "the user must sign in",
        ));
        let consent_required = Next::Fail(OAuthError::new(
            ErrorCode::ConsentRequired,
            "the user must consent",
        ));
        let cases: Vec<(&str, Adjust, Next)> = vec![
            ("signed in, consented", Box::new(|_| {}), issue()),
            ("no session", Box::new(|f| f.session = None), Next::Login),
            (
                "no session, prompt=none",
                Box::new(|f| {
                    f.session = None;
                    f.request.prompt_none = true;
                }),
                login_required.clone(),
            ),
            (
                "expired session",
                Box::new(|f| f.session.as_mut().unwrap().expires_at = NOW),
                Next::Login,
            ),
            (
                "disabled user",
                Box::new(|f| f.session.as_mut().unwrap().user.disabled = true),
                Next::Login,
            ),
            (
                "disabled user who just gave the password",
                Box::new(|f| {
                    f.session = None;
                    f.password_user = Some(UserFacts {
                        disabled: true,
                        ..enrolled()
                    });
                }),
                Next::Login,
            ),
            (
                "prompt=login",
                Box::new(|f| f.request.prompt_login = true),
                Next::Login,
            ),
            (
                "prompt=login with prompt=none",
                Box::new(|f| {
                    f.request.prompt_login = true;
                    f.request.prompt_none = true;
                }),
                login_required.clone(),
            ),
            (
                "max_age exceeded",
                Box::new(|f| f.request.max_age = Some(99)),
                Next::Login,
            ),
            (
                "max_age met",
                Box::new(|f| f.request.max_age = Some(100)),
                issue(),
            ),
            (
                "password given, enrolled",
                Box::new(|f| f.password_user = Some(enrolled())),
                Next::SecondFactor(Verify),
            ),
            (
                "password given, required, not enrolled",
                Box::new(|f| {
                    f.password_user = Some(UserFacts {
                        policy: Some(MfaPolicy::Required),
                        ..user()
                    })
                }),
                Next::SecondFactor(Enroll),
            ),
            (
                "session without second factor, user enrolled since",
                Box::new(|f| f.session = Some(session(enrolled()))),
                Next::SecondFactor(Verify),
            ),
            (
                "session with second factor, enrolled",
                Box::new(|f| {
                    let mut s = session(enrolled());
                    s.second_factor = true;
                    f.session = Some(s);
                }),
                issue(),
            ),
            (
                "passkey session without user verification, enrolled, optional",
                Box::new(|f| {
                    let mut s = session(enrolled());
                    s.password = false;
                    f.session = Some(s);
                }),
                issue(),
            ),
            (
                "passkey session without user verification, policy required",
                Box::new(|f| {
                    let mut s = session(enrolled());
                    s.password = false;
                    f.session = Some(s);
                    f.policy = MfaPolicy::Required;
                }),
                Next::Login,
            ),
            (
                "passkey session without user verification, acr_values=2",
                Box::new(|f| {
                    let mut s = session(enrolled());
                    s.password = false;
                    f.session = Some(s);
                    f.request.wants_second_factor = true;
                }),
                Next::Login,
            ),
            (
                "passkey session with user verification, policy required",
                Box::new(|f| {
                    let mut s = session(enrolled());
                    s.password = false;
                    s.second_factor = true;
                    f.session = Some(s);
                    f.policy = MfaPolicy::Required;
                }),
                issue(),
            ),
            (
                "global policy required, not enrolled: password again, then enroll",
                Box::new(|f| f.policy = MfaPolicy::Required),
                Next::Login,
            ),
            (
                "user policy optional beats global required",
                Box::new(|f| {
                    f.policy = MfaPolicy::Required;
                    f.session.as_mut().unwrap().user.policy = Some(MfaPolicy::Optional);
                }),
                issue(),
            ),
            (
                "acr_values=2, enrolled, password-only session",
                Box::new(|f| {
                    f.request.wants_second_factor = true;
                    f.session = Some(session(enrolled()));
                }),
                Next::SecondFactor(Verify),
            ),
            (
                "acr_values=2, not enrolled",
                Box::new(|f| f.request.wants_second_factor = true),
                Next::Login,
            ),
            (
                "acr_values=2 under prompt=none",
                Box::new(|f| {
                    f.request.wants_second_factor = true;
                    f.request.prompt_none = true;
                    f.session = Some(session(enrolled()));
                }),
                login_required.clone(),
            ),
            (
                "second factor due even with the consent answered",
                Box::new(|f| {
                    f.session = Some(session(enrolled()));
                    f.consent_answer = Some(ConsentAnswer::Allow);
                }),
                Next::SecondFactor(Verify),
            ),
            (
                "no consent yet",
                Box::new(|f| f.consent_remembered = false),
                Next::Consent,
            ),
            (
                "no consent, prompt=none",
                Box::new(|f| {
                    f.consent_remembered = false;
                    f.request.prompt_none = true;
                }),
                consent_required.clone(),
            ),
            (
                "prompt=consent asks again",
                Box::new(|f| f.request.prompt_consent = true),
                Next::Consent,
            ),
            (
                "allowed just now",
                Box::new(|f| {
                    f.request.prompt_consent = true;
                    f.consent_answer = Some(ConsentAnswer::Allow);
                }),
                Next::Issue {
                    remember_consent: true,
                },
            ),
            (
                "denied",
                Box::new(|f| f.consent_answer = Some(ConsentAnswer::Deny)),
                Next::Fail(OAuthError::new(
                    ErrorCode::AccessDenied,
                    "the user denied access",
                )),
            ),
            (
                "skip-consent client",
                Box::new(|f| {
                    f.consent_remembered = false;
                    f.client = Some(ClientFacts {
                        skip_consent: true,
                        admits_user: true,
                    });
                }),
                issue(),
            ),
            (
                "skip-consent client, offline_access",
                Box::new(|f| {
                    f.consent_remembered = false;
                    f.request.offline_access = true;
                    f.client = Some(ClientFacts {
                        skip_consent: true,
                        admits_user: true,
                    });
                }),
                Next::Consent,
            ),
            (
                "offline_access consented before",
                Box::new(|f| f.request.offline_access = true),
                issue(),
            ),
            (
                "not in the client's allowed groups",
                Box::new(|f| f.client.as_mut().unwrap().admits_user = false),
                Next::NotAdmitted,
            ),
            (
                "not admitted, even with the consent answered",
                Box::new(|f| {
                    f.client.as_mut().unwrap().admits_user = false;
                    f.consent_answer = Some(ConsentAnswer::Allow);
                }),
                Next::NotAdmitted,
            ),
            (
                "not admitted, prompt=none",
                Box::new(|f| {
                    f.client.as_mut().unwrap().admits_user = false;
                    f.request.prompt_none = true;
                }),
                Next::NotAdmitted,
            ),
            (
                "not admitted, but the second factor is still due",
                Box::new(|f| {
                    f.client.as_mut().unwrap().admits_user = false;
                    f.session = Some(session(enrolled()));
                }),
                Next::SecondFactor(Verify),
            ),
            (
                "not admitted, not signed in",
                Box::new(|f| {
                    f.client.as_mut().unwrap().admits_user = false;
                    f.session = None;
                }),
                Next::Login,
            ),
            (
                "account-page sign-in",
                Box::new(|f| {
                    f.client = None;
                    f.consent_remembered = false;
                }),
                issue(),
            ),
        ];
        for (name, adjust, expected) in cases {
            let mut facts = base();
            adjust(&mut facts);
            assert_eq!(next(&facts), expected, "{name}");
        }
    }
}
