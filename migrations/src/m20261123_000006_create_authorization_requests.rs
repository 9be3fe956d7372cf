use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthorizationRequests::Table)
                    .col(string(AuthorizationRequests::Id).primary_key())
                    // NULL for a sign-in to the account page rather than to a client.
                    .col(string_null(AuthorizationRequests::ClientId))
                    .col(text(AuthorizationRequests::RedirectUri))
                    .col(text(AuthorizationRequests::Scope))
                    .col(text_null(AuthorizationRequests::State))
                    .col(text_null(AuthorizationRequests::Nonce))
                    .col(string(AuthorizationRequests::CodeChallenge))
                    .col(string_null(AuthorizationRequests::Prompt))
                    .col(big_integer_null(AuthorizationRequests::MaxAge))
                    .col(text_null(AuthorizationRequests::LoginHint))
                    .col(text_null(AuthorizationRequests::AcrValues))
                    // query (default) or form_post.
                    .col(string_null(AuthorizationRequests::ResponseMode))
                    .col(text_null(AuthorizationRequests::Claims))
                    // Password checked, second factor pending: for whom, bound to which
                    // browser (hash of a cookie secret).
                    .col(string_null(AuthorizationRequests::MfaUserId))
                    .col(string_null(AuthorizationRequests::MfaBindingHash))
                    .col(big_integer(AuthorizationRequests::CreatedAt))
                    .col(big_integer(AuthorizationRequests::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_authorization_requests_client_id")
                            .from(
                                AuthorizationRequests::Table,
                                AuthorizationRequests::ClientId,
                            )
                            .to(Clients::Table, Clients::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_authorization_requests_expires_at")
                    .table(AuthorizationRequests::Table)
                    .col(AuthorizationRequests::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthorizationRequests::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum AuthorizationRequests {
    Table,
    Id,
    ClientId,
    RedirectUri,
    Scope,
    State,
    Nonce,
    CodeChallenge,
    Prompt,
    MaxAge,
    LoginHint,
    AcrValues,
    ResponseMode,
    Claims,
    MfaUserId,
    MfaBindingHash,
    CreatedAt,
    ExpiresAt,
}
