use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(string(Clients::ClientId).primary_key())
                    .col(string(Clients::Name))
                    // NULL = public client.
                    .col(string_null(Clients::SecretHash))
                    // JSON arrays written by the application.
                    .col(text(Clients::RedirectUris))
                    .col(text(Clients::PostLogoutRedirectUris))
                    .col(text(Clients::GrantTypes))
                    // JSON array: scopes the client may ask for on its own behalf.
                    .col(text(Clients::AllowedScopes))
                    // OIDC Back-Channel Logout 1.0 §2.2.
                    .col(text_null(Clients::BackchannelLogoutUri))
                    .col(string(Clients::TokenEndpointAuthMethod))
                    .col(string(Clients::IdTokenSignedResponseAlg))
                    .col(boolean(Clients::SkipConsent))
                    .col(big_integer(Clients::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Clients {
    Table,
    ClientId,
    Name,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    GrantTypes,
    AllowedScopes,
    BackchannelLogoutUri,
    TokenEndpointAuthMethod,
    IdTokenSignedResponseAlg,
    SkipConsent,
    CreatedAt,
}
