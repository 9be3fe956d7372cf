use sea_orm::entity::prelude::*;

/// One link of a refresh-token chain. Only the token's hash is stored. A token is
/// rotated when a row names it as parent (unique: one successor per token); that
/// successor is also stored sealed under a key derived from its parent, so only a
/// holder of the parent can recover it (for the grace-window replay).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// FK → grants.id (ON DELETE CASCADE).
    pub grant_id: String,
    pub client_id: String,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    pub parent_hash: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Set only on rows rotated before rotation became a single insert (the
    /// successor row records the rotation now).
    pub used_at: Option<i64>,
    pub successor_hash: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub successor_sealed: Option<String>,
    /// This token sealed under its parent token.
    #[sea_orm(column_type = "Text", nullable)]
    pub sealed_by_parent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
