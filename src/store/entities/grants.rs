use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// FK → users.id (ON DELETE CASCADE).
    pub user_id: String,
    /// FK → clients.client_id (ON DELETE CASCADE).
    pub client_id: String,
    /// FK → sessions.id (ON DELETE SET NULL).
    pub session_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub scope: String,
    pub auth_time: i64,
    #[sea_orm(column_type = "Text")]
    pub amr: String,
    pub acr: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub claims: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id"
    )]
    User,
    #[sea_orm(
        belongs_to = "super::sessions::Entity",
        from = "Column::SessionId",
        to = "super::sessions::Column::Id"
    )]
    Session,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
