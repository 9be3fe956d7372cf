use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000010_create_audit_events::AuditEvents;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who made a change, apart from whom it is about: `user:<id>` for a person
/// (console, or an API token of theirs), `client:<client_id>` for an application's
/// own token, `cli` for the command line. Empty for sign-in decisions.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(string_null(Actor))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .drop_column(Actor)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
struct Actor;
