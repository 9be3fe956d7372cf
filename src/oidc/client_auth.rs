//! Client authentication at the token endpoint (RFC 6749 §2.3): client_secret_basic,
//! client_secret_post, and `none` for public clients.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::Arc;

use crate::auth_method::AuthMethod;
use crate::error::{Error, ErrorCode};
use crate::secrets::DigestMatch;
use crate::state::AppState;
use crate::store::clients::{self, Client};
use crate::web::params::Params;

/// The credentials a request presented, before they are checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub basic: bool,
}

impl Presented {
    /// The method this request used.
    pub fn method(&self) -> AuthMethod {
        match (self.basic, &self.secret) {
            (true, _) => AuthMethod::ClientSecretBasic,
            (false, Some(_)) => AuthMethod::ClientSecretPost,
            (false, None) => AuthMethod::None,
        }
    }
}

/// Reads the credentials; RFC 6749 §2.3: a client uses one method per request.
pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, Error> {
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().unwrap_or_default();
            match value.split_once(' ') {
                Some((scheme, creds)) if scheme.eq_ignore_ascii_case("basic") => Some(
                    decode_basic(creds.trim()).ok_or_else(|| Error::InvalidClient {
                        description: "malformed Basic credentials".into(),
                        basic: true,
                    })?,
                ),
                _ => None,
            }
        }
        None => None,
    };
    match basic {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(Error::json(
                    ErrorCode::InvalidRequest,
                    "use one client authentication method, not Basic and client_secret together",
                ));
            }
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(Error::InvalidClient {
                    description: "client_id does not match the Basic credentials".into(),
                    basic: true,
                });
            }
            Ok(Presented {
                client_id: id,
                secret: Some(secret),
                basic: true,
            })
        }
        None => match params.get("client_id") {
            Some(id) => Ok(Presented {
                client_id: id.to_string(),
                secret: params.get("client_secret").map(str::to_string),
                basic: false,
            }),
            None => Err(Error::InvalidClient {
                description: "client authentication is required".into(),
                basic: false,
            }),
        },
    }
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let raw = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    Some((id, decode(secret).unwrap_or_default()))
}

/// Authenticates the client; every failure is `invalid_client` (401).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Arc<Client>, Error> {
    let presented = presented(headers, params)?;
    let fail = |description: &str| Error::InvalidClient {
        description: description.into(),
        basic: presented.basic,
    };
    if !clients::is_valid_client_id(&presented.client_id) {
        return Err(fail("unknown client or wrong credentials"));
    }
    let client = state
        .clients
        .find(&state.db, &presented.client_id)
        .await?
        .ok_or_else(|| fail("unknown client or wrong credentials"))?;
    // RFC 6749 §2.3: the server checks the method the client registered
    // (OIDC Registration §2 token_endpoint_auth_method); any other is invalid_client.
    let registered = client.token_endpoint_auth_method;
    if !registered.accepts(presented.method()) {
        return Err(fail(&match registered {
            AuthMethod::None => "a public client has no secret".to_string(),
            other => format!("this client must authenticate with {other}"),
        }));
    }
    match (&client.secret_hash, &presented.secret) {
        (Some(stored), Some(secret)) => {
            let key = state.keys.client_secrets();
            match key.check(stored, secret) {
                DigestMatch::Keyed => Ok(client),
                DigestMatch::Legacy => {
                    // Stored before keyed digests: upgraded now, on every node's next read.
                    let upgraded = key.digest(secret);
                    clients::upgrade_secret_hash(&state.db, &client.client_id, stored, &upgraded)
                        .await?;
                    state.clients.forget(&client.client_id);
                    Ok(client)
                }
                DigestMatch::No => {
                    // Within the overlap after a rotation the previous secret works too.
                    let previous =
                        clients::previous_secret_hash(&state.db, &client.client_id, state.now())
                            .await?;
                    match previous.map(|p| key.check(&p, secret)) {
                        Some(DigestMatch::Keyed | DigestMatch::Legacy) => Ok(client),
                        _ => Err(fail("unknown client or wrong credentials")),
                    }
                }
            }
        }
        (None, None) => Ok(client),
        // A registration whose method and secret disagree (not written by this code).
        _ => Err(fail("unknown client or wrong credentials")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn basic(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = STANDARD.encode("my%20app:s%3Acret");
        let p = presented(&basic(&format!("Basic {encoded}")), &Params::default()).unwrap();
        assert_eq!(p.client_id, "my app");
        assert_eq!(p.secret.as_deref(), Some("s:cret"));
        assert!(p.basic);
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let encoded = STANDARD.encode("app:secret");
        let params = Params::parse(b"client_secret=secret");
        let err = presented(&basic(&format!("Basic {encoded}")), &params).unwrap_err();
        assert!(matches!(err, Error::Json(e) if e.code == ErrorCode::InvalidRequest));
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        let err = presented(&basic("Basic !!!"), &Params::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidClient { basic: true, .. }));
    }

    #[test]
    fn public_client_presents_only_its_id() {
        let p = presented(&HeaderMap::new(), &Params::parse(b"client_id=spa")).unwrap();
        assert_eq!(p.secret, None);
        assert!(!p.basic);
    }
}
