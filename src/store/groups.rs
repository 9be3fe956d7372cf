//! Groups, their members, and the groups a client admits.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use super::entities::client_allowed_groups as allowed;
use super::entities::group_members as members;
use super::entities::groups::{self, Column, Entity};
use super::{conflict, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<groups::Model> for Group {
    fn from(m: groups::Model) -> Self {
        Group {
            id: m.id,
            name: m.name,
            description: m.description,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Creates a group; `name` is already case-folded. Conflict if the name is taken.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    description: &str,
    now: i64,
) -> Result<Group, StoreError> {
    let model = groups::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        name: Set(name.to_string()),
        description: Set(description.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| conflict(e, format!("group '{name}'")))?;
    Ok(model.into())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Group>, StoreError> {
    Ok(Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .map(Group::from))
}

/// Renames and re-describes a group if it is still as read (`read_at` is the
/// updated_at it had); None if it changed or went, Conflict if the name is taken.
pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    read_at: i64,
    name: &str,
    description: &str,
    now: i64,
) -> Result<Option<Group>, StoreError> {
    let result = Entity::update_many()
        .col_expr(Column::Name, sea_orm::sea_query::Expr::value(name))
        .col_expr(
            Column::Description,
            sea_orm::sea_query::Expr::value(description),
        )
        // Strictly later, so that a second change is told apart from the first.
        .col_expr(
            Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now.max(read_at + 1)),
        )
        .filter(Column::Id.eq(id))
        .filter(Column::UpdatedAt.eq(read_at))
        .exec(db)
        .await
        .map_err(|e| conflict(e, format!("group '{name}'")))?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

/// How many members each group has, by group id.
pub async fn member_counts(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashMap<String, u64>, StoreError> {
    let rows: Vec<(String, i64)> = members::Entity::find()
        .select_only()
        .column(members::Column::GroupId)
        .column_as(members::Column::UserId.count(), "members")
        .group_by(members::Column::GroupId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, n.max(0) as u64))
        .collect())
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<Group>, StoreError> {
    Ok(Entity::find()
        .filter(Column::Name.eq(name))
        .one(db)
        .await?
        .map(Group::from))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Group>, StoreError> {
    Ok(Entity::find()
        .order_by_asc(Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Group::from)
        .collect())
}

/// Removes a group and its memberships. False if unknown. The caller makes sure no
/// client admits it (the foreign key refuses otherwise).
pub async fn remove(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    let result = Entity::delete_by_id(id.to_string())
        .exec(db)
        .await
        .map_err(|e| match e.sql_err() {
            // A client came to admit it meanwhile.
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                StoreError::Conflict("a client that admits this group".into())
            }
            _ => StoreError::Db(e),
        })?;
    Ok(result.rows_affected > 0)
}

/// Adds a member; false if the user already was one.
pub async fn add_member(
    db: &impl ConnectionTrait,
    group_id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = members::Entity::insert(members::ActiveModel {
        group_id: Set(group_id.to_string()),
        user_id: Set(user_id.to_string()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([members::Column::GroupId, members::Column::UserId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted > 0)
}

/// Removes a member; false if the user was none.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    group_id: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let result = members::Entity::delete_by_id((group_id.to_string(), user_id.to_string()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The user ids of a group's members.
pub async fn member_ids(
    db: &impl ConnectionTrait,
    group_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(members::Entity::find()
        .select_only()
        .column(members::Column::UserId)
        .filter(members::Column::GroupId.eq(group_id))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

async fn by_ids(db: &impl ConnectionTrait, ids: Vec<String>) -> Result<Vec<Group>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .filter(Column::Id.is_in(ids))
        .order_by_asc(Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(Group::from)
        .collect())
}

/// The groups a user is a member of, by name.
pub async fn of_user(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Group>, StoreError> {
    let ids = members::Entity::find()
        .select_only()
        .column(members::Column::GroupId)
        .filter(members::Column::UserId.eq(user_id))
        .into_tuple::<String>()
        .all(db)
        .await?;
    by_ids(db, ids).await
}

/// The names of a user's groups (the `groups` claim), sorted.
pub async fn names_of_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(of_user(db, user_id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect())
}

/// The groups a client admits, by name (empty: every user).
pub async fn allowed_for_client(
    db: &impl ConnectionTrait,
    client_id: &str,
) -> Result<Vec<Group>, StoreError> {
    let ids = allowed::Entity::find()
        .select_only()
        .column(allowed::Column::GroupId)
        .filter(allowed::Column::ClientId.eq(client_id))
        .into_tuple::<String>()
        .all(db)
        .await?;
    by_ids(db, ids).await
}

/// The clients that admit a group.
pub async fn clients_admitting(
    db: &impl ConnectionTrait,
    group_id: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(allowed::Entity::find()
        .select_only()
        .column(allowed::Column::ClientId)
        .filter(allowed::Column::GroupId.eq(group_id))
        .order_by_asc(allowed::Column::ClientId)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// Replaces the groups a client admits (run it in the transaction that writes the
/// client).
pub async fn set_allowed_for_client(
    db: &impl ConnectionTrait,
    client_id: &str,
    group_ids: &[String],
) -> Result<(), StoreError> {
    allowed::Entity::delete_many()
        .filter(allowed::Column::ClientId.eq(client_id))
        .exec(db)
        .await?;
    if group_ids.is_empty() {
        return Ok(());
    }
    allowed::Entity::insert_many(group_ids.iter().map(|group_id| allowed::ActiveModel {
        client_id: Set(client_id.to_string()),
        group_id: Set(group_id.clone()),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether the user may use the client: it admits everyone (no query), or the user
/// is a member of a group it admits.
pub async fn admits(
    db: &impl ConnectionTrait,
    client: &super::clients::Client,
    user_id: &str,
) -> Result<bool, StoreError> {
    if client.allowed_group_ids.is_empty() {
        return Ok(true);
    }
    let member = members::Entity::find()
        .filter(members::Column::UserId.eq(user_id))
        .filter(members::Column::GroupId.is_in(client.allowed_group_ids.clone()))
        .one(db)
        .await?;
    Ok(member.is_some())
}
