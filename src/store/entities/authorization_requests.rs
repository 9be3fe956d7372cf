use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// FK → clients.client_id (ON DELETE CASCADE).
    pub client_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub state: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub login_hint: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub acr_values: Option<String>,
    pub response_mode: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub claims: Option<String>,
    /// The user whose password this request's browser gave, awaiting the second factor.
    pub mfa_user_id: Option<String>,
    /// Hex SHA-256 of the browser-binding cookie of the browser that started it.
    pub browser_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
