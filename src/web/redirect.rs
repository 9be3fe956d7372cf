//! Redirects back to a client with parameters added to its redirect URI's query.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

/// 303 to `redirect_uri` with `pairs` appended, keeping any query the URI already has
/// (RFC 6749 §3.1.2). `None` if the URI does not parse (it was validated at registration).
pub fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> Option<Response> {
    let mut url = Url::parse(redirect_uri).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    let location = HeaderValue::from_str(url.as_str()).ok()?;
    Some((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}
