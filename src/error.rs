//! The one error type. Every failure a handler can meet is one of these variants,
//! and `IntoResponse` below is the single place that decides how it is shown:
//! RFC 6749 JSON, an error redirect back to the client, an RFC 6750 bearer
//! challenge, an HTML page for the person at the browser, or RFC 9457 problem
//! details for the admin API.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::web::page::{render_page, ErrorPage};

/// OAuth 2.0 / OpenID Connect error codes (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An error code with its human-readable description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: sanitize_description(&description.into()),
        }
    }
}

/// RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
/// Descriptions may quote request values, so anything else becomes '?'.
pub fn sanitize_description(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '?',
        })
        .collect()
}

/// Where an authorization error is sent back to (RFC 6749 §4.1.2.1, RFC 9207).
#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub issuer: String,
    pub error: OAuthError,
    /// response_mode=form_post: an auto-submitting form instead of a redirect.
    pub form_post: bool,
}

/// What went wrong at the admin API, each with a stable problem `type` (RFC 9457 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    InvalidInput,
    Unauthorized,
    InsufficientScope,
    NotFound,
    Conflict,
    PreconditionFailed,
    UnsupportedMediaType,
    PayloadTooLarge,
    MethodNotAllowed,
    Unavailable,
    ServerError,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 11] = [
        ProblemKind::InvalidInput,
        ProblemKind::Unauthorized,
        ProblemKind::InsufficientScope,
        ProblemKind::NotFound,
        ProblemKind::Conflict,
        ProblemKind::PreconditionFailed,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::PayloadTooLarge,
        ProblemKind::MethodNotAllowed,
        ProblemKind::Unavailable,
        ProblemKind::ServerError,
    ];

    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::InvalidInput => StatusCode::BAD_REQUEST,
            ProblemKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ProblemKind::InsufficientScope => StatusCode::FORBIDDEN,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type URI: the same for every instance of the kind.
    pub fn type_uri(self) -> &'static str {
        match self {
            ProblemKind::InvalidInput => "urn:gatehouse:problem:invalid-input",
            ProblemKind::Unauthorized => "urn:gatehouse:problem:unauthorized",
            ProblemKind::InsufficientScope => "urn:gatehouse:problem:insufficient-scope",
            ProblemKind::NotFound => "urn:gatehouse:problem:not-found",
            ProblemKind::Conflict => "urn:gatehouse:problem:conflict",
            ProblemKind::PreconditionFailed => "urn:gatehouse:problem:precondition-failed",
            ProblemKind::UnsupportedMediaType => "urn:gatehouse:problem:unsupported-media-type",
            ProblemKind::PayloadTooLarge => "urn:gatehouse:problem:payload-too-large",
            ProblemKind::MethodNotAllowed => "urn:gatehouse:problem:method-not-allowed",
            ProblemKind::Unavailable => "urn:gatehouse:problem:unavailable",
            ProblemKind::ServerError => "urn:gatehouse:problem:server-error",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::InvalidInput => "The request is not valid",
            ProblemKind::Unauthorized => "An access token is required",
            ProblemKind::InsufficientScope => "The access token does not allow this",
            ProblemKind::NotFound => "No such resource",
            ProblemKind::Conflict => "The request conflicts with the current state",
            ProblemKind::PreconditionFailed => "The resource changed since it was read",
            ProblemKind::UnsupportedMediaType => "The body must be application/json",
            ProblemKind::PayloadTooLarge => "The body is too large",
            ProblemKind::MethodNotAllowed => "This resource does not take that method",
            ProblemKind::Unavailable => "Temporarily unavailable",
            ProblemKind::ServerError => "Internal server error",
        }
    }
}

