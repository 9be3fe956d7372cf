//! SeaORM entities. Each mirrors one table created by the `migrations` crate.

pub mod audit_events;
pub mod authorization_codes;
pub mod authorization_requests;
pub mod client_allowed_groups;
pub mod clients;
pub mod consents;
pub mod email_tokens;
pub mod grants;
pub mod group_members;
pub mod groups;
pub mod passkeys;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod registrations;
pub mod revoked_client_tokens;
pub mod sessions;
pub mod signing_keys;
pub mod throttles;
pub mod users;
pub mod webauthn_ceremonies;
