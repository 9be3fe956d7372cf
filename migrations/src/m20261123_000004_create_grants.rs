use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;
use super::m20261123_000002_create_clients::Clients;
use super::m20261123_000003_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(string(Grants::Id).primary_key())
                    .col(string(Grants::UserId))
                    .col(string(Grants::ClientId))
                    .col(string_null(Grants::SessionId))
                    .col(text(Grants::Scope))
                    .col(big_integer(Grants::AuthTime))
                    // How the user authenticated (JSON array, RFC 8176) and the level.
                    .col(text(Grants::Amr).default("[]"))
                    .col(string_null(Grants::Acr))
                    // The `claims` request parameter (OIDC Core §5.5), as JSON.
                    .col(text_null(Grants::Claims))
                    .col(big_integer(Grants::CreatedAt))
                    .col(big_integer(Grants::ExpiresAt))
                    .col(big_integer_null(Grants::RevokedAt))
                    .col(string_null(Grants::RevokeReason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_user_id")
                            .from(Grants::Table, Grants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_client_id")
                            .from(Grants::Table, Grants::ClientId)
                            .to(Clients::Table, Clients::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_session_id")
                            .from(Grants::Table, Grants::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_grants_user_id")
                    .table(Grants::Table)
                    .col(Grants::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grants_client_id")
                    .table(Grants::Table)
                    .col(Grants::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grants_session_id")
                    .table(Grants::Table)
                    .col(Grants::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Grants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Grants {
    Table,
    Id,
    UserId,
    ClientId,
    SessionId,
    Scope,
    AuthTime,
    Amr,
    Acr,
    Claims,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokeReason,
}
