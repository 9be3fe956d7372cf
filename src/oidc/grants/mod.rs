//! One module per grant type.

pub mod authorization_code;
pub mod issue;
