//! /admin/users: find, create and edit users; their standing, second factors,
//! password, sessions and groups.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{
    checked, confirmed, done, failed, optional, render, ActionForm, Admin, Chrome, ConfirmPage,
    Failure, NoticeQuery, Outcome,
};
use crate::auth::mfa::{self, Factors, MfaPolicy};
use crate::domain::users::{self as rules, Changes, NewAccount};
use crate::domain::Refusal;
use crate::domain::{backchannel, groups as group_rules, passkeys, sessions as session_rules};
use crate::state::AppState;
use crate::store::groups::{self, Group};
use crate::store::users::{self, User};
use crate::store::{recovery_codes, sessions};
use crate::web::page::display_time;

const PAGE_SIZE: u64 = 50;

fn user_path(user: &User) -> String {
    format!("/admin/users/{}", user.id)
}

async fn find(state: &AppState, id: &str) -> Result<User, Failure> {
    users::find(&state.db, id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no user '{id}'")).into())
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// The last username of the previous page.
    #[serde(default)]
    after: String,
    #[serde(default)]
    notice: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub q: String,
    pub users: Vec<User>,
    /// The query of the next page.
    pub next: Option<String>,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    let outcome: Outcome = async {
        let after = optional(&q.after);
        let (found, more) = users::page(&state.db, Some(&q.q), after.as_deref(), PAGE_SIZE).await?;
        let next = more.then(|| found.last()).flatten().map(|u| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &q.q)
                .append_pair("after", &u.username)
                .finish()
        });
        let page = UsersPage {
            chrome: admin.chrome("users", super::notice_text(&q.notice)),
            q: q.q.clone(),
            users: found,
            next,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin", f))
}

#[derive(Template)]
#[template(path = "console/user_new.html")]
pub struct NewUserPage {
    pub chrome: Chrome,
    /// Mail is set up: the user may be invited instead of given a password.
    pub can_invite: bool,
}

pub async fn new_form(admin: Admin, State(state): State<AppState>) -> Response {
    render(
        &admin,
        &NewUserPage {
            chrome: admin.chrome("users", None),
            can_invite: state.mailer.enabled(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// "yes": mail an invitation instead of setting a password.
    #[serde(default)]
    invite: String,
}

/// A password an administrator sets: the rule of every password, then the hash.
async fn hashed(state: &AppState, password: &str) -> Result<String, Failure> {
    Ok(rules::hash_new_password(&state.passwords, password).await?)
}

pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Form(form): Form<NewUserForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let invite = form.invite == "yes";
        if invite && optional(&form.password).is_some() {
            return Err(Refusal::invalid(
                "password",
                "an invited user chooses their own password: leave it empty",
            )
            .into());
        }
        if invite && optional(&form.email).is_none() {
            return Err(Refusal::invalid("email", "an invitation needs an email address").into());
        }
        let password_hash = match optional(&form.password) {
            Some(_) => Some(hashed(&state, &form.password).await?),
            None => None,
        };
        let user = rules::create(
            &state.db,
            NewAccount {
                username: form.username.clone(),
                email: optional(&form.email),
                name: optional(&form.name),
                phone_number: None,
                address: None,
                password_hash,
            },
            state.now(),
        )
        .await?;
        let detail = format!("user {}", user.username);
        admin
            .audit(&state, "user_created", Some(&user.id), None, &detail)
            .await?;
        if invite {
            crate::domain::email::send_invitation(&state, &user).await?;
            let detail = format!("invitation mailed to user {}", user.username);
            admin
                .audit(&state, "invitation_sent", Some(&user.id), None, &detail)
                .await?;
            return Ok(done(&user_path(&user), "invited"));
        }
        Ok(done(&user_path(&user), "created"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/users/new", f))
}

pub struct SessionLine {
    pub id: String,
    pub signed_in: String,
    pub last_seen: String,
    /// "Chrome on Linux", when the browser said.
    pub device: String,
    pub ip: String,
    pub methods: String,
    pub current: bool,
}

pub struct PasskeyLine {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
pub struct UserPage {
    pub chrome: Chrome,
    pub user: User,
    pub created: String,
    /// "" (the default), optional or required.
    pub policy: String,
    pub default_policy: &'static str,
    pub totp: bool,
    pub passkeys: Vec<PasskeyLine>,
    pub recovery_codes: u64,
    pub sessions: Vec<SessionLine>,
    pub groups: Vec<Group>,
    /// Groups the user is not in, to add.
    pub other_groups: Vec<Group>,
    /// The admin's own account: not disabled or removed from here.
    pub is_self: bool,
    /// No password yet, an address, and mail set up: an invitation can be sent.
    pub can_invite: bool,
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let user = find(&state, &id).await?;
        let factors = Factors::of(&state.db, &user).await?;
        let passkeys = passkeys::list(&state, &user)
            .await?
            .into_iter()
            .map(|p| PasskeyLine {
                created: display_time(p.created_at),
                last_used: p.last_used_at.map(display_time).unwrap_or_default(),
                id: p.id,
                name: p.name,
            })
            .collect();
        let sessions = sessions::list_active(&state.db, &user.id, state.now())
            .await?
            .into_iter()
            .map(|s| SessionLine {
                signed_in: display_time(s.auth_time),
                last_seen: display_time(s.last_seen_at),
                device: crate::web::user_agent::describe(s.user_agent.as_deref())
                    .unwrap_or_default(),
                ip: s.ip.clone().unwrap_or_default(),
                methods: crate::store::from_json_list(&s.amr).join(", "),
                current: s.id == admin.session.id,
                id: s.id,
            })
            .collect();
        let mine = groups::of_user(&state.db, &user.id).await?;
        let other_groups = groups::list(&state.db)
            .await?
            .into_iter()
            .filter(|g| !mine.iter().any(|m| m.id == g.id))
            .collect();
        let page = UserPage {
            chrome: admin.chrome("users", q.text()),
            created: display_time(user.created_at),
            policy: user.mfa_policy.clone().unwrap_or_default(),
            default_policy: state.config.mfa_policy.as_str(),
            totp: factors.totp,
            passkeys,
            recovery_codes: recovery_codes::remaining(&state.db, &user.id).await?,
            sessions,
            groups: mine,
            other_groups,
            is_self: user.id == admin.user.id,
            can_invite: state.mailer.enabled()
                && user.password_hash.is_none()
                && user.email.is_some()
                && !user.disabled,
            user,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/users", f))
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    /// The user's `updated_at` when the form was shown.
    #[serde(default)]
    version: i64,
    #[serde(default)]
    email: String,
    email_verified: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone_number: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    mfa_policy: String,
}

pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Response {
    let back = format!("/admin/users/{id}");
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        let mfa_policy = match form.mfa_policy.as_str() {
            "" => None,
            name => Some(MfaPolicy::parse(name).ok_or_else(|| {
                Refusal::invalid(
                    "mfa_policy",
                    format!("'{name}' is not optional or required"),
                )
            })?),
        };
        let changes = Changes {
            email: Some(optional(&form.email)),
            email_verified: Some(checked(&form.email_verified)),
            name: Some(optional(&form.name)),
            phone_number: Some(optional(&form.phone_number)),
            address: Some(optional(&form.address)),
            mfa_policy: Some(mfa_policy),
            disabled: None,
        };
        // What changed, by field name only: values may be personal data.
        let changed: Vec<&str> = [
            ("email", changes.email != Some(user.email.clone())),
            (
                "email_verified",
                changes.email_verified != Some(user.email_verified),
            ),
            ("name", changes.name != Some(user.name.clone())),
            (
                "phone_number",
                changes.phone_number != Some(user.phone_number.clone()),
            ),
            ("address", changes.address != Some(user.address.clone())),
            (
                "mfa_policy",
                mfa_policy.map(MfaPolicy::as_str) != user.mfa_policy.as_deref(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect();
        // The change applies to the user as the form showed them: a change made
        // meanwhile is not overwritten (412).
        let mut read = user.clone();
        read.updated_at = form.version;
        let (updated, notices) = rules::update(&state.db, &read, changes, state.now()).await?;
        backchannel::notify(&state, notices);
        let detail = format!(
            "user {}: {}",
            updated.username,
            if changed.is_empty() {
                "nothing".to_string()
            } else {
                changed.join(", ")
            }
        );
        admin
            .audit(&state, "user_updated", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&updated), "saved"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &back, f))
}

fn ask(
    admin: &Admin,
    user: &User,
    what: (&str, &str),
    consequence: String,
    fields: Vec<(String, String)>,
    button: &str,
) -> Response {
    let (action, title) = what;
    render(
        admin,
        &ConfirmPage {
            chrome: admin.chrome("users", None),
            title: title.to_string(),
            consequence,
            action: format!("{}/{action}", user_path(user)),
            fields,
            button: button.to_string(),
            cancel: user_path(user),
        },
    )
}

fn not_yourself(admin: &Admin, user: &User, what: &str) -> Result<(), Failure> {
    if admin.user.id == user.id {
        return Err(Refusal::Conflict(format!(
            "you cannot {what} your own account here: another administrator can"
        ))
        .into());
    }
    Ok(())
}

async fn set_disabled(
    admin: &Admin,
    state: &AppState,
    id: &str,
    form: &ActionForm,
    disabled: bool,
) -> Outcome {
    admin.check_csrf(state, &form.csrf)?;
    let user = find(state, id).await?;
    if disabled {
        not_yourself(admin, &user, "disable")?;
        if !confirmed(&form.confirmed) {
            return Ok(ask(
                admin,
                &user,
                ("disable", &format!("Disable {}?", user.username)),
                format!(
                    "{} will be signed out everywhere, every token issued to them stops \
                     working, and they cannot sign in until enabled again.",
                    user.username
                ),
                vec![],
                "Disable",
            ));
        }
    }
    let (updated, notices) = rules::update(
        &state.db,
        &user,
        Changes {
            disabled: Some(disabled),
            ..Changes::default()
        },
        state.now(),
    )
    .await?;
    backchannel::notify(state, notices);
    let detail = format!(
        "user {}: {}",
        updated.username,
        if disabled { "disabled" } else { "enabled" }
    );
    admin
        .audit(state, "user_updated", Some(&user.id), None, &detail)
        .await?;
    Ok(done(
        &user_path(&updated),
        if disabled { "disabled" } else { "enabled" },
    ))
}

pub async fn disable(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome = set_disabled(&admin, &state, &id, &form, true).await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn enable(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome = set_disabled(&admin, &state, &id, &form, false).await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn reset_mfa(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        if !confirmed(&form.confirmed) {
            let required = mfa::required_by_policy(&user, state.config.mfa_policy);
            return Ok(ask(
                &admin,
                &user,
                ("reset-mfa", &format!("Reset the second factors of {}?", user.username)),
                format!(
                    "The authenticator app, every passkey and the recovery codes of {} are \
                     removed.{}",
                    user.username,
                    if required {
                        " Their policy requires a second factor: they set up a new one at their next sign-in."
                    } else {
                        ""
                    }
                ),
                vec![],
                "Reset second factors",
            ));
        }
        rules::reset_mfa(&state.db, &user, state.now()).await?;
        let detail = format!("second factor of user {} removed", user.username);
        admin
            .audit(&state, "mfa_reset", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&user), "mfa-reset"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

/// Mails the user a new invitation (earlier ones stop working).
pub async fn invite(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        crate::domain::email::send_invitation(&state, &user).await?;
        let detail = format!("invitation mailed to user {}", user.username);
        admin
            .audit(&state, "invitation_sent", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&user), "invited"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        let hash = hashed(&state, &form.password).await?;
        let notices = rules::set_password(&state.db, &user, &hash, state.now()).await?;
        backchannel::notify(&state, notices);
        let detail = format!("password of user {} set", user.username);
        admin
            .audit(&state, "password_set", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&user), "password-set"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn end_session(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        if !confirmed(&form.confirmed) {
            return Ok(ask(
                &admin,
                &user,
                ("sessions/end", "End this session?"),
                format!(
                    "The browser of this session is signed out of Gatehouse, and the \
                     applications {} signed in to through it are told (back-channel logout). \
                     Offline refresh tokens keep working.",
                    user.username
                ),
                vec![("session_id".into(), form.session_id.clone())],
                "End session",
            ));
        }
        if !session_rules::end_session(&state, &user.id, &form.session_id).await? {
            return Err(Refusal::not_found("no such live session of this user").into());
        }
        let detail = format!(
            "session {} of user {} ended",
            form.session_id, user.username
        );
        admin
            .audit(&state, "session_ended", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&user), "session-ended"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn remove_passkey(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        if !confirmed(&form.confirmed) {
            return Ok(ask(
                &admin,
                &user,
                ("passkeys/remove", "Remove this passkey?"),
                format!("{} can no longer sign in with this passkey.", user.username),
                vec![("passkey_id".into(), form.passkey_id.clone())],
                "Remove passkey",
            ));
        }
        passkeys::remove(&state, &user, &form.passkey_id).await?;
        let detail = format!(
            "passkey {} of user {} removed",
            form.passkey_id, user.username
        );
        admin
            .audit(&state, "passkey_removed", Some(&user.id), None, &detail)
            .await?;
        Ok(done(&user_path(&user), "passkey-removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn add_group(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        let group = group_rules::find_by_id(&state.db, &form.group)
            .await
            .map_err(|r| r.for_field("group"))?;
        if group_rules::add_member(&state.db, &group, &user, state.now()).await? {
            let detail = format!("user {} added to group {}", user.username, group.name);
            admin
                .audit(&state, "group_member_added", Some(&user.id), None, &detail)
                .await?;
        }
        Ok(done(&user_path(&user), "member-added"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn remove_group(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        let group = group_rules::find_by_id(&state.db, &form.group).await?;
        if !confirmed(&form.confirmed) {
            return Ok(ask(
                &admin,
                &user,
                (
                    "groups/remove",
                    &format!("Take {} out of {}?", user.username, group.name),
                ),
                format!(
                    "Applications that admit only members of {} refuse {}'s next sign-in \
                     and refresh.",
                    group.name, user.username
                ),
                vec![("group".into(), group.id.clone())],
                "Take out of group",
            ));
        }
        if group_rules::remove_member(&state.db, &group, &user).await? {
            let detail = format!("user {} removed from group {}", user.username, group.name);
            admin
                .audit(
                    &state,
                    "group_member_removed",
                    Some(&user.id),
                    None,
                    &detail,
                )
                .await?;
        }
        Ok(done(&user_path(&user), "member-removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let user = find(&state, &id).await?;
        not_yourself(&admin, &user, "delete")?;
        if !confirmed(&form.confirmed) {
            return Ok(ask(
                &admin,
                &user,
                ("delete", &format!("Delete {}?", user.username)),
                format!(
                    "{} is signed out everywhere and removed with their sessions, grants, \
                     consents, second factors and group memberships. This cannot be undone.",
                    user.username
                ),
                vec![],
                "Delete user",
            ));
        }
        let notices = rules::remove(&state.db, &user, state.now()).await?;
        backchannel::notify(&state, notices);
        let detail = format!("user {}", user.username);
        admin
            .audit(&state, "user_removed", Some(&user.id), None, &detail)
            .await?;
        Ok(done("/admin/users", "removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/users/{id}"), f))
}
