//! The pages people see: login (password or passkey), the second step, consent,
//! the account page, plus static assets.

pub mod account;
pub mod consent;
pub mod forgot_password;
pub mod home;
pub mod login;
pub mod login_passkey;
pub mod logout;
pub mod mfa_step;
pub mod pages;
pub mod passkeys;
pub mod password_link;
pub mod signup;
pub mod static_files;
pub mod verify_email;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

pub async fn not_found() -> Response {
    Error::page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address.",
    )
    .into_response()
}
