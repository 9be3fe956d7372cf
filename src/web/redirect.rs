//! Redirects back to a client with parameters added to its redirect URI's query.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use url::Url;

use crate::web::page::{render_page, FormPostPage};

/// The one inline script Gatehouse serves, allowed by its hash in the page's CSP.
const AUTO_SUBMIT: &str = "document.forms[0].submit();";

/// How the authorization response travels back (OAuth 2.0 Multiple Response Types §2.1,
/// Form Post Response Mode §2).
pub fn respond(redirect_uri: &str, pairs: &[(&str, &str)], form_post: bool) -> Option<Response> {
    if form_post {
        Url::parse(redirect_uri).ok()?;
        Some(form_post_page(redirect_uri, pairs))
    } else {
        with_query(redirect_uri, pairs)
    }
}

/// An auto-submitting form to the client; a visible button works without JavaScript.
pub fn form_post_page(action: &str, pairs: &[(&str, &str)]) -> Response {
    let page = FormPostPage {
        action: action.to_string(),
        fields: pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        script: AUTO_SUBMIT,
    };
    let mut response = render_page(StatusCode::OK, &page);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(AUTO_SUBMIT));
    let csp = format!(
        "default-src 'none'; style-src 'self'; script-src 'sha256-{hash}'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

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
