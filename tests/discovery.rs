//! Discovery and JWKS: exact issuer, required members, only what works, no private key parts.

mod common;

use common::*;

#[tokio::test]
async fn discovery_document_is_complete_and_exact() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["issuer"], server.base);
    for member in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "code_challenge_methods_supported",
        "token_endpoint_auth_methods_supported",
        "scopes_supported",
        "claims_supported",
        "grant_types_supported",
        "authorization_response_iss_parameter_supported",
    ] {
        assert!(doc.get(member).is_some(), "missing {member}");
    }
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // Every advertised endpoint answers on this server.
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        let url = doc[endpoint].as_str().unwrap();
        assert!(url.starts_with(&server.base), "{endpoint}: {url}");
        let status = reqwest::get(url).await.unwrap().status();
        assert_ne!(status, 404, "{endpoint}");
    }
}

#[tokio::test]
async fn jwks_publishes_the_public_es256_key_only() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/jwks")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert_eq!(key["use"], "sig");
    assert!(key["kid"].is_string());
    assert!(key.get("d").is_none(), "no private member");

    // The key is stored: a restart on the same database publishes the same key.
    let kid = key["kid"].clone();
    let db = server.db.clone();
    drop(server);
    let again = TestServer::start_on(db).await;
    let jwks: serde_json::Value = reqwest::get(again.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], kid);
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/nope")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}
