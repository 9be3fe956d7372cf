//! Who may use the console: a signed-in member of the admin group
//! (GATEHOUSE_ADMIN_GROUP) whose session has a second factor. A browser without a
//! session is sent to sign in, a session without a second factor through step-up,
//! both by the sign-in decision every page uses; a non-member gets 403.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Chrome, Failure};
use crate::domain::groups as group_rules;
use crate::error::{Error, Result};
use crate::signin::interaction::{self, Local};
use crate::state::AppState;
use crate::store::audit::{self, Event};
use crate::store::sessions::Session;
use crate::store::users::User;
use crate::web::client_ip::ClientIp;
use crate::web::csrf;

pub struct Admin {
    pub session: Session,
    pub user: User,
    pub ip: String,
    headers: HeaderMap,
    csrf: String,
    csrf_cookie: Option<HeaderValue>,
}

fn not_an_admin() -> Error {
    Error::page(
        StatusCode::FORBIDDEN,
        "Not an administrator",
        "The admin console is for members of the administrators' group. \
         Ask an administrator to add you to it.",
    )
}

async fn admit(
    state: &AppState,
    parts: &mut Parts,
) -> Result<std::result::Result<Admin, Response>> {
    let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
    let headers = parts.headers.clone();
    // A sign-in started here comes back to the page asked for; a form post cannot
    // be replayed, so it comes back to the overview.
    let back = match parts.method {
        Method::GET | Method::HEAD => parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/admin".into()),
        _ => "/admin".into(),
    };
    let current = interaction::signed_in_user(state, &headers).await?;
    if let Some((_, user)) = &current {
        if !group_rules::is_member(&state.db, &state.config.admin_group, &user.id).await? {
            audit::record(
                &state.db,
                Event {
                    kind: "console_denied",
                    user_id: Some(&user.id),
                    ip: Some(&ip),
                    detail: Some("not in the admin group"),
                    ..Event::default()
                },
                state.now(),
            )
            .await?;
            return Err(not_an_admin());
        }
    }
    let (session, user) =
        match interaction::reach(state, &headers, current, Local::Console(back)).await? {
            Ok(found) => found,
            Err(signin) => return Ok(Err(signin)),
        };
    let (csrf, csrf_cookie) = csrf::ensure(&headers, state.config.secure_cookies());
    Ok(Ok(Admin {
        session,
        user,
        ip,
        headers,
        csrf,
        csrf_cookie,
    }))
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        match admit(state, parts).await {
            Ok(Ok(admin)) => Ok(admin),
            Ok(Err(response)) => Err(response),
            Err(err) => Err(err.on_page().into_response()),
        }
    }
}

impl Admin {
    /// The chrome of a page in `section`.
    pub fn chrome(&self, section: &'static str, notice: Option<&'static str>) -> Chrome {
        Chrome {
            admin: self.user.username.clone(),
            csrf: self.csrf.clone(),
            section,
            notice,
        }
    }

    /// Sets the CSRF cookie on a page when the browser had none.
    pub fn with_csrf_cookie(&self, response: Response) -> Response {
        csrf::attach(response, self.csrf_cookie.clone())
    }

    /// A form action goes ahead only with the page's CSRF token.
    pub fn check_csrf(&self, state: &AppState, token: &str) -> std::result::Result<(), Failure> {
        if csrf::verify(&self.headers, token, state.config.secure_cookies()) {
            Ok(())
        } else {
            Err(Failure::Other(csrf::failed()))
        }
    }

    /// Records a change made in the console, with this admin as its actor. The kinds
    /// are those the API and the command line record for the same change.
    pub async fn audit(
        &self,
        state: &AppState,
        kind: &str,
        user_id: Option<&str>,
        client_id: Option<&str>,
        what: &str,
    ) -> std::result::Result<(), Failure> {
        let actor = audit::actor_user(&self.user.id);
        let detail = format!("{what}; by {} in the console", self.user.username);
        audit::record(
            &state.db,
            Event {
                kind,
                user_id,
                client_id,
                ip: Some(&self.ip),
                detail: Some(&detail),
                actor: Some(&actor),
            },
            state.now(),
        )
        .await?;
        Ok(())
    }
}
