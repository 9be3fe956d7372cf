//! OpenID Provider metadata (OIDC Discovery §3). Only what works is advertised.

use crate::grant_type::GrantType;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::oidc::scopes;
use crate::state::AppState;

pub fn document(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "subject_types_supported": ["public"],
        // OIDC Discovery §3: RS256 must be offered; ES256 is the default.
        "id_token_signing_alg_values_supported": crate::keys::lifecycle::ALGS,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes::SUPPORTED,
        "claims_supported": scopes::CLAIMS_SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": crate::auth::mfa::ACR_VALUES,
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

pub async fn handle(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("cache-control", "public, max-age=300")],
        Json(document(state.issuer())),
    )
}
