//! Rendering an askama page into a response, and the two pages the HTTP plumbing
//! itself needs: the error page (src/error.rs) and the form_post response.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// OAuth 2.0 Form Post Response Mode: the response as an auto-submitting form.
#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage {
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub script: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

/// Renders a page. Pages are never cached: they carry CSRF tokens and personal data.
pub fn render_page(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
        }
    }
}

/// A moment as pages show it: `2026-12-04 09:30 UTC` ("" if out of range).
pub fn display_time(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}
