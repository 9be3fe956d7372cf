//! Sign in with a passkey, no username: the login page's button and autofill post
//! here. A passkey that verified the user is two factors in one; one that did not
//! is a single factor, refused where two are due.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::auth::mfa::Proof;
use crate::domain::passkeys::{self, Answer, Binding, Failure, SignedIn};
use crate::error::{Error, Result};
use crate::signin::interaction;
use crate::signin::next;
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::ui::login::{finish, known_device, locked_page, render};
use crate::web::client_ip::ClientIp;
use crate::web::csrf;
use crate::web::csrf::failed as csrf_failed;

#[derive(Deserialize)]
pub struct PasskeySignInForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasskeySignInForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let signin = interaction::load(&state, &headers, &form.request_id).await?;
        let pending = &signin.pending;
        let binding = Binding {
            browser_hash: pending.browser_hash.as_deref().unwrap_or_default(),
            request_id: Some(&pending.id),
        };
        let answer = Answer {
            ceremony: &form.ceremony,
            credential: &form.credential,
        };
        let client_id = pending.client_id.as_deref();
        let device_of = |user_id: &str| known_device(&state, &headers, user_id);
        let signed_in =
            passkeys::finish_signin(&state, binding, answer, &ip, client_id, device_of).await?;
        let again = |message: &str| {
            let status = StatusCode::UNAUTHORIZED;
            render(
                &state,
                &headers,
                &signin,
                String::new(),
                Some(message.into()),
                status,
            )
        };
        let SignedIn {
            user,
            user_verified,
        } = match signed_in {
            Ok(signed_in) => signed_in,
            Err(Failure::Locked { retry_after }) => {
                let back = interaction::step_url("/login", pending);
                return Ok(locked_page(retry_after, &back));
            }
            Err(failure) => return again(failure.message()).await,
        };
        let user_facts = interaction::user_facts(&state, &user).await?;
        let request = interaction::request_facts(pending);
        let policy = state.config.mfa_policy;
        if !user_verified && next::second_factor_due(&user_facts, policy, &request, false) {
            return again(
                "This passkey did not ask for your PIN, fingerprint or face, and this sign-in \
                 needs two steps. Sign in with your password instead.",
            )
            .await;
        }
        let amr = Proof::Passkey { user_verified }.amr();
        crate::observability::metrics::login(true);
        audit::record(
            &state.db,
            Event {
                actor: None,
                kind: "login_ok",
                user_id: Some(&user.id),
                client_id,
                ip: Some(&ip),
                detail: Some(&amr.join(" ")),
            },
            state.now(),
        )
        .await?;
        finish(&state, &headers, &ip, pending, &user.id, amr).await
    }
    .await
    .map_err(Error::on_page)
}
