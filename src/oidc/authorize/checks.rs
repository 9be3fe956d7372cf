//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) checked by a
//! pipeline of small checks, each returning the one error it detects.
//!
//! The first two checks decide whether the redirect URI can be trusted: until then
//! errors are shown as a page (RFC 6749 §4.1.2.1); after, they go back to the client.

use crate::grant_type::GrantType;
use axum::http::StatusCode;

use crate::error::{Error, ErrorCode, OAuthError};
use crate::oidc::{pkce, scopes};
use crate::redirect_uri;
use crate::store::authorization_requests::NewRequest;
use crate::store::clients::Client;
use crate::web::params::Params;

fn page(message: &str) -> Error {
    Error::page(StatusCode::BAD_REQUEST, "Invalid sign-in request", message)
}

/// The client_id, or a page error: without a client nothing can be redirected.
pub fn check_client_id(params: &Params) -> Result<&str, Error> {
    if params.first_duplicate() == Some("client_id") {
        return Err(page("The application sent client_id more than once."));
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("The application did not identify itself (client_id is missing)."))?;
    if !crate::store::clients::is_valid_client_id(client_id) {
        return Err(page("The application identifier (client_id) is not valid."));
    }
    Ok(client_id)
}

/// OIDC Core §3.1.2.1: redirect_uri is required and must exactly match a registered one.
pub fn check_redirect_uri<'a>(params: &'a Params, client: &Client) -> Result<&'a str, Error> {
    if params.first_duplicate() == Some("redirect_uri") {
        return Err(page("The application sent redirect_uri more than once."));
    }
    let uri = params.get("redirect_uri").ok_or_else(|| {
        page("The application did not say where to return (redirect_uri is missing).")
    })?;
    if !redirect_uri::matches_registered(uri, &client.redirect_uris) {
        // For the operator, who can see a typo; the person sees only the page.
        // Debug formatting quotes and escapes what the request sent.
        tracing::warn!(
            client_id = %client.client_id,
            redirect_uri = ?uri.chars().take(512).collect::<String>(),
            "redirect_uri matches no registered redirect URI of the client"
        );
        return Err(page(
            "The application asked to return to an address it has not registered.",
        ));
    }
    Ok(uri)
}

type Check = Result<(), OAuthError>;

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, description)
}

/// RFC 6749 §3.1: parameters must not be included more than once; none may carry
/// control characters or be absurdly long.
pub fn check_well_formed(params: &Params) -> Check {
    if let Some(name) = params.first_duplicate() {
        return Err(invalid_request(format!("parameter '{name}' is repeated")));
    }
    match params.first_malformed() {
        Some(name) => Err(invalid_request(format!(
            "parameter '{name}' is too long or has control characters"
        ))),
        None => Ok(()),
    }
}

/// OIDC Core §6: request objects are not supported (discovery says so).
pub fn check_no_request_object(params: &Params) -> Check {
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    Ok(())
}

/// Only the authorization code flow (RFC 9700 §2.1.2: no implicit or hybrid).
pub fn check_response_type(params: &Params) -> Check {
    match params.get("response_type") {
        None => Err(invalid_request("response_type is required")),
        Some("code") => Ok(()),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            format!("response_type '{other}' is not supported; use 'code'"),
        )),
    }
}

/// query, or form_post (OAuth 2.0 Form Post Response Mode).
pub fn check_response_mode(params: &Params) -> Check {
    match params.get("response_mode") {
        None | Some("query") | Some("form_post") => Ok(()),
        Some(other) => Err(invalid_request(format!(
            "response_mode '{other}' is not supported"
        ))),
    }
}

pub fn check_grant_allowed(client: &Client) -> Check {
    if client.allows_grant(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ))
    }
}

