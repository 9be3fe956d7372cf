//! Authentication of people: passwords, second factors, throttling, sessions.

pub mod known_device;
pub mod mfa;
pub mod passkey;
pub mod password;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;
