use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000003_create_sessions::Sessions;
use super::m20261123_000006_create_authorization_requests::AuthorizationRequests;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A pending authorization request is bound to the browser that started it, not
/// only its second step: the binding hash covers the whole interaction (so the
/// column is renamed). A session records when its user last confirmed who they
/// are, for account changes that need a fresh re-authentication.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationRequests::Table)
                    .rename_column(AuthorizationRequests::MfaBindingHash, BrowserHash)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(big_integer_null(ConfirmedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(ConfirmedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuthorizationRequests::Table)
                    .rename_column(BrowserHash, AuthorizationRequests::MfaBindingHash)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct BrowserHash;

#[derive(DeriveIden)]
struct ConfirmedAt;
