use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A rotated client secret: the previous digest keeps working until it expires
/// (GATEHOUSE_CLIENT_SECRET_OVERLAP), so an application can switch without downtime.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(string_null(PreviousSecretHash))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(big_integer_null(PreviousSecretExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            PreviousSecretExpiresAt.into_iden(),
            PreviousSecretHash.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
struct PreviousSecretHash;

#[derive(DeriveIden)]
struct PreviousSecretExpiresAt;
