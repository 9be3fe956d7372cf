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
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "RS256"])
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
async fn jwks_publishes_public_keys_only() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/jwks")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    let jwks: serde_json::Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    // Per algorithm: the current key and its pre-published successor.
    assert_eq!(keys.len(), 4, "{jwks}");
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string());
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "no private member {private}");
        }
        match key["alg"].as_str().unwrap() {
            "ES256" => {
                assert_eq!(key["kty"], "EC");
                assert_eq!(key["crv"], "P-256");
            }
            "RS256" => assert_eq!(key["kty"], "RSA"),
            other => panic!("unexpected alg {other}"),
        }
    }

    // The keys are stored: a restart on the same database publishes the same keys.
    let kids: Vec<_> = keys.iter().map(|k| k["kid"].clone()).collect();
    let db = server.db.clone();
    drop(server);
    let again = TestServer::start_on(db).await;
    let jwks: serde_json::Value = reqwest::get(again.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again_kids: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(again_kids, kids);
}

#[tokio::test]
async fn unknown_paths_are_404_pages() {
    let server = TestServer::start().await;
    let response = reqwest::get(server.url("/nope")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}
