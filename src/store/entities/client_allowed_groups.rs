use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_allowed_groups")]
pub struct Model {
    /// FK → clients.client_id (ON DELETE CASCADE).
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    /// FK → groups.id (ON DELETE RESTRICT: a group in use is not removed).
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
