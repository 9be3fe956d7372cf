//! The whole sign-in as a relying party sees it, with the `openidconnect` crate:
//! discovery → authorize → login form → consent → code exchange → ID token
//! verified against the JWKS → userinfo.

mod common;

use common::*;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn sign_in_with_openidconnect(public: bool, auth_type: AuthType) {
    let server = TestServer::start().await;
    let sub = server
        .add_user("alice", Some("alice@example.com"), Some("Alice Liddell"))
        .await;
    let mut registration = client("app", public, false, &["authorization_code"]);
    if matches!(auth_type, AuthType::RequestBody) && !public {
        registration.token_endpoint_auth_method = AuthMethod::ClientSecretPost;
    }
    server.register(&registration).await;
    let http = rp_http();

    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let secret = (!public).then(|| ClientSecret::new(SECRET.into()));
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("app".into()), secret)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
        .set_auth_type(auth_type);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&server);
    let (status, login_page) = browser.get(auth_url.as_str()).await.page();
    assert_eq!(status, 200);
    assert!(
        login_page.contains("app app"),
        "client name on the login page"
    );
    let (status, consent_page) = browser.login(&login_page, "alice", PASSWORD).await.page();
    assert_eq!(status, 200);
    assert!(consent_page.contains("email"));
    let back = browser.consent(&consent_page, "allow").await.redirect();
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(server.base.as_str()),
        "RFC 9207 iss"
    );
    let code = param(&back, "code").expect("code");

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("verified ID token");
    assert_eq!(claims.subject().as_str(), sub);
    assert_eq!(claims.issuer().as_str(), server.base);
    assert!(claims.auth_time().is_some());
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
}

#[tokio::test]
async fn confidential_client_with_client_secret_basic() {
    sign_in_with_openidconnect(false, AuthType::BasicAuth).await;
}

#[tokio::test]
async fn confidential_client_with_client_secret_post() {
    sign_in_with_openidconnect(false, AuthType::RequestBody).await;
}

#[tokio::test]
async fn public_client_with_pkce_only() {
    sign_in_with_openidconnect(true, AuthType::RequestBody).await;
}

#[tokio::test]
async fn raw_tokens_have_the_promised_shape() {
    let server = TestServer::start().await;
    server.add_user("bob", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let code = obtain_code(&server, &browser, "app", "bob").await;
    let (status, headers, body) = token_request(
        &server,
        Some(("app", SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(body.get("refresh_token").is_none());

    let decode = |jwt: &str, part: usize| -> serde_json::Value {
        use base64::Engine;
        let raw = jwt.split('.').nth(part).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(raw)
                .unwrap(),
        )
        .unwrap()
    };
    let access = body["access_token"].as_str().unwrap();
    let header = decode(access, 0);
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 §2.1");
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    let claims = decode(access, 1);
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
    ] {
        assert!(claims.get(claim).is_some(), "access token lacks {claim}");
    }
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["scope"], "openid email profile");

    let id = decode(body["id_token"].as_str().unwrap(), 1);
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "azp",
        "at_hash",
        "sid",
    ] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}");
    }
    assert_eq!(id["nonce"], "n0nce");
    assert_eq!(id["aud"], "app");
    assert!(
        id["iat"].is_i64() && id["exp"].is_i64(),
        "NumericDate as integers"
    );
    assert!(id.get("email").is_none(), "profile claims live at userinfo");
}

#[tokio::test]
async fn consent_is_remembered_and_skip_consent_skips_it() {
    let server = TestServer::start().await;
    server.add_user("carol", None, None).await;
    server.add_client("app", false, false).await;
    server.add_client("first-party", false, true).await;
    let browser = Browser::new(&server);

    // First time: login and consent.
    let (_, login) = browser.get(&authorize_url(&server, "app", "")).await.page();
    let (_, consent) = browser.login(&login, "carol", PASSWORD).await.page();
    assert!(consent.contains("action=\"/consent\""));
    let back = browser.consent(&consent, "allow").await.redirect();
    assert!(param(&back, "code").is_some());

    // Second time, same session: straight back with a code.
    let back = browser
        .get(&authorize_url(&server, "app", ""))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());

    // A skip-consent client never shows the page.
    let back = browser
        .get(&authorize_url(&server, "first-party", ""))
        .await
        .redirect();
    assert!(param(&back, "code").is_some());

    // prompt=consent asks again.
    let (status, page) = browser
        .get(&authorize_url(&server, "app", "&prompt=consent"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/consent\""));
}

#[tokio::test]
async fn denying_consent_returns_access_denied() {
    let server = TestServer::start().await;
    server.add_user("dave", None, None).await;
    server.add_client("app", false, false).await;
    let browser = Browser::new(&server);
    let (_, login) = browser.get(&authorize_url(&server, "app", "")).await.page();
    let (_, consent) = browser.login(&login, "dave", PASSWORD).await.page();
    let back = browser.consent(&consent, "deny").await.redirect();
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert_eq!(param(&back, "iss").as_deref(), Some(server.base.as_str()));
    assert!(param(&back, "code").is_none());
}

#[tokio::test]
async fn authorize_by_post_form_works() {
    let server = TestServer::start().await;
    server.add_user("erin", None, None).await;
    server.add_client("app", false, true).await;
    let browser = Browser::new(&server);
    let url = authorize_url(&server, "app", "&unknown_param=ignored");
    let (_, query) = url.split_once('?').unwrap();
    let response = browser
        .http
        .post(server.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_string())
        .send()
        .await
        .unwrap();
    let (_, login) = browser.follow(response).await.page();
    let back = browser.login(&login, "erin", PASSWORD).await.redirect();
    assert!(param(&back, "code").is_some());
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
}
