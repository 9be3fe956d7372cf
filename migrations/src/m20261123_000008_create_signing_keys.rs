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
                    // Per algorithm 1, 2, 3…: unique, so of nodes racing to create
                    // the next key exactly one succeeds.
                    .col(big_integer(SigningKeys::Generation))
                    // One of: next, current, retired, removed.
                    .col(string(SigningKeys::State))
                    // PKCS#8 PEM sealed with the master key (AES-256-GCM); empty once removed.
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
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_alg_generation")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::Alg)
                    .col(SigningKeys::Generation)
                    .unique()
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
    Generation,
    State,
    PrivateKey,
    PublicJwk,
    CreatedAt,
    ActivatesAt,
    RetiresAt,
}