/// The scope to grant: `openid` is required; unknown values are ignored (OIDC Core
/// §3.1.2.1), and so is offline_access for a client that may not refresh (§11). The
/// admin API's scopes are kept only for a client registered for them (and granted
/// only to members of the admin group: `domain::groups::scope_for_user`).
pub fn check_scope(params: &Params, client: &Client) -> Result<String, OAuthError> {
    let requested = params.get("scope").unwrap_or_default();
    if !requested.split(' ').any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    let refresh = client.allows_grant(GrantType::RefreshToken);
    let admin = requested
        .split(' ')
        .filter(|s| crate::scope::is_admin(s) && client.allowed_scopes.iter().any(|a| a == s));
    let mut kept: Vec<&str> = scopes::filter_supported(requested)
        .into_iter()
        .filter(|s| *s != "offline_access" || refresh)
        .collect();
    for s in admin {
        if !kept.contains(&s) {
            kept.push(s);
        }
    }
    Ok(kept.join(" "))
}

/// PKCE is required of every client, with S256 only (RFC 9700 §2.1.1, RFC 7636 §4.4.1).
pub fn check_pkce(params: &Params) -> Result<String, OAuthError> {
    let challenge = params
        .get("code_challenge")
        .ok_or_else(|| invalid_request("code_challenge is required (PKCE with S256)"))?;
    match params.get("code_challenge_method") {
        Some("S256") => {}
        // RFC 7636 §4.3: a missing method means plain.
        None | Some("plain") => {
            return Err(invalid_request(
                "code_challenge_method must be S256; plain is not supported",
            ))
        }
        Some(other) => {
            return Err(invalid_request(format!(
                "code_challenge_method '{other}' is not supported; use S256"
            )))
        }
    }
    if !pkce::is_valid_s256_challenge(challenge) {
        return Err(invalid_request(
            "code_challenge is not a base64url SHA-256 value",
        ));
    }
    Ok(challenge.to_string())
}

