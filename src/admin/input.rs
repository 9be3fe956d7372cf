//! What the admin API reads from a request besides the path: JSON bodies, the
//! If-Match precondition, and list cursors. Each failure is a problem naming the
//! field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Problem, ProblemKind};

/// A JSON body; a malformed one is a 400 naming the field, another media type 415.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(Problem::new(
                ProblemKind::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(ProblemKind::PayloadTooLarge, e.body_text())
            } else {
                Problem::invalid("body", e.body_text())
            }
        })?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { "body".into() } else { field };
            Problem::invalid(field, e.inner().to_string())
        })?;
        // One JSON value and nothing after it.
        deserializer
            .end()
            .map_err(|e| Problem::invalid("body", e.to_string()))?;
        Ok(JsonBody(value))
    }
}

/// Query parameters; an unknown or malformed one is a 400 naming it.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        let value = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let message = e.inner().to_string();
            // An unknown parameter is reported at the top: name it from the message.
            let field = if field == "." {
                message.split('`').nth(1).unwrap_or("query").to_string()
            } else {
                field
            };
            Problem::invalid(field, message)
        })?;
        Ok(QueryParams(value))
    }
}

/// For `#[serde(default, deserialize_with = "present")]`: a field that may be left
/// out (None: no change), null (Some(None): cleared) or given.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The names of the fields a change gave, for the audit log (never their values:
/// they may be personal data).
pub fn given_fields(fields: &[(&str, bool)]) -> String {
    fields
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entity tag of a resource as shown (RFC 9110 §8.8.3): a digest of its JSON.
pub fn etag_of(resource: &impl Serialize) -> String {
    let json = serde_json::to_vec(resource).unwrap_or_default();
    let digest = Sha256::digest(&json);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..12]))
}

/// RFC 9110 §13.1.1: an If-Match that names neither `*` nor the current tag fails.
pub fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), Problem> {
    // RFC 9110 §5.3: several field lines are one comma-separated list.
    let lines: Vec<&str> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|v| v.to_str().unwrap_or_default())
        .collect();
    if lines.is_empty() {
        return Ok(());
    }
    let matches = lines
        .iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(Problem::new(
            ProblemKind::PreconditionFailed,
            "the resource changed since it was read (If-Match does not match its ETag): read it again",
        ))
    }
}

pub fn etag_header(etag: &str) -> (header::HeaderName, HeaderValue) {
    (
        header::ETAG,
        HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
    )
}

/// The largest page, and the default.
pub const MAX_LIMIT: u64 = 200;
pub const DEFAULT_LIMIT: u64 = 50;

/// A page size from `?limit=`.
pub fn limit(asked: Option<u64>) -> Result<u64, Problem> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Problem::invalid(
            "limit",
            format!("limit is 1 to {MAX_LIMIT}"),
        )),
    }
}

/// Cursors are opaque to callers: the position after the last item shown.
pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<String>, Problem> {
    cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .ok_or_else(|| Problem::invalid("cursor", "the cursor is not one this API gave"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_tags() {
        let mut headers = HeaderMap::new();
        assert!(check_if_match(&headers, "\"a\"").is_ok());
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"b\", \"a\""));
        assert!(check_if_match(&headers, "\"a\"").is_ok());
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert!(check_if_match(&headers, "\"a\"").is_ok());
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"b\""));
        let err = check_if_match(&headers, "\"a\"").unwrap_err();
        assert_eq!(err.kind, ProblemKind::PreconditionFailed);
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let c = encode_cursor("alice");
        assert_eq!(decode_cursor(Some(&c)).unwrap().as_deref(), Some("alice"));
        assert!(decode_cursor(Some("!!")).is_err());
        assert_eq!(decode_cursor(None).unwrap(), None);
        assert!(limit(Some(0)).is_err() && limit(Some(201)).is_err());
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
    }
}
