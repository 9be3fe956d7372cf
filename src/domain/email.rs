//! Mailed links: confirming an address, and resetting a forgotten password.
//! A link carries a random token of which only the SHA-256 is stored; it works
//! once, for a limited time, and only for the account and address it was made
//! for. Mail is sent outside the request (crate::mail).

use sea_orm::{ConnectionTrait, TransactionTrait};

use super::Refusal;
use crate::auth::throttle;
use crate::domain::backchannel;
use crate::domain::sessions;
use crate::mail::{messages, Outgoing};
use crate::secrets::{hash_token, random_token};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::email_tokens::{self, EmailToken, NewToken};
use crate::store::users::{self, User};

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    /// A new account's first password (an administrator's invitation).
    Invitation,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::Invitation => "invitation",
        }
    }

    /// How long a link works, seconds.
    pub fn ttl(self) -> i64 {
        match self {
            Purpose::VerifyEmail => 24 * 3600,
            Purpose::ResetPassword => 15 * 60,
            Purpose::Invitation => 7 * 24 * 3600,
        }
    }

    /// The page a link of this purpose opens.
    pub fn path(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "/email/verify",
            Purpose::ResetPassword => "/login/reset",
            Purpose::Invitation => "/login/invite",
        }
    }
}

/// Links of one purpose mailed to one account per hour, at most: nobody can
/// flood someone's mailbox through Gatehouse.
const MAILS_PER_HOUR: i64 = 3;
/// Accounts one address may name (a reset by email address).
const ACCOUNTS_PER_ADDRESS: u64 = 5;

/// The link is unknown, used, expired, or no longer fits its account. One answer
/// for all: the page cannot tell which secret was wrong.
fn dead_link() -> Refusal {
    Refusal::invalid(
        "token",
        "This link is invalid, expired or already used. Ask for a new one.",
    )
}

/// Ties a reset link to the password it replaces: once that changed, the link dies.
fn password_stamp(user: &User) -> String {
    hash_token(user.password_hash.as_deref().unwrap_or("no password"))
}

fn event<'a>(kind: &'a str, user: &'a User, ip: Option<&'a str>) -> Event<'a> {
    Event {
        actor: None,
        kind,
        user_id: Some(&user.id),
        client_id: None,
        ip,
        detail: None,
    }
}

/// Makes a link of `purpose` for `user`, to be sent to `email`.
async fn make_link(
    db: &impl ConnectionTrait,
    issuer: &str,
    user: &User,
    email: &str,
    purpose: Purpose,
    now: i64,
) -> Result<String, Refusal> {
    let token = random_token();
    email_tokens::create(
        db,
        NewToken {
            token_hash: hash_token(&token),
            purpose: purpose.as_str(),
            user_id: &user.id,
            email,
            password_stamp: password_stamp(user),
        },
        now,
        purpose.ttl(),
    )
    .await?;
    Ok(format!("{issuer}{}?token={token}", purpose.path()))
}

/// Makes a link for `user` to `email` and queues the message `content` makes of it.
async fn mail_link(
    state: &AppState,
    user: &User,
    email: &str,
    purpose: Purpose,
    content: impl FnOnce(String) -> messages::Content,
) -> Result<(), Refusal> {
    let link = make_link(&state.db, state.issuer(), user, email, purpose, state.now()).await?;
    state.mailer.send(Outgoing {
        to: email.to_string(),
        user_id: Some(user.id.clone()),
        content: content(link),
    });
    Ok(())
}

/// Whether another link of `purpose` may be mailed to the user now.
async fn under_mail_cap(state: &AppState, user: &User, purpose: Purpose) -> Result<bool, Refusal> {
    let key = format!("quota:{}:{}", purpose.as_str(), user.id);
    Ok(throttle::take_quota(&state.db, &key, MAILS_PER_HOUR, 3600, state.now()).await?)
}

/// Mails the user a link that confirms their address.
pub async fn send_verification(state: &AppState, user: &User, ip: &str) -> Result<(), Refusal> {
    if !state.mailer.enabled() {
        return Err(Refusal::Conflict(
            "mail is not set up on this server".into(),
        ));
    }
    let Some(email) = user.email.as_deref() else {
        return Err(Refusal::Conflict("the account has no email address".into()));
    };
    if user.email_verified {
        return Err(Refusal::Conflict("the address is already confirmed".into()));
    }
    if !under_mail_cap(state, user, Purpose::VerifyEmail).await? {
        return Err(Refusal::Conflict(format!(
            "{MAILS_PER_HOUR} links were sent in the last hour: use one of them, or try later"
        )));
    }
    let purpose = Purpose::VerifyEmail;
    let hours = purpose.ttl() / 3600;
    mail_link(state, user, email, purpose, |link| {
        messages::verify_email(&user.username, link, hours)
    })
    .await?;
    let now = state.now();
    audit::record(
        &state.db,
        event("email_verification_sent", user, Some(ip)),
        now,
    )
    .await?;
    Ok(())
}

