//! The WebDriver virtual authenticator (WebAuthn Level 2 §11): a CTAP2 platform
//! authenticator inside the browser, with resident keys and user verification,
//! for browser tests that register and use passkeys.
#![allow(dead_code)]

use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use serde_json::{json, Value};

#[derive(Debug)]
struct Command {
    path: String,
    method: Method,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for Command {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

async fn issue(client: &Client, method: Method, path: String, body: Option<Value>) -> Value {
    client
        .issue_cmd(Command { path, method, body })
        .await
        .unwrap_or_else(|e| panic!("virtual authenticator command failed: {e}"))
}

/// Adds a passkey-capable authenticator (`internal`, CTAP2, resident keys, user
/// verification that succeeds, presence simulated); returns its id.
pub async fn add_passkey_authenticator(client: &Client) -> String {
    let options = json!({
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": true,
        "hasUserVerification": true,
        "isUserVerified": true,
        "automaticPresenceSimulation": true,
    });
    let id = issue(
        client,
        Method::POST,
        "webauthn/authenticator".into(),
        Some(options),
    )
    .await;
    id.as_str().expect("authenticator id").to_string()
}

/// The credentials the authenticator holds.
pub async fn credentials(client: &Client, authenticator: &str) -> Vec<Value> {
    let path = format!("webauthn/authenticator/{authenticator}/credentials");
    match issue(client, Method::GET, path, None).await {
        Value::Array(items) => items,
        other => panic!("credentials: {other}"),
    }
}

/// Makes the pages loaded from now on see a browser without passkey autofill
/// (conditional mediation), through Chromium's DevTools: the virtual
/// authenticator answers an autofill request at once, so a test of the "Sign in
/// with a passkey" button turns autofill off first.
pub async fn without_autofill(client: &Client) {
    let script = "PublicKeyCredential.isConditionalMediationAvailable = \
                  () => Promise.resolve(false);";
    let body = json!({
        "cmd": "Page.addScriptToEvaluateOnNewDocument",
        "params": { "source": script },
    });
    issue(client, Method::POST, "goog/cdp/execute".into(), Some(body)).await;
}
