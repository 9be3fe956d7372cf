//! One module per grant type.

pub mod authorization_code;
pub mod client_credentials;
pub mod issue;
pub mod refresh_token;
