use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(string(SigningKeys::Alg))
                    // One of: next, current, retired.
                    .col(string(SigningKeys::State))
                    // PKCS#8 PEM.
                    .col(text(SigningKeys::PrivateKey))
                    // JSON (JWK) written by the application.
                    .col(text(SigningKeys::PublicJwk))
                    .col(big_integer(SigningKeys::CreatedAt))
                    .col(big_integer(SigningKeys::ActivatesAt))
                    .col(big_integer_null(SigningKeys::RetiresAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_state")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum SigningKeys {
    Table,
    Kid,
    Alg,
    State,
    PrivateKey,
    PublicJwk,
    CreatedAt,
    ActivatesAt,
    RetiresAt,
}
