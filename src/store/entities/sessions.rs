use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// The public OIDC `sid`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Hex SHA-256 of the cookie value.
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// FK → users.id (ON DELETE CASCADE).
    pub user_id: String,
    pub auth_time: i64,
    /// JSON array.
    #[sea_orm(column_type = "Text")]
    pub amr: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// When the user last re-authenticated in this session ("confirm it's you").
    pub confirmed_at: Option<i64>,
    /// The client address the session was started from.
    pub ip: Option<String>,
    /// The User-Agent it was started with (at most 256 characters).
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
