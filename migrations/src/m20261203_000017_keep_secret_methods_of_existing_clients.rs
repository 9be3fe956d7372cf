use sea_orm_migration::prelude::*;

use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The registered `token_endpoint_auth_method` is enforced from now on. Confidential
/// clients registered before accepted both client_secret_basic and client_secret_post
/// whatever they were registered with, so they keep accepting both (an upgrade breaks
/// no running application) until an operator picks one with `client set-auth-method`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let update = Query::update()
            .table(Clients::Table)
            .value(
                Clients::TokenEndpointAuthMethod,
                "client_secret_basic client_secret_post",
            )
            .and_where(Expr::col(Clients::SecretHash).is_not_null())
            .to_owned();
        manager.exec_stmt(update).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let update = Query::update()
            .table(Clients::Table)
            .value(Clients::TokenEndpointAuthMethod, "client_secret_basic")
            .and_where(
                Expr::col(Clients::TokenEndpointAuthMethod)
                    .eq("client_secret_basic client_secret_post"),
            )
            .to_owned();
        manager.exec_stmt(update).await
    }
}
