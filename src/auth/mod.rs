//! Authentication of people: passwords and browser sessions.

pub mod password;
pub mod session;
