use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    /// FK → users.id (ON DELETE CASCADE).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// FK → clients.client_id (ON DELETE CASCADE).
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