/// OIDC Core §3.1.2.1: prompt is a space-separated set; `none` stands alone.
pub fn check_prompt(params: &Params) -> Result<Option<String>, OAuthError> {
    let Some(prompt) = params.get("prompt") else {
        return Ok(None);
    };
    let values: Vec<&str> = prompt.split(' ').filter(|v| !v.is_empty()).collect();
    if let Some(bad) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent"))
    {
        return Err(invalid_request(format!(
            "prompt value '{bad}' is not supported"
        )));
    }
    if values.contains(&"none") && values.len() > 1 {
        return Err(invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(Some(values.join(" ")))
}

/// max_age is a non-negative number of seconds.
pub fn check_max_age(params: &Params) -> Result<Option<i64>, OAuthError> {
    match params.get("max_age") {
        None => Ok(None),
        Some(raw) => raw
            .parse::<u32>()
            .map(|v| Some(i64::from(v)))
            .map_err(|_| invalid_request("max_age must be a non-negative integer")),
    }
}

/// OIDC Core §5.5: the claims parameter, when present, is well-formed JSON.
pub fn check_claims(params: &Params) -> Result<Option<String>, OAuthError> {
    params
        .get("claims")
        .map(|raw| crate::oidc::claims_request::parse(raw).map_err(invalid_request))
        .transpose()
}

/// Runs the checks that report to the (now trusted) redirect URI, in order.
pub fn validate(
    params: &Params,
    client: &Client,
    redirect_uri: &str,
) -> Result<NewRequest, OAuthError> {
    check_well_formed(params)?;
    check_no_request_object(params)?;
    check_response_type(params)?;
    check_response_mode(params)?;
    check_grant_allowed(client)?;
    let scope = check_scope(params, client)?;
    let code_challenge = check_pkce(params)?;
    let prompt = check_prompt(params)?;
    let max_age = check_max_age(params)?;
    let claims = check_claims(params)?;
    Ok(NewRequest {
        client_id: Some(client.client_id.clone()),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: params.get("state").map(str::to_string),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        login_hint: params.get("login_hint").map(str::to_string),
        acr_values: params.get("acr_values").map(str::to_string),
        response_mode: params.get("response_mode").map(str::to_string),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            secret_hash: None,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            allowed_scopes: vec![],
            backchannel_logout_uri: None,
            token_endpoint_auth_method: crate::auth_method::AuthMethod::None,
            id_token_signed_response_alg: "ES256".into(),
            skip_consent: false,
            created_at: 0,
            updated_at: 0,
            allowed_group_ids: vec![],
        }
    }

    fn params(extra: &str) -> Params {
        let base = format!(
            "client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&response_type=code\
             &scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        Params::parse(format!("{base}{extra}").as_bytes())
    }

    fn code_of(extra: &str) -> ErrorCode {
        validate(&params(extra), &client(), "https://app.example.com/cb")
            .unwrap_err()
            .code
    }

    #[test]
    fn a_good_request_passes() {
        let request = validate(
            &params("&state=xyz&nonce=n&foo=bar"),
            &client(),
            "https://app.example.com/cb",
        )
        .unwrap();
        assert_eq!(request.scope, "openid");
        assert_eq!(request.state.as_deref(), Some("xyz"));
        assert_eq!(request.nonce.as_deref(), Some("n"));
    }

    #[test]
    fn each_check_reports_its_error() {
        assert_eq!(code_of("&scope=email"), ErrorCode::InvalidRequest); // repeated
        assert_eq!(code_of("&state=a%00b"), ErrorCode::InvalidRequest);
        assert_eq!(code_of("&claims=%7Bnope"), ErrorCode::InvalidRequest);
        assert_eq!(code_of("&request=x"), ErrorCode::RequestNotSupported);
        assert_eq!(code_of("&request_uri=x"), ErrorCode::RequestUriNotSupported);
        assert_eq!(code_of("&prompt=bogus"), ErrorCode::InvalidRequest);
        assert_eq!(code_of("&prompt=none+login"), ErrorCode::InvalidRequest);
        assert_eq!(code_of("&max_age=-1"), ErrorCode::InvalidRequest);
        assert_eq!(
            code_of("&response_mode=fragment"),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn response_type_scope_and_pkce() {
        let p = |q: &str| Params::parse(q.as_bytes());
        assert_eq!(
            check_response_type(&p("")).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            check_response_type(&p("response_type=token"))
                .unwrap_err()
                .code,
            ErrorCode::UnsupportedResponseType
        );
        let c = client();
        assert_eq!(
            check_scope(&p("scope=email"), &c).unwrap_err().code,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            check_scope(&p("scope=openid+foo+email"), &c).unwrap(),
            "openid email"
        );
        // offline_access only for clients that may refresh (OIDC Core §11).
        assert_eq!(
            check_scope(&p("scope=openid+offline_access"), &c).unwrap(),
            "openid"
        );
        let mut refreshing = client();
        refreshing.grant_types.push("refresh_token".into());
        assert_eq!(
            check_scope(&p("scope=openid+offline_access"), &refreshing).unwrap(),
            "openid offline_access"
        );
        assert!(check_pkce(&p("")).is_err());
        assert!(check_pkce(&p(&format!("code_challenge={CHALLENGE}"))).is_err());
        assert!(check_pkce(&p(&format!(
            "code_challenge={CHALLENGE}&code_challenge_method=plain"
        )))
        .is_err());
        assert!(check_pkce(&p("code_challenge=short&code_challenge_method=S256")).is_err());
    }

    #[test]
    fn grant_type_must_be_allowed() {
        let mut c = client();
        c.grant_types = vec!["client_credentials".into()];
        assert_eq!(
            check_grant_allowed(&c).unwrap_err().code,
            ErrorCode::UnauthorizedClient
        );
    }

    #[test]
    fn untrusted_client_or_redirect_is_a_page() {
        assert!(matches!(
            check_client_id(&Params::parse(b"")),
            Err(Error::Page { .. })
        ));
        let wrong = Params::parse(b"redirect_uri=https%3A%2F%2Fevil.example%2Fcb");
        assert!(matches!(
            check_redirect_uri(&wrong, &client()),
            Err(Error::Page { .. })
        ));
    }
}
