use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Passkeys (WebAuthn credentials) and the state of WebAuthn ceremonies in
/// progress. Ceremony state lives in the database so that any node can finish a
/// ceremony another node started; it is single use and expires in minutes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(string(Passkeys::Id).primary_key())
                    .col(string(Passkeys::UserId))
                    // base64url of the credential id: one account per credential
                    // (WebAuthn §7.1 step 22).
                    .col(string_uniq(Passkeys::CredentialId))
                    .col(string(Passkeys::Name))
                    // webauthn-rs's Credential (public key, counter, flags), as JSON.
                    .col(text(Passkeys::Credential))
                    .col(big_integer(Passkeys::SignCount))
                    .col(boolean(Passkeys::BackupEligible))
                    .col(boolean(Passkeys::BackedUp))
                    .col(boolean(Passkeys::UserVerified))
                    .col(big_integer(Passkeys::CreatedAt))
                    .col(big_integer_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_passkeys_user_id")
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_user_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    // Keyed digest of the id the page carries.
                    .col(string(WebauthnCeremonies::IdHash).primary_key())
                    .col(string(WebauthnCeremonies::Purpose))
                    .col(string_null(WebauthnCeremonies::UserId))
                    .col(string_null(WebauthnCeremonies::RequestId))
                    .col(string(WebauthnCeremonies::BrowserHash))
                    .col(text(WebauthnCeremonies::State))
                    .col(big_integer(WebauthnCeremonies::CreatedAt))
                    .col(big_integer(WebauthnCeremonies::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_ceremonies_expires_at")
                    .table(WebauthnCeremonies::Table)
                    .col(WebauthnCeremonies::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebauthnCeremonies::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Credential,
    SignCount,
    BackupEligible,
    BackedUp,
    UserVerified,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
pub enum WebauthnCeremonies {
    Table,
    IdHash,
    Purpose,
    UserId,
    RequestId,
    BrowserHash,
    State,
    CreatedAt,
    ExpiresAt,
}
