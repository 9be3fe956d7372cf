use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_users::Users;
use super::m20261123_000002_create_clients::Clients;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Groups of users, their members, and the groups a client admits (none: everyone).
/// A group a client admits cannot be removed while it does (RESTRICT): removing it
/// would silently open the client to every user.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(string(Groups::Id).primary_key())
                    // Case-folded by the application; unique as stored.
                    .col(string_uniq(Groups::Name))
                    .col(text(Groups::Description))
                    .col(big_integer(Groups::CreatedAt))
                    .col(big_integer(Groups::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(string(GroupMembers::GroupId))
                    .col(string(GroupMembers::UserId))
                    .col(big_integer(GroupMembers::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_group_members")
                            .col(GroupMembers::GroupId)
                            .col(GroupMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_group_id")
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_user_id")
                            .from(GroupMembers::Table, GroupMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's groups are read at every token issue.
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_user_id")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClientAllowedGroups::Table)
                    .col(string(ClientAllowedGroups::ClientId))
                    .col(string(ClientAllowedGroups::GroupId))
                    .primary_key(
                        Index::create()
                            .name("pk_client_allowed_groups")
                            .col(ClientAllowedGroups::ClientId)
                            .col(ClientAllowedGroups::GroupId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_allowed_groups_client_id")
                            .from(ClientAllowedGroups::Table, ClientAllowedGroups::ClientId)
                            .to(Clients::Table, Clients::ClientId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_allowed_groups_group_id")
                            .from(ClientAllowedGroups::Table, ClientAllowedGroups::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ClientAllowedGroups::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            Groups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Groups {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum GroupMembers {
    Table,
    GroupId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum ClientAllowedGroups {
    Table,
    ClientId,
    GroupId,
}
