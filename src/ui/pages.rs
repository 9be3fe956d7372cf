//! The askama page models and the one function that renders them.

use askama::Template;

pub use crate::web::page::{render_page, ErrorPage, FormPostPage};

/// A form that runs a WebAuthn ceremony (static/passkey.js) and posts its answer.
/// Hidden until the script shows it: without JavaScript it cannot work.
pub struct PasskeyForm {
    pub action: String,
    /// `create` (register) or `get` (sign in, check).
    pub mode: &'static str,
    /// Also offered in the username field's autofill (conditional mediation).
    pub autofill: bool,
    pub request_id: String,
    pub ceremony: String,
    /// The options for `navigator.credentials`, JSON.
    pub options: String,
    pub button: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub client_name: String,
    pub request_id: String,
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
    pub passkey: Option<PasskeyForm>,
    /// "Forgot password?", when mail is set up.
    pub forgot: Option<String>,
    /// "Create an account", when sign-up is open.
    pub signup: bool,
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
    /// The user's passkeys, offered beside the code.
    pub passkey: Option<PasskeyForm>,
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
    /// A passkey instead, when the sign-in's enrollment offers one.
    pub passkey: Option<PasskeyForm>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub continue_to: String,
}

impl RecoveryCodesPage {
    /// The codes as a text file, for the Download link's data: URL.
    pub fn download(&self) -> String {
        let text: String = self.codes.iter().map(|c| format!("{c}\n")).collect();
        percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC).to_string()
    }
}

pub struct ApplicationLine {
    pub client_id: String,
    pub name: String,
    /// What it may see, in words.
    pub access: Vec<String>,
    pub since: String,
}

pub struct SessionLine {
    pub id: String,
    /// Where the session was started from ("" when not recorded).
    pub ip: String,
    pub signed_in: String,
    pub last_used: String,
    /// "Chrome on Linux", when the browser said.
    pub device: Option<String>,
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
    pub passkeys: Vec<PasskeyLine>,
    /// Whether any second factor is set up (recovery codes go with them).
    pub enrolled: bool,
    pub notice: Option<String>,
    pub password_error: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    /// Applications with access to the account.
    pub applications: Vec<ApplicationLine>,
    /// A verification link can be mailed (mail is set up, the address unconfirmed).
    pub can_verify: bool,
}

pub struct PasskeyLine {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    /// The last second factor of a user whose policy requires one.
    pub removable: bool,
}

/// Adding a passkey on the account page: its name, then the authenticator.
#[derive(Template)]
#[template(path = "passkey_new.html")]
pub struct PasskeyNewPage {
    pub csrf: String,
    pub name: String,
    pub error: Option<String>,
    pub passkey: PasskeyForm,
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
    /// The user's passkeys, in place of the code (or of both, when it verifies
    /// the user).
    pub passkey: Option<PasskeyForm>,
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

/// "Forgot password": the form, or (sent) the answer every name gets.
#[derive(Template)]
#[template(path = "forgot_password.html")]
pub struct ForgotPasswordPage {
    pub csrf: String,
    pub request_id: String,
    /// Where "Back to sign in" goes.
    pub back: String,
    pub sent: bool,
    pub minutes: i64,
}

/// A password link's page (reset or invitation): the password, or (done) the
/// way to sign in.
#[derive(Template)]
#[template(path = "password_link.html")]
pub struct PasswordLinkPage {
    pub action: &'static str,
    pub invitation: bool,
    pub csrf: String,
    pub token: String,
    pub username: String,
    pub error: Option<String>,
    pub done: bool,
}

/// A verification link's page: one button (a mail scanner's GET confirms
/// nothing), then the result.
#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmailPage {
    pub csrf: String,
    pub token: String,
    /// The address now confirmed.
    pub verified: Option<String>,
}

/// "Create an account" (open sign-up): the form, or (sent) "check your mail".
#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUpPage {
    pub csrf: String,
    pub username: String,
    pub email: String,
    pub error: Option<String>,
    /// The field at fault, for aria-invalid.
    pub field: &'static str,
    pub sent: bool,
    pub hours: i64,
}

/// A sign-up link's page: one button creates the account, then the result.
#[derive(Template)]
#[template(path = "signup_confirm.html")]
pub struct SignUpConfirmPage {
    pub csrf: String,
    pub token: String,
    pub username: String,
    pub email: String,
    pub created: bool,
}

/// `GET /`.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {}
