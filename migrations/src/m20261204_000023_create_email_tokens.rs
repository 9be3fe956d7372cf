use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The single-use links Gatehouse mails: address verification, password reset,
/// invitation. Only a hash of the link's token is stored.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(string(EmailTokens::TokenHash).primary_key())
                    .col(string(EmailTokens::Purpose))
                    .col(string(EmailTokens::UserId))
                    // The address the link was mailed to.
                    .col(string(EmailTokens::Email))
                    // A digest of the password hash when the link was made: a
                    // reset link dies once the password changed.
                    .col(string(EmailTokens::PasswordStamp))
                    .col(big_integer(EmailTokens::CreatedAt))
                    .col(big_integer(EmailTokens::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_email_tokens_user_id")
                            .from(EmailTokens::Table, EmailTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_user_id")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::UserId)
                    .col(EmailTokens::Purpose)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_expires_at")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum EmailTokens {
    Table,
    TokenHash,
    Purpose,
    UserId,
    Email,
    PasswordStamp,
    CreatedAt,
    ExpiresAt,
}
