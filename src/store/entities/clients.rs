use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    pub name: String,
    /// `None` = public client.
    pub secret_hash: Option<String>,
    /// JSON array.
    #[sea_orm(column_type = "Text")]
    pub redirect_uris: String,
    /// JSON array.
    #[sea_orm(column_type = "Text")]
    pub post_logout_redirect_uris: String,
    /// JSON array.
    #[sea_orm(column_type = "Text")]
    pub grant_types: String,
    /// JSON array of scopes allowed with client_credentials.
    #[sea_orm(column_type = "Text")]
    pub allowed_scopes: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub backchannel_logout_uri: Option<String>,
    pub token_endpoint_auth_method: String,
    /// The digest of the secret before the last rotation, while it still works.
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    /// When the registration last changed (0: never since it was created).
    pub updated_at: i64,
    pub id_token_signed_response_alg: String,
    pub skip_consent: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
