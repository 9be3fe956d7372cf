use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000003_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A session records the client address it was started from (behind a trusted
/// proxy, the address the proxy reported), for the account page and audits.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_null(Ip))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Ip)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct Ip;
