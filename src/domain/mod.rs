//! Operations with rules, called by the command line, the pages and the protocol
//! endpoints alike: each rule is written once, here.

pub mod attempts;
pub mod backchannel;
pub mod clients;
pub mod email;
pub mod grants;
pub mod groups;
pub mod keys;
pub mod passkeys;
pub mod registration;
pub mod sessions;
pub mod users;

/// Why a domain operation did not happen, in words for the person or program that
/// asked; each caller renders it its own way (the command line as a message, the
/// admin API as RFC 9457 problem details).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Bad input, naming the field.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    /// A duplicate, or a change the current state does not allow.
    #[error("{0}")]
    Conflict(String),
    /// The resource changed between reading it and writing the change.
    #[error("{0}")]
    Stale(String),
    #[error(transparent)]
    Store(crate::store::StoreError),
}

impl Refusal {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Refusal {
        Refusal::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Refusal {
        Refusal::NotFound(message.into())
    }

    /// The same refusal, about another field.
    pub fn for_field(self, field: &'static str) -> Refusal {
        match self {
            Refusal::Invalid { message, .. } => Refusal::Invalid { field, message },
            other => other,
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Conflict(what) => {
                Refusal::Conflict(format!("{what} already exists"))
            }
            other => Refusal::Store(other),
        }
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(err: sea_orm::DbErr) -> Self {
        Refusal::Store(err.into())
    }
}
