//! `GET /`: what this server is, and the way to the account page (not a 404).

use axum::http::StatusCode;
use axum::response::Response;

use crate::ui::pages::{render_page, HomePage};

pub async fn show() -> Response {
    render_page(StatusCode::OK, &HomePage {})
}
