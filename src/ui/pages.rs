//! The askama page models and the one function that renders them.

use askama::Template;

pub use crate::web::page::{render_page, ErrorPage, FormPostPage};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub client_name: String,
    pub request_id: String,
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
}

/// One line of the consent page: a scope and what it lets the application see.
pub struct ScopeLine {
    pub name: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub client_name: String,
    pub request_id: String,
    pub csrf: String,
    pub username: String,
    pub scopes: Vec<ScopeLine>,
}

#[derive(Template)]
#[template(path = "mfa.html")]
pub struct MfaPage {
    pub client_name: String,
    pub request_id: String,
    pub csrf: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "enroll.html")]
pub struct EnrollPage {
    /// Where the form posts: the login flow's or the account page's enrollment.
    pub action: String,
    pub request_id: String,
    pub csrf: String,
    pub qr_svg_base64: String,
    pub secret_text: String,
    /// The new secret sealed with the master key: kept by the browser until confirmed.
    pub sealed_secret: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub continue_to: String,
}

pub struct SessionLine {
    pub id: String,
    /// Where the session was started from ("" when not recorded).
    pub ip: String,
    pub signed_in: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub username: String,
    pub csrf: String,
    pub sessions: Vec<SessionLine>,
    pub totp_enabled: bool,
    /// The user's policy requires a second factor: it cannot be turned off.
    pub mfa_required: bool,
    pub recovery_remaining: u64,
    pub notice: Option<String>,
    pub password_error: Option<String>,
}

/// 429: too many failed attempts; how long to wait, and the way back.
#[derive(Template)]
#[template(path = "locked.html")]
pub struct LockedPage {
    pub wait: String,
    pub back: String,
}

/// "Confirm it's you" before a change to how the account signs in.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub username: String,
    pub csrf: String,
    pub needs_code: bool,
    pub minutes: i64,
    pub error: Option<String>,
}

/// RP-Initiated Logout: asked when the request does not prove which client sent it.
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage {
    pub username: String,
    /// The request named another account than the one signed in here.
    pub other_account: bool,
    pub client_name: Option<String>,
    pub csrf: String,
    pub client_id: String,
    pub post_logout_redirect_uri: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {}
