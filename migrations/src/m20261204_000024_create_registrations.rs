use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Sign-ups waiting for their address to be confirmed: the account is created
/// only from the mailed link. Only a hash of the link's token is stored.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(string(Registrations::TokenHash).primary_key())
                    .col(string(Registrations::Username))
                    .col(string(Registrations::Email))
                    .col(string(Registrations::PasswordHash))
                    .col(big_integer(Registrations::CreatedAt))
                    .col(big_integer(Registrations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_registrations_email")
                    .table(Registrations::Table)
                    .col(Registrations::Email)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Registrations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Registrations {
    Table,
    TokenHash,
    Username,
    Email,
    PasswordHash,
    CreatedAt,
    ExpiresAt,
}
