use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000004_create_grants::Grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationCodes::Table)
                    .col(string(AuthorizationCodes::CodeHash).primary_key())
                    .col(string(AuthorizationCodes::GrantId))
                    .col(string(AuthorizationCodes::ClientId))
                    .col(text(AuthorizationCodes::RedirectUri))
                    .col(text(AuthorizationCodes::Scope))
                    .col(text_null(AuthorizationCodes::Nonce))
                    .col(string(AuthorizationCodes::CodeChallenge))
                    .col(big_integer(AuthorizationCodes::CreatedAt))
                    .col(big_integer(AuthorizationCodes::ExpiresAt))
                    .col(big_integer_null(AuthorizationCodes::ConsumedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authorization_codes_grant_id")
                            .from(AuthorizationCodes::Table, AuthorizationCodes::GrantId)
                            .to(Grants::Table, Grants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_authorization_codes_grant_id")
                    .table(AuthorizationCodes::Table)
                    .col(AuthorizationCodes::GrantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthorizationCodes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum AuthorizationCodes {
    Table,
    CodeHash,
    GrantId,
    ClientId,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}
