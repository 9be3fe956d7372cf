//! Stylesheet, icon, the passkey script and the pages' script (copy buttons, show password), compiled into the binary so it runs from anywhere.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../static/gatehouse.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");
const PASSKEY_JS: &str = include_str!("../../static/passkey.js");
const PAGES_JS: &str = include_str!("../../static/pages.js");

pub async fn handle(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "gatehouse.css" => (CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        "passkey.js" => (PASSKEY_JS, "text/javascript; charset=utf-8"),
        "pages.js" => (PAGES_JS, "text/javascript; charset=utf-8"),
        _ => return super::not_found().await,
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}
