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
                    .table(RefreshTokens::Table)
                    .col(string(RefreshTokens::TokenHash).primary_key())
                    .col(string(RefreshTokens::GrantId))
                    .col(string(RefreshTokens::ClientId))
                    .col(text(RefreshTokens::Scope))
                    .col(string_null(RefreshTokens::ParentHash))
                    .col(big_integer(RefreshTokens::IssuedAt))
                    .col(big_integer(RefreshTokens::ExpiresAt))
                    .col(big_integer_null(RefreshTokens::UsedAt))
                    .col(string_null(RefreshTokens::SuccessorHash))
                    .col(text_null(RefreshTokens::SuccessorSealed))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_grant_id")
                            .from(RefreshTokens::Table, RefreshTokens::GrantId)
                            .to(Grants::Table, Grants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_grant_id")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::GrantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum RefreshTokens {
    Table,
    TokenHash,
    GrantId,
    ClientId,
    Scope,
    ParentHash,
    IssuedAt,
    ExpiresAt,
    UsedAt,
    SuccessorHash,
    SuccessorSealed,
}
