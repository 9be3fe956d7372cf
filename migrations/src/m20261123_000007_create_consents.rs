use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;
use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(string(Consents::UserId))
                    .col(string(Consents::ClientId))
                    .col(text(Consents::Scope))
                    .col(big_integer(Consents::CreatedAt))
                    .col(big_integer(Consents::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_consents")
                            .col(Consents::UserId)
                            .col(Consents::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_user_id")
                            .from(Consents::Table, Consents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consents_client_id")
                            .from(Consents::Table, Consents::ClientId)
                            .to(Clients::Table, Clients::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Consents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Consents {
    Table,
    UserId,
    ClientId,
    Scope,
    CreatedAt,
    UpdatedAt,
}