/// An RFC 9457 problem: the kind, what happened this time, and the input field at
/// fault, if one is.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
    pub field: Option<String>,
    /// The RFC 6750 §3 challenge of a 401 or 403.
    pub challenge: Option<String>,
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            field: None,
            challenge: None,
        }
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Problem {
        Problem {
            field: Some(field.into()),
            ..Problem::new(ProblemKind::InvalidInput, detail)
        }
    }

    /// A storage failure: logged; the caller learns only that it failed.
    pub fn internal(err: impl std::fmt::Display) -> Problem {
        tracing::error!(error = %err, "internal error");
        Problem::new(
            ProblemKind::ServerError,
            "the request could not be completed",
        )
    }
}

impl From<crate::domain::Refusal> for Problem {
    fn from(refusal: crate::domain::Refusal) -> Self {
        use crate::domain::Refusal;
        match refusal {
            Refusal::Invalid { field, message } => Problem::invalid(field, message),
            Refusal::NotFound(message) => Problem::new(ProblemKind::NotFound, message),
            Refusal::Conflict(message) => Problem::new(ProblemKind::Conflict, message),
            Refusal::Stale(message) => Problem::new(ProblemKind::PreconditionFailed, message),
            Refusal::Store(err) => err.into(),
        }
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Conflict(what) => {
                Problem::new(ProblemKind::Conflict, format!("{what} already exists"))
            }
            crate::store::StoreError::Db(db) => db.into(),
        }
    }
}

impl From<sea_orm::DbErr> for Problem {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Problem::new(
                ProblemKind::Unavailable,
                "the database cannot be reached; try again shortly",
            );
        }
        Problem::internal(err)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": self.kind.type_uri(),
            "title": self.kind.title(),
            "status": self.kind.status().as_u16(),
            "detail": self.detail,
        });
        if let Some(field) = &self.field {
            body["field"] = json!(field);
        }
        let mut response = (
            self.kind.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
        if let Some(value) = self
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        no_store(response)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Token-endpoint style JSON error (RFC 6749 §5.2).
    #[error("{}: {}", .0.code.as_str(), .0.description)]
    Json(OAuthError),
    /// Client authentication failed (RFC 6749 §5.2): 401, with a Basic challenge when
    /// the client tried HTTP Basic.
    #[error("invalid_client: {description}")]
    InvalidClient { description: String, basic: bool },
    /// Sent back to the client's redirect URI.
    #[error("{}: {}", .0.error.code.as_str(), .0.error.description)]
    Redirect(Box<ErrorRedirect>),
    /// Protected-resource error with a bearer challenge (RFC 6750 §3).
    #[error("{}: {}", .0.code.as_str(), .0.description)]
    Bearer(OAuthError),
    /// A protected resource asked for with no token at all: a bare challenge, with no
    /// error code (RFC 6750 §3.1).
    #[error("no access token was provided")]
    BearerRequired,
    /// Shown to the person as an HTML page — used when the client cannot be trusted
    /// with a redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
    #[error("{title}: {message}")]
    Page {
        status: StatusCode,
        title: String,
        message: String,
    },
    /// A storage or signing failure: logged, shown as a generic server error.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
    /// As `Internal`, but on a page the person sees.
    #[error("internal error on page: {0}")]
    InternalPage(anyhow::Error),
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Error::json(
                ErrorCode::TemporarilyUnavailable,
                "the service is temporarily unavailable; try again shortly",
            );
        }
        Error::Internal(err.into())
    }
}

/// A domain refusal met on a protocol path, where the input was checked before:
/// storage failures keep their kind, anything else is a fault of ours.
impl From<crate::domain::Refusal> for Error {
    fn from(refusal: crate::domain::Refusal) -> Self {
        match refusal {
            crate::domain::Refusal::Store(err) => err.into(),
            other => Error::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Db(db) => db.into(),
            other => Error::Internal(other.into()),
        }
    }
}

/// Whether a database error means the database cannot be reached (as opposed to a
/// query it refused): the request may succeed later, so it is a 503, not a 500.
pub fn is_unavailable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            e.as_ref(),
            Sqlx::Io(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed
                | Sqlx::Tls(_)
        ),
        _ => false,
    }
}

