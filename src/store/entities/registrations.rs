use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registrations")]
pub struct Model {
    /// SHA-256 of the random token the mailed link carries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// Case-folded, as accounts store it.
    pub username: String,
    pub email: String,
    /// argon2id of the password chosen at sign-up.
    pub password_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
