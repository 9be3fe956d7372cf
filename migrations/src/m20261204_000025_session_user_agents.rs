use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000003_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A session records the browser's User-Agent (at most 256 characters) it was
/// started with, so that the account page can name the browser and device.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_null(UserAgent))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(UserAgent)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct UserAgent;