impl Error {
    pub fn json(code: ErrorCode, description: impl Into<String>) -> Self {
        Error::Json(OAuthError::new(code, description))
    }

    pub fn bearer(description: impl Into<String>) -> Self {
        Error::Bearer(OAuthError::new(ErrorCode::InvalidToken, description))
    }

    pub fn page(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Page {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    /// For handlers that render pages: internal failures become an error page, not JSON.
    pub fn on_page(self) -> Self {
        match self {
            Error::Internal(err) => Error::InternalPage(err),
            Error::Json(e) if e.code == ErrorCode::TemporarilyUnavailable => Error::page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "Gatehouse cannot serve this page right now. Please try again in a moment.",
            ),
            Error::Json(e) | Error::Bearer(e) => {
                Error::page(StatusCode::BAD_REQUEST, "Request refused", e.description)
            }
            other => other,
        }
    }
}

/// RFC 6750 §3: the parameters of a bearer challenge naming the error; the
/// description is plain ASCII.
pub fn bearer_error_params(code: &str, description: &str) -> String {
    format!(
        "error=\"{code}\", error_description=\"{}\"",
        description.replace(['"', '\\'], "'")
    )
}

/// Headers every token-bearing JSON response carries (RFC 6749 §5.1).
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn json_error(status: StatusCode, error: &OAuthError) -> Response {
    let body = json!({
        "error": error.code.as_str(),
        "error_description": error.description,
    });
    no_store((status, axum::Json(body)).into_response())
}

fn json_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Json(error) => json_error(json_status(error.code), &error),
            Error::InvalidClient { description, basic } => {
                let mut response = json_error(
                    StatusCode::UNAUTHORIZED,
                    &OAuthError::new(ErrorCode::InvalidClient, description),
                );
                if basic {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"gatehouse\""),
                    );
                }
                response
            }
            Error::Redirect(redirect) => {
                let mut pairs = vec![
                    ("error", redirect.error.code.as_str()),
                    ("error_description", redirect.error.description.as_str()),
                ];
                if let Some(state) = &redirect.state {
                    pairs.push(("state", state));
                }
                // RFC 9207: the issuer identifies who answered (mix-up defence).
                pairs.push(("iss", &redirect.issuer));
                crate::web::redirect::respond(&redirect.redirect_uri, &pairs, redirect.form_post)
                    .unwrap_or_else(|| {
                        Error::page(
                            StatusCode::BAD_REQUEST,
                            "Invalid redirect URI",
                            "The application's redirect URI is not valid.",
                        )
                        .into_response()
                    })
            }
            Error::Bearer(error) => {
                let challenge = format!(
                    "Bearer {}",
                    bearer_error_params(error.code.as_str(), &error.description)
                );
                // §3.1: invalid_request is a 400, invalid_token a 401.
                let mut response = json_error(json_status(error.code), &error);
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            Error::BearerRequired => no_store(
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"gatehouse\"")],
                )
                    .into_response(),
            ),
            Error::Page {
                status,
                title,
                message,
            } => render_page(status, &ErrorPage { title, message }),
            Error::Internal(err) => {
                tracing::error!(error = %err, "internal error");
                json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &OAuthError::new(ErrorCode::ServerError, "internal server error"),
                )
            }
            Error::InternalPage(err) => {
                tracing::error!(error = %err, "internal error");
                render_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &ErrorPage {
                        title: "Something went wrong".into(),
                        message: "Gatehouse could not complete this request. Please try again."
                            .into(),
                    },
                )
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_rfc_6749_character_set() {
        assert_eq!(sanitize_description("plain text: ok"), "plain text: ok");
        assert_eq!(sanitize_description("say \"hi\" \\ é\n"), "say ?hi? ? ??");
        assert_eq!(sanitize_description(&"x".repeat(500)).len(), 200);
    }
}