/// The link's token confirms the address it was mailed to.
pub async fn verify(state: &AppState, token: &str, ip: &str) -> Result<User, Refusal> {
    let now = state.now();
    let purpose = Purpose::VerifyEmail.as_str();
    let txn = state.db.begin().await?;
    let Some(link) = email_tokens::take(&txn, &hash_token(token), purpose, now).await? else {
        return Err(dead_link());
    };
    // The address changed since the link was sent: it proves nothing of the new one.
    if !users::set_email_verified(&txn, &link.user_id, &link.email, now).await? {
        return Err(dead_link());
    }
    email_tokens::remove_for_user(&txn, &link.user_id, purpose).await?;
    let user = users::find(&txn, &link.user_id)
        .await?
        .ok_or_else(dead_link)?;
    txn.commit().await?;
    audit::record(&state.db, event("email_verified", &user, Some(ip)), now).await?;
    Ok(user)
}

/// The throttle keys of a reset request: the name typed, and the address it
/// came from (with an address budget of its own, apart from sign-ins).
fn reset_keys(identifier: &str, ip: &str) -> [String; 2] {
    [
        format!("reset:{}", identifier.trim().to_lowercase()),
        format!("ip:reset:{ip}"),
    ]
}

/// "Forgot password": mails a reset link to the account `identifier` names
/// (username or email address), if there is one. The answer and its timing do not
/// depend on that: the lookup and the mail happen after the request, and only the
/// throttle, the same for every name, runs in it. Some(seconds) when throttled.
pub async fn request_reset(
    state: &AppState,
    identifier: &str,
    ip: &str,
) -> Result<Option<i64>, Refusal> {
    let now = state.now();
    let keys = reset_keys(identifier, ip);
    // Every request counts, found or not: the budget is per name and address.
    let policy = state.config.throttle_policy();
    if let Some(wait) = throttle::count_request(&state.db, &policy, &keys, now).await? {
        return Ok(Some(wait));
    }
    let (state, identifier, ip) = (state.clone(), identifier.trim().to_string(), ip.to_string());
    tokio::spawn(async move {
        if let Err(err) = mail_reset(&state, &identifier, &ip).await {
            tracing::warn!(error = %err, "password reset request failed");
        }
    });
    Ok(None)
}

async fn mail_reset(state: &AppState, identifier: &str, ip: &str) -> Result<(), Refusal> {
    let accounts = if identifier.contains('@') {
        users::find_by_email(&state.db, identifier, ACCOUNTS_PER_ADDRESS).await?
    } else {
        users::find_by_username(&state.db, identifier)
            .await?
            .into_iter()
            .collect()
    };
    let purpose = Purpose::ResetPassword;
    for user in accounts {
        let now = state.now();
        let refused = |why: &'static str| Event {
            detail: Some(why),
            ..event("password_reset_refused", &user, Some(ip))
        };
        let Some(email) = user.email.as_deref() else {
            audit::record(&state.db, refused("the account has no email address"), now).await?;
            continue;
        };
        if user.disabled {
            audit::record(&state.db, refused("the account is disabled"), now).await?;
            continue;
        }
        if !under_mail_cap(state, &user, purpose).await? {
            audit::record(
                &state.db,
                refused("too many reset mails in the last hour"),
                now,
            )
            .await?;
            continue;
        }
        let minutes = purpose.ttl() / 60;
        mail_link(state, &user, email, purpose, |link| {
            messages::reset_password(&user.username, link, minutes)
        })
        .await?;
        audit::record(
            &state.db,
            event("password_reset_requested", &user, Some(ip)),
            now,
        )
        .await?;
    }
    Ok(())
}

/// The link that sets an invited account's first password. Earlier invitations
/// of the account stop working. The account must have an address and no
/// password yet (an invitation to an account in use would be a way in).
pub async fn invitation_link(
    db: &impl ConnectionTrait,
    issuer: &str,
    user: &User,
    now: i64,
) -> Result<String, Refusal> {
    let Some(email) = user.email.as_deref() else {
        return Err(Refusal::invalid(
            "email",
            "an invitation needs the user's email address",
        ));
    };
    if user.password_hash.is_some() {
        return Err(Refusal::Conflict(format!(
            "user '{}' has a password already: an invitation is for a new account",
            user.username
        )));
    }
    if user.disabled {
        return Err(Refusal::Conflict(format!(
            "user '{}' is disabled",
            user.username
        )));
    }
    let purpose = Purpose::Invitation;
    email_tokens::remove_for_user(db, &user.id, purpose.as_str()).await?;
    make_link(db, issuer, user, email, purpose, now).await
}

