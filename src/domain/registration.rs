//! Open sign-up (GATEHOUSE_REGISTRATION=open, with mail): a person chooses a
//! username, an address and a password; the account exists only once the
//! address is confirmed by the mailed link (24 hours). Asking for an address that
//! already has an account gives the same answer and mails its owner instead.

use sea_orm::TransactionTrait;

use super::Refusal;
use crate::auth::throttle;
use crate::config::Registration as Mode;
use crate::mail::{messages, Outgoing};
use crate::secrets::{hash_token, random_token};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::registrations::{self, Registration};
use crate::store::users::{self, NewUser, User};

/// How long a sign-up waits for its address to be confirmed, seconds.
pub const TTL: i64 = 24 * 3600;
/// Sign-up mails to one address per hour, at most.
const MAILS_PER_HOUR: i64 = 3;

/// Whether people may create their own accounts here.
pub fn is_open(state: &AppState) -> bool {
    state.config.registration == Mode::Open && state.mailer.enabled()
}

pub struct SignUp<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

fn dead_link() -> Refusal {
    Refusal::invalid(
        "token",
        "This link is invalid, expired or already used. Sign up again.",
    )
}

/// Checks the sign-up and mails the confirmation link (after the request, so
/// that an address with an account takes the same time). Some(seconds) when
/// throttled.
pub async fn start(state: &AppState, form: SignUp<'_>, ip: &str) -> Result<Option<i64>, Refusal> {
    if !is_open(state) {
        return Err(Refusal::Conflict("sign-up is closed on this server".into()));
    }
    let username =
        users::normalize_username(form.username).map_err(|m| Refusal::invalid("username", m))?;
    let email = form.email.trim().to_string();
    super::users::check_email(&email)?;
    let domains = state
        .config
        .registration_domain_list()
        .map_err(|e| Refusal::invalid("email", e.to_string()))?;
    let domain = email.rsplit('@').next().unwrap_or_default().to_lowercase();
    if !domains.is_empty() && !domains.contains(&domain) {
        return Err(Refusal::invalid(
            "email",
            format!("sign-up takes addresses at {} only", domains.join(", ")),
        ));
    }
    super::users::check_password(form.password)?;
    let now = state.now();
    let keys = [
        format!("signup:{}", email.to_lowercase()),
        format!("ip:signup:{ip}"),
    ];
    let policy = state.config.throttle_policy();
    if let Some(wait) = throttle::count_request(&state.db, &policy, &keys, now).await? {
        return Ok(Some(wait));
    }
    // A username is public (it is how people sign in): saying it is taken tells
    // nothing an attempt to sign in would not.
    if users::find_by_username(&state.db, &username)
        .await?
        .is_some()
    {
        return Err(Refusal::invalid("username", "this username is taken"));
    }
    let password_hash = super::users::hash_new_password(&state.passwords, form.password).await?;
    let (state, ip) = (state.clone(), ip.to_string());
    tokio::spawn(async move {
        if let Err(err) = mail(&state, username, email, password_hash, &ip).await {
            tracing::warn!(error = %err, "sign-up mail failed");
        }
    });
    Ok(None)
}

async fn mail(
    state: &AppState,
    username: String,
    email: String,
    password_hash: String,
    ip: &str,
) -> Result<(), Refusal> {
    let now = state.now();
    let event = |kind, user_id, detail| Event {
        actor: None,
        kind,
        user_id,
        client_id: None,
        ip: Some(ip),
        detail,
    };
    let quota = format!("quota:signup:{}", email.to_lowercase());
    if !throttle::take_quota(&state.db, &quota, MAILS_PER_HOUR, 3600, now).await? {
        let detail = Some("too many sign-up mails to this address in the last hour");
        audit::record(&state.db, event("signup_refused", None, detail), now).await?;
        return Ok(());
    }
    let existing = users::find_by_email(&state.db, &email, 1).await?;
    let content = match existing.first() {
        Some(owner) => {
            let detail = Some("the address has an account; its owner was told");
            let id = Some(owner.id.as_str());
            audit::record(&state.db, event("signup_refused", id, detail), now).await?;
            messages::signup_existing(&owner.username, format!("{}/login/forgot", state.issuer()))
        }
        None => {
            let token = random_token();
            registrations::create(
                &state.db,
                Registration {
                    token_hash: hash_token(&token),
                    username: username.clone(),
                    email: email.clone(),
                    password_hash,
                    created_at: now,
                    expires_at: now + TTL,
                },
            )
            .await?;
            let link = format!("{}/signup/confirm?token={token}", state.issuer());
            audit::record(&state.db, event("signup_started", None, Some(&email)), now).await?;
            messages::signup_confirm(&username, link, TTL / 3600)
        }
    };
    state.mailer.send(Outgoing {
        to: email,
        user_id: existing.first().map(|u| u.id.clone()),
        content,
    });
    Ok(())
}

/// The sign-up a link is for, while it works (the confirmation page).
pub async fn pending(state: &AppState, token: &str) -> Result<Registration, Refusal> {
    registrations::peek(&state.db, &hash_token(token), state.now())
        .await?
        .ok_or_else(dead_link)
}

/// Creates the account the link confirms, its address verified.
pub async fn confirm(state: &AppState, token: &str, ip: &str) -> Result<User, Refusal> {
    let now = state.now();
    let txn = state.db.begin().await?;
    let signup = registrations::take(&txn, &hash_token(token), now)
        .await?
        .ok_or_else(dead_link)?;
    let user = users::create(
        &txn,
        NewUser {
            username: signup.username.clone(),
            email: Some(signup.email.clone()),
            name: None,
            phone_number: None,
            address: None,
            password_hash: Some(signup.password_hash),
        },
        now,
    )
    .await
    .map_err(|e| match e {
        crate::store::StoreError::Conflict(_) => Refusal::invalid(
            "username",
            format!(
                "the username '{}' was taken meanwhile: sign up again with another",
                signup.username
            ),
        ),
        other => other.into(),
    })?;
    users::set_email_verified(&txn, &user.id, &signup.email, now).await?;
    txn.commit().await?;
    let event = Event {
        actor: None,
        kind: "user_registered",
        user_id: Some(&user.id),
        client_id: None,
        ip: Some(ip),
        detail: None,
    };
    audit::record(&state.db, event, now).await?;
    Ok(user)
}
