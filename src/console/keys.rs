//! /admin/keys: the signing keys and their states; rotate now.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;

use super::{
    confirmed, done, failed, render, ActionForm, Admin, Chrome, ConfirmPage, NoticeQuery, Outcome,
};
use crate::state::AppState;
use crate::store::signing_keys::{self, StoredKey, STATE_REMOVED};
use crate::web::page::display_time;

/// A signing key as the console shows it.
pub struct KeyLine {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub created: String,
    pub activates: String,
    pub retires: String,
}

impl From<&StoredKey> for KeyLine {
    fn from(k: &StoredKey) -> Self {
        KeyLine {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            state: k.state.clone(),
            created: display_time(k.created_at),
            activates: display_time(k.activates_at),
            retires: k.retires_at.map(display_time).unwrap_or_default(),
        }
    }
}

/// The keys that still matter (removed ones are gone from the JWKS), newest first.
pub async fn lines(state: &AppState) -> Result<Vec<KeyLine>, super::Failure> {
    let mut keys = signing_keys::all(&state.db).await?;
    keys.retain(|k| k.state != STATE_REMOVED);
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(keys.iter().map(KeyLine::from).collect())
}

#[derive(Template)]
#[template(path = "console/keys.html")]
pub struct KeysPage {
    pub chrome: Chrome,
    pub keys: Vec<KeyLine>,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let page = KeysPage {
            chrome: admin.chrome("keys", q.text()),
            keys: lines(&state).await?,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin", f))
}

pub async fn rotate(
    admin: Admin,
    State(state): State<AppState>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        if !confirmed(&form.confirmed) {
            return Ok(render(
                &admin,
                &ConfirmPage {
                    chrome: admin.chrome("keys", None),
                    title: "Rotate the signing keys?".into(),
                    consequence: "The next key of each algorithm becomes the signing key now, \
                                  and a new next key is published. Tokens signed with the \
                                  current key stay valid until they expire."
                        .into(),
                    action: "/admin/keys/rotate".into(),
                    fields: vec![],
                    button: "Rotate now".into(),
                    cancel: "/admin/keys".into(),
                },
            ));
        }
        crate::domain::keys::rotate_published(&state).await?;
        admin
            .audit(&state, "keys_rotated", None, None, "signing keys rotated")
            .await?;
        Ok(done("/admin/keys", "keys-rotated"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/keys", f))
}
