//! The consent decision (the page itself is rendered by the authorization flow).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::session;
use crate::error::{Error, ErrorCode, OAuthError, Result};
use crate::oidc::authorize::complete;
use crate::store::{authorization_requests, consents, users};
use crate::ui::csrf;
use crate::ui::login::csrf_failed;

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConsentForm>,
) -> Result<Response> {
    async {
        if !csrf::verify(&headers, &form.csrf, state.config.secure_cookies()) {
            return Err(csrf_failed());
        }
        let pending = complete::pending(&state, &form.request_id).await?;
        // Consent is only ever asked for a client.
        let Some(client) = complete::client_of(&state, &pending).await? else {
            return Err(complete::expired());
        };
        let session = session::current(&state, &headers).await?;
        let Some(session) =
            session.filter(|s| !complete::needs_login(&pending, Some(s), state.now()))
        else {
            // Signed out meanwhile: start over at the login step.
            return complete::proceed(&state, &headers, Some(&client), pending, None).await;
        };
        let enabled = users::find(&state.db, &session.user_id)
            .await?
            .is_some_and(|u| !u.disabled);
        if !enabled {
            return complete::proceed(&state, &headers, Some(&client), pending, None).await;
        }
        match form.decision.as_str() {
            "allow" => {
                consents::remember(
                    &state.db,
                    &session.user_id,
                    &client.client_id,
                    &pending.scope,
                    state.now(),
                )
                .await?;
                complete::issue_code(&state, &client, &pending, &session).await
            }
            "deny" => {
                authorization_requests::complete(&state.db, &pending.id).await?;
                Err(complete::redirect_error(
                    &state,
                    &pending,
                    OAuthError::new(ErrorCode::AccessDenied, "the user denied access"),
                ))
            }
            _ => Err(Error::page(
                StatusCode::BAD_REQUEST,
                "Invalid choice",
                "Choose Allow or Deny.",
            )),
        }
    }
    .await
    .map_err(Error::on_page)
}
