use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000009_create_refresh_tokens::RefreshTokens;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A refresh token is rotated by inserting its successor, in one statement: a unique
/// index on parent_hash lets exactly one successor per token exist, and the
/// successor carries its own copy sealed under its parent. (Until now the parent
/// row was marked used in the same transaction, which held SQLite's single write
/// lock across four round trips.) Rows rotated before keep working: each already
/// has its one successor, and its sealed copy stays on the parent.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(text_null(SealedByParent))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_parent_hash")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::ParentHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_refresh_tokens_parent_hash")
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(SealedByParent)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct SealedByParent;
