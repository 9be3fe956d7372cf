use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// FK → users.id (ON DELETE CASCADE).
    pub user_id: String,
    /// base64url (no padding) of the WebAuthn credential id; unique.
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs-core's `Credential` as JSON: the public key and its state.
    pub credential: String,
    /// The signature counter last seen (WebAuthn §6.1.1).
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    /// The last use verified the user (PIN or biometrics).
    pub user_verified: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
