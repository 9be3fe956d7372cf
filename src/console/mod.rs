//! The admin console (`/admin`): server-rendered pages on the domain operations
//! the admin API and the command line use. Members of the admin group only, signed
//! in with two factors (see `admin::Admin`). Every form carries the CSRF token;
//! destructive actions ask for confirmation first; every change is audited with the
//! admin as actor. Post/Redirect/Get: an action redirects to a page with a fixed
//! `?notice=` key, never with text from the request.

pub mod admin;
pub mod applications;
pub mod audit;
pub mod groups;
pub mod keys;
pub mod overview;
pub mod users;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::domain::Refusal;
use crate::error::Error;
use crate::state::AppState;
use crate::web::page::render_page;

pub use admin::Admin;

/// What every console page shows around its content.
pub struct Chrome {
    pub admin: String,
    pub csrf: String,
    /// The section of the navigation this page belongs to.
    pub section: &'static str,
    pub notice: Option<&'static str>,
}

impl Chrome {
    pub fn sections(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &SECTIONS
    }
}

/// The navigation, in order: (section, path, label).
pub const SECTIONS: [(&str, &str, &str); 6] = [
    ("overview", "/admin", "Overview"),
    ("users", "/admin/users", "Users"),
    ("groups", "/admin/groups", "Groups"),
    ("applications", "/admin/applications", "Applications"),
    ("audit", "/admin/audit", "Audit log"),
    ("keys", "/admin/keys", "Signing keys"),
];

/// `?notice=` keys and what they say; anything else says nothing.
pub fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "Created.",
        "invited" => "An invitation was mailed.",
        "saved" => "Saved.",
        "removed" => "Removed.",
        "disabled" => "The user is disabled and signed out everywhere.",
        "enabled" => "The user is enabled again.",
        "mfa-reset" => "The user's second factors and recovery codes are removed.",
        "password-set" => "The password is set. The user's sessions were ended.",
        "session-ended" => "The session is ended.",
        "passkey-removed" => "The passkey is removed.",
        "member-added" => "The member is added.",
        "member-removed" => "The member is removed.",
        "keys-rotated" => "The signing keys are rotated.",
        _ => return None,
    })
}

/// The query every console page may carry.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: String,
}

impl NoticeQuery {
    pub fn text(&self) -> Option<&'static str> {
        notice_text(&self.notice)
    }
}

/// A page of the console: its chrome and content.
pub fn render(admin: &Admin, page: &impl Template) -> Response {
    render_status(admin, StatusCode::OK, page)
}

pub fn render_status(admin: &Admin, status: StatusCode, page: &impl Template) -> Response {
    admin.with_csrf_cookie(render_page(status, page))
}

/// After an action: back to `path`, telling what was done.
pub fn done(path: &str, notice: &'static str) -> Response {
    debug_assert!(notice_text(notice).is_some());
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}notice={notice}")).into_response()
}

/// The step before a destructive action: what will happen, and the same form again
/// with `confirmed=yes`.
#[derive(Template)]
#[template(path = "console/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub title: String,
    pub consequence: String,
    pub action: String,
    /// The form's other fields, posted again.
    pub fields: Vec<(String, String)>,
    pub button: String,
    pub cancel: String,
}

/// What a console action form posts: the CSRF token, `confirmed=yes` once the
/// confirmation step was passed, and the one value naming what is acted on.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub confirmed: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default)]
    pub passkey_id: String,
    /// A group's id.
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub username: String,
}

/// A destructive form: posted once without `confirmed`, it asks first.
pub fn confirmed(value: &str) -> bool {
    value == "yes"
}

/// Why an action was not done, shown in the console.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    pub back: String,
}

/// A console action that did not happen: a refusal the admin can act on (shown in
/// the console with its status), or any other error (the one error page).
pub enum Failure {
    Refused(Refusal),
    Other(Error),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Store(err) => Failure::Other(err.into()),
            other => Failure::Refused(other),
        }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Other(err)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(err: crate::store::StoreError) -> Self {
        Refusal::from(err).into()
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Failure::Other(Error::Internal(err))
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Failure::Other(err.into())
    }
}

pub type Outcome = Result<Response, Failure>;

/// Renders a failure of an action taken from `back`.
pub fn failed(admin: &Admin, back: &str, failure: Failure) -> Response {
    let refusal = match failure {
        Failure::Other(err) => return err.on_page().into_response(),
        Failure::Refused(refusal) => refusal,
    };
    let (status, title) = match &refusal {
        Refusal::Invalid { .. } => (StatusCode::BAD_REQUEST, "Not saved"),
        Refusal::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        Refusal::Conflict(_) => (StatusCode::CONFLICT, "Not done"),
        Refusal::Stale(_) => (StatusCode::PRECONDITION_FAILED, "Changed meanwhile"),
        Refusal::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Not done"),
    };
    let page = MessagePage {
        chrome: admin.chrome("", None),
        title: title.into(),
        message: refusal.to_string(),
        back: back.to_string(),
    };
    render_status(admin, status, &page)
}

/// Form text: trimmed, and None when empty.
pub fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// A checkbox: present (any value) means on.
pub fn checked(value: &Option<String>) -> bool {
    value.is_some()
}

/// One value a line (textareas of URIs).
pub fn lines(value: &str) -> Vec<String> {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Values separated by spaces or commas (scopes, group names).
pub fn words(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview::show))
        .route("/admin/", get(|| async { Redirect::permanent("/admin") }))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/{id}", get(users::show).post(users::update))
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/users/{id}/reset-mfa", post(users::reset_mfa))
        .route("/admin/users/{id}/password", post(users::set_password))
        .route("/admin/users/{id}/invite", post(users::invite))
        .route("/admin/users/{id}/sessions/end", post(users::end_session))
        .route(
            "/admin/users/{id}/passkeys/remove",
            post(users::remove_passkey),
        )
        .route("/admin/users/{id}/groups/add", post(users::add_group))
        .route("/admin/users/{id}/groups/remove", post(users::remove_group))
        .route("/admin/users/{id}/delete", post(users::delete))
        .route("/admin/groups", get(groups::list).post(groups::create))
        .route("/admin/groups/{id}", get(groups::show).post(groups::update))
        .route("/admin/groups/{id}/members/add", post(groups::add_member))
        .route(
            "/admin/groups/{id}/members/remove",
            post(groups::remove_member),
        )
        .route("/admin/groups/{id}/delete", post(groups::delete))
        .route(
            "/admin/applications",
            get(applications::list).post(applications::create),
        )
        .route("/admin/applications/new", get(applications::new_form))
        .route(
            "/admin/applications/{id}",
            get(applications::show).post(applications::update),
        )
        .route(
            "/admin/applications/{id}/rotate-secret",
            post(applications::rotate_secret),
        )
        .route(
            "/admin/applications/{id}/delete",
            post(applications::delete),
        )
        .route("/admin/audit", get(audit::list))
        .route("/admin/keys", get(keys::list))
        .route("/admin/keys/rotate", post(keys::rotate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values() {
        assert_eq!(optional("  "), None);
        assert_eq!(optional(" a "), Some("a".into()));
        assert_eq!(lines("a\r\n\r\n b \n"), vec!["a", "b"]);
        assert_eq!(
            words("openid, profile  email"),
            vec!["openid", "profile", "email"]
        );
        assert!(confirmed("yes"));
        assert!(!confirmed("") && !confirmed("YES "));
    }

    #[test]
    fn notices_are_fixed_texts() {
        assert_eq!(notice_text("saved"), Some("Saved."));
        assert_eq!(notice_text("<script>"), None);
        assert_eq!(notice_text(""), None);
    }
}
