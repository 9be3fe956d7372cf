use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Access tokens a client obtained for itself (client_credentials) belong to no
/// grant: the ones revoked before they expire are listed here by jti, so every
/// node refuses them at once (RFC 7009 §2).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedClientTokens::Table)
                    .col(string(RevokedClientTokens::Jti).primary_key())
                    .col(string(RevokedClientTokens::ClientId))
                    .col(big_integer(RevokedClientTokens::ExpiresAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedClientTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum RevokedClientTokens {
    Table,
    Jti,
    ClientId,
    ExpiresAt,
}
