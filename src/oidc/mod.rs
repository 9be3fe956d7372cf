//! The OAuth 2.0 / OpenID Connect protocol: one module per endpoint, one per grant.

pub mod access_token;
pub mod authorize;
pub mod claims_request;
pub mod client_auth;
pub mod discovery;
pub mod form;
pub mod grants;
pub mod id_token_hint;
pub mod introspect;
pub mod jwks;
pub mod pkce;
pub mod revoke;
pub mod scopes;
pub mod token;
pub mod tokens;
pub mod userinfo;
