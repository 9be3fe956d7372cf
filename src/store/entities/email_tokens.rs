use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    /// SHA-256 of the random token the mailed link carries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// `verify_email`, `reset_password` or `invitation`.
    pub purpose: String,
    pub user_id: String,
    /// The address the link was mailed to.
    pub email: String,
    /// Digest of the user's password hash when the link was made.
    pub password_stamp: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
