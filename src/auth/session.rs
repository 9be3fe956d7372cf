//! The browser session: a random secret in an HttpOnly cookie, the rest in the database.

use axum::http::{HeaderMap, HeaderValue};

use crate::error::Error;
use crate::state::AppState;
use crate::store::sessions::{self, Session};
use crate::web::cookies;

/// `__Host-` binds the cookie to this exact origin; it requires `Secure`, so it is
/// used only when the issuer is https.
fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_session"
    } else {
        "gatehouse_session"
    }
}

/// The live session the request's cookie names, if any.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, Error> {
    let name = cookie_name(state.config.secure_cookies());
    match cookies::get(headers, name) {
        Some(secret) => Ok(sessions::find_active(&state.db, secret, state.now()).await?),
        None => Ok(None),
    }
}

/// Starts a session for a user who just authenticated; returns it and its cookie.
pub async fn start(
    state: &AppState,
    user_id: &str,
    amr: &[String],
    ip: &str,
    user_agent: Option<&str>,
) -> Result<(Session, HeaderValue), Error> {
    let ttl = state.config.session_ttl as i64;
    let (session, secret) = sessions::create(
        &state.db,
        user_id,
        amr,
        Some(ip),
        user_agent,
        state.now(),
        ttl,
    )
    .await?;
    let secure = state.config.secure_cookies();
    let cookie = cookies::build(cookie_name(secure), &secret, "Lax", secure, None);
    Ok((session, cookie))
}

/// A `Set-Cookie` that deletes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = state.config.secure_cookies();
    cookies::build(cookie_name(secure), "", "Lax", secure, Some(0))
}

/// The user authenticated again in session `id` (a second factor, or "confirm it's
/// you"): the session now carries `amr`, and a new cookie secret. None when the
/// session ended meanwhile.
pub async fn reauthenticated(
    state: &AppState,
    id: &str,
    amr: &[String],
) -> Result<Option<HeaderValue>, Error> {
    let Some(secret) = sessions::reauthenticated(&state.db, id, amr, state.now()).await? else {
        return Ok(None);
    };
    let secure = state.config.secure_cookies();
    Ok(Some(cookies::build(
        cookie_name(secure),
        &secret,
        "Lax",
        secure,
        None,
    )))
}
