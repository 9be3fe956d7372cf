use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Stored lower-cased by the application.
    #[sea_orm(unique)]
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub address: Option<String>,
    /// PHC string.
    #[sea_orm(column_type = "Text", nullable)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub mfa_policy: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::grants::Entity")]
    Grant,
}

impl Related<super::grants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
