use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// When a client's registration last changed: a change is written only if the
/// registration is still as it was read (a concurrent change is not overwritten).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(big_integer(UpdatedAt).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .drop_column(UpdatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct UpdatedAt;
