//! The consent page and its answer. Both ask the sign-in decision first: the page
//! is shown, and the answer taken, only when consent is the step due (a missing
//! second factor is asked for first, OIDC Core §3.1.2.4).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::oidc::scopes;
use crate::scope::Scopes;
use crate::signin::interaction::RequestIdQuery;
use crate::signin::interaction::{self, Interaction};
use crate::signin::next::{ConsentAnswer, Next};
use crate::state::AppState;
use crate::ui::pages::{render_page, ConsentPage, ScopeLine};
use crate::web::csrf;
use crate::web::csrf::failed as csrf_failed;

pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<RequestIdQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    async {
        let signin = interaction::load(&state, &headers, &query.request_id).await?;
        match signin.decide(&state, None).await? {
            Next::Consent => page(&state, &headers, &signin).await,
            other => signin.respond(&state, other).await,
        }
    }
    .await
    .map_err(Error::on_page)
}

async fn page(state: &AppState, headers: &HeaderMap, signin: &Interaction) -> Result<Response> {
    let (Some(client), Some((_, user))) = (&signin.client, &signin.session) else {
        return Err(interaction::expired());
    };
    // What the grant would hold: admin scopes only for members of the admin group.
    let scope = crate::domain::groups::scope_for_user(
        &state.db,
        &state.config.admin_group,
        &user.id,
        &signin.pending.scope,
    )
    .await?;
    let (csrf, cookie) = csrf::ensure(headers, state.config.secure_cookies());
    let page = ConsentPage {
        client_name: client.name.clone(),
        request_id: signin.pending.id.clone(),
        csrf,
        username: user.username.clone(),
        scopes: Scopes::parse(&scope)
            .iter()
            .map(|s| ScopeLine {
                name: s.to_string(),
                description: scopes::describe(s).to_string(),
            })
            .collect(),
    };
    Ok(csrf::attach(render_page(StatusCode::OK, &page), cookie))
}

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
        let answer = match form.decision.as_str() {
            "allow" => ConsentAnswer::Allow,
            "deny" => ConsentAnswer::Deny,
            _ => {
                return Err(Error::page(
                    StatusCode::BAD_REQUEST,
                    "Invalid choice",
                    "Choose Allow or Deny.",
                ))
            }
        };
        let signin = interaction::load(&state, &headers, &form.request_id).await?;
        // The decision weighs the answer only once every earlier step holds: a
        // session that lacks a second factor, or none at all, is sent to that step.
        signin.advance(&state, Some(answer)).await
    }
    .await
    .map_err(Error::on_page)
}
