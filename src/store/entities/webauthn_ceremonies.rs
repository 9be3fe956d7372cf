use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    /// SHA-256 of the random id the page carries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// `register`, `signin`, `second_factor` or `confirm`.
    pub purpose: String,
    /// The user a registration or a second-factor check is for.
    pub user_id: Option<String>,
    /// The pending authorization request a sign-in belongs to.
    pub request_id: Option<String>,
    /// Hash of the binding cookie of the browser that started it.
    pub browser_hash: String,
    /// webauthn-rs-core's registration or authentication state, as JSON.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
