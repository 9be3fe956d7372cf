use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Audit rows outlive the users and clients they name: no foreign keys.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(string(AuditEvents::Id).primary_key())
                    .col(big_integer(AuditEvents::CreatedAt))
                    .col(string(AuditEvents::Kind))
                    .col(string_null(AuditEvents::UserId))
                    .col(string_null(AuditEvents::ClientId))
                    .col(string_null(AuditEvents::Ip))
                    .col(text_null(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_created_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum AuditEvents {
    Table,
    Id,
    CreatedAt,
    Kind,
    UserId,
    ClientId,
    Ip,
    Detail,
}
