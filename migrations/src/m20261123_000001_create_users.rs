use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(string(Users::Id).primary_key())
                    // The application stores usernames lower-cased.
                    .col(string_uniq(Users::Username))
                    .col(string_null(Users::Email))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(string_null(Users::Name))
                    .col(string_null(Users::PhoneNumber))
                    .col(boolean(Users::PhoneNumberVerified).default(false))
                    // The postal address as one formatted text (OIDC Core §5.1.1).
                    .col(text_null(Users::Address))
                    // PHC string; NULL = no local password.
                    .col(text_null(Users::PasswordHash))
                    .col(boolean(Users::Disabled).default(false))
                    // TOTP secret sealed with the master key; the last accepted time step
                    // (RFC 6238 §5.2: a code is accepted once).
                    .col(text_null(Users::TotpSecret))
                    .col(big_integer_null(Users::TotpLastStep))
                    // optional | required; NULL follows GATEHOUSE_MFA_POLICY.
                    .col(string_null(Users::MfaPolicy))
                    .col(big_integer(Users::CreatedAt))
                    .col(big_integer(Users::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Username,
    Email,
    EmailVerified,
    Name,
    PhoneNumber,
    PhoneNumberVerified,
    Address,
    PasswordHash,
    Disabled,
    TotpSecret,
    TotpLastStep,
    MfaPolicy,
    CreatedAt,
    UpdatedAt,
}
