pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_clients;
mod m20261123_000003_create_sessions;
mod m20261123_000004_create_grants;
mod m20261123_000005_create_authorization_codes;
mod m20261123_000006_create_authorization_requests;
mod m20261123_000007_create_consents;
mod m20261123_000008_create_signing_keys;
mod m20261123_000009_create_refresh_tokens;
mod m20261123_000010_create_audit_events;
mod m20261123_000011_create_recovery_codes;
mod m20261123_000012_create_throttles;
mod m20261123_000013_rotate_refresh_tokens_by_insert;
mod m20261203_000014_bind_requests_and_confirm_sessions;
mod m20261203_000015_session_addresses;
mod m20261203_000016_create_revoked_client_tokens;
mod m20261203_000017_keep_secret_methods_of_existing_clients;
mod m20261203_000018_create_groups;
mod m20261203_000019_client_secret_rotation;
mod m20261203_000020_client_versions;
mod m20261204_000021_create_passkeys;
mod m20261204_000022_audit_actor;
mod m20261204_000023_create_email_tokens;
mod m20261204_000024_create_registrations;
mod m20261204_000025_session_user_agents;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_clients::Migration),
            Box::new(m20261123_000003_create_sessions::Migration),
            Box::new(m20261123_000004_create_grants::Migration),
            Box::new(m20261123_000005_create_authorization_codes::Migration),
            Box::new(m20261123_000006_create_authorization_requests::Migration),
            Box::new(m20261123_000007_create_consents::Migration),
            Box::new(m20261123_000008_create_signing_keys::Migration),
            Box::new(m20261123_000009_create_refresh_tokens::Migration),
            Box::new(m20261123_000010_create_audit_events::Migration),
            Box::new(m20261123_000011_create_recovery_codes::Migration),
            Box::new(m20261123_000012_create_throttles::Migration),
            Box::new(m20261123_000013_rotate_refresh_tokens_by_insert::Migration),
            Box::new(m20261203_000014_bind_requests_and_confirm_sessions::Migration),
            Box::new(m20261203_000015_session_addresses::Migration),
            Box::new(m20261203_000016_create_revoked_client_tokens::Migration),
            Box::new(m20261203_000017_keep_secret_methods_of_existing_clients::Migration),
            Box::new(m20261203_000018_create_groups::Migration),
            Box::new(m20261203_000019_client_secret_rotation::Migration),
            Box::new(m20261203_000020_client_versions::Migration),
            Box::new(m20261204_000021_create_passkeys::Migration),
            Box::new(m20261204_000022_audit_actor::Migration),
            Box::new(m20261204_000023_create_email_tokens::Migration),
            Box::new(m20261204_000024_create_registrations::Migration),
            Box::new(m20261204_000025_session_user_agents::Migration),
        ]
    }
}