/// Mails the user an invitation (the server's queue); the caller audits it
/// with its actor.
pub async fn send_invitation(state: &AppState, user: &User) -> Result<(), Refusal> {
    if !state.mailer.enabled() {
        return Err(Refusal::Conflict(
            "mail is not set up on this server (GATEHOUSE_SMTP_URL)".into(),
        ));
    }
    let now = state.now();
    let link = invitation_link(&state.db, state.issuer(), user, now).await?;
    state.mailer.send(Outgoing {
        to: user.email.clone().unwrap_or_default(),
        user_id: Some(user.id.clone()),
        content: invitation_message(user, link),
    });
    Ok(())
}

/// The invitation mail for a link.
pub fn invitation_message(user: &User, link: String) -> messages::Content {
    messages::invitation(&user.username, link, Purpose::Invitation.ttl() / 86400)
}

/// The account a password link (reset or invitation) is for, while the link
/// works: the page that asks for the password, which leaves the link unused.
pub async fn password_link_user(
    state: &AppState,
    purpose: Purpose,
    token: &str,
) -> Result<User, Refusal> {
    let purpose = purpose.as_str();
    let link = email_tokens::peek(&state.db, &hash_token(token), purpose, state.now())
        .await?
        .ok_or_else(dead_link)?;
    let user = users::find(&state.db, &link.user_id)
        .await?
        .ok_or_else(dead_link)?;
    fits(&link, &user)?;
    Ok(user)
}

/// A reset link fits its account while the password and the address are as
/// they were when it was mailed, and the account is not disabled.
fn fits(link: &EmailToken, user: &User) -> Result<(), Refusal> {
    let same_password = link.password_stamp == password_stamp(user);
    let same_address = user.email.as_deref() == Some(link.email.as_str());
    if same_password && same_address && !user.disabled {
        Ok(())
    } else {
        Err(dead_link())
    }
}

/// Sets the password a link (reset or invitation) allows. The user's sessions
/// end, and with them the grants without offline_access; the second factor
/// stays, so the next sign-in still asks for it. The address the link reached is
/// confirmed by it.
pub async fn set_password_by_link(
    state: &AppState,
    purpose: Purpose,
    token: &str,
    password: &str,
    ip: &str,
) -> Result<User, Refusal> {
    // Before the link is used up: a too-short password lets the person try again.
    let hash = super::users::hash_new_password(&state.passwords, password).await?;
    let now = state.now();
    let kind = purpose;
    let purpose = purpose.as_str();
    let txn = state.db.begin().await?;
    let link = email_tokens::take(&txn, &hash_token(token), purpose, now)
        .await?
        .ok_or_else(dead_link)?;
    let user = users::find(&txn, &link.user_id)
        .await?
        .ok_or_else(dead_link)?;
    fits(&link, &user)?;
    users::set_password_hash(&txn, &user.id, &hash, now).await?;
    users::set_email_verified(&txn, &user.id, &link.email, now).await?;
    email_tokens::remove_for_user(&txn, &user.id, purpose).await?;
    let notices = sessions::end_sessions_in(&txn, &user.id, now).await?;
    txn.commit().await?;
    backchannel::notify(state, notices);
    // The failures that may have led here no longer hold the account back.
    throttle::record_success(&state.db, &throttle::account_key(&user.username)).await?;
    if kind == Purpose::Invitation {
        audit::record(
            &state.db,
            event("invitation_accepted", &user, Some(ip)),
            now,
        )
        .await?;
    } else {
        audit::record(&state.db, event("password_reset", &user, Some(ip)), now).await?;
        notify_password_changed(state, &user, "with a reset link");
    }
    Ok(user)
}

/// A change to how an account signs in, which its owner hears of by mail.
#[derive(Debug, Clone, Copy)]
pub enum SecurityChange {
    PasskeyAdded,
    PasskeyRemoved,
    AuthenticatorAdded,
    AuthenticatorRemoved,
}

impl SecurityChange {
    fn words(self) -> &'static str {
        match self {
            SecurityChange::PasskeyAdded => "A passkey was added",
            SecurityChange::PasskeyRemoved => "A passkey was removed",
            SecurityChange::AuthenticatorAdded => "An authenticator app was set up",
            SecurityChange::AuthenticatorRemoved => "The authenticator app was removed",
        }
    }
}

/// Tells the person of a change to their second factors (when mail is set up
/// and the account has an address).
pub fn notify_security_change(state: &AppState, user: &User, change: SecurityChange) {
    if let Some(email) = &user.email {
        state.mailer.send(Outgoing {
            to: email.clone(),
            user_id: Some(user.id.clone()),
            content: messages::security_notice(&user.username, change.words()),
        });
    }
}

/// Tells the person their password was changed (`how`: "on the account page"),
/// when mail is set up and the account has an address.
pub fn notify_password_changed(state: &AppState, user: &User, how: &str) {
    if let Some(email) = &user.email {
        state.mailer.send(Outgoing {
            to: email.clone(),
            user_id: Some(user.id.clone()),
            content: messages::password_changed(&user.username, how),
        });
    }
}
