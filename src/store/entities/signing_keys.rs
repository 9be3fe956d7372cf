use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub alg: String,
    /// 1, 2, 3… per algorithm; unique with `alg`.
    pub generation: i64,
    /// One of `next`, `current`, `retired`, `removed`.
    pub state: String,
    /// PKCS#8 PEM sealed with the master key; empty once removed.
    #[sea_orm(column_type = "Text")]
    pub private_key: String,
    /// JWK as JSON.
    #[sea_orm(column_type = "Text")]
    pub public_jwk: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
