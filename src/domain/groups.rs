//! Groups and memberships: the rules the command line, the admin API and the
//! console share.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::Refusal;
use crate::store::groups::{self, Group};
use crate::store::users::{self, User};

/// The longest group name.
pub const MAX_NAME_LEN: usize = 64;

/// A group name as stored: case-folded (`Finance` and `finance` are one group), 1–64
/// of a-z 0-9 - _ . : (it travels in the `groups` claim, where applications compare
/// it as a string).
pub fn fold_name(name: &str) -> Result<String, Refusal> {
    let folded = name.trim().to_lowercase();
    let valid = !folded.is_empty()
        && folded.len() <= MAX_NAME_LEN
        && folded
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.:".contains(&b));
    if !valid {
        return Err(Refusal::invalid(
            "name",
            format!("'{name}' is not a group name: use 1 to {MAX_NAME_LEN} of a-z 0-9 - _ . :"),
        ));
    }
    Ok(folded)
}

pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    description: &str,
    now: i64,
) -> Result<Group, Refusal> {
    let name = fold_name(name)?;
    check_description(description)?;
    Ok(groups::create(db, &name, description, now).await?)
}

/// The group called `name` (any case).
pub async fn find(db: &impl ConnectionTrait, name: &str) -> Result<Group, Refusal> {
    let folded = fold_name(name)?;
    groups::find_by_name(db, &folded)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no group '{folded}'")))
}

/// Removes a group and its memberships; refused while a client admits it, since
/// removing it would open that client to every user.
pub async fn remove(db: &DatabaseConnection, group: &Group) -> Result<(), Refusal> {
    let txn = db.begin().await?;
    let admitting = groups::clients_admitting(&txn, &group.id).await?;
    if !admitting.is_empty() {
        return Err(Refusal::Conflict(format!(
            "group '{}' is an allowed group of {}: take it off there first",
            group.name,
            admitting
                .iter()
                .map(|c| format!("client '{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    groups::remove(&txn, &group.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The user called `username`.
pub async fn user_named(db: &impl ConnectionTrait, username: &str) -> Result<User, Refusal> {
    users::find_by_username(db, username)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no user '{username}'")))
}

/// The group with this id.
pub async fn find_by_id(db: &impl ConnectionTrait, id: &str) -> Result<Group, Refusal> {
    groups::find(db, id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no group '{id}'")))
}

/// Adds the user to the group; false if already a member. Seen at the user's next
/// token (a refresh included).
pub async fn add_member(
    db: &impl ConnectionTrait,
    group: &Group,
    user: &User,
    now: i64,
) -> Result<bool, Refusal> {
    Ok(groups::add_member(db, &group.id, &user.id, now).await?)
}

/// Takes the user out of the group; false if not a member. Clients that admit only
/// this group refuse the user's next sign-in and refresh.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    group: &Group,
    user: &User,
) -> Result<bool, Refusal> {
    Ok(groups::remove_member(db, &group.id, &user.id).await?)
}

/// A group's members, by username.
pub async fn members(db: &impl ConnectionTrait, group: &Group) -> Result<Vec<User>, Refusal> {
    let ids = groups::member_ids(db, &group.id).await?;
    let mut found = users::find_many(db, ids).await?;
    found.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(found)
}

/// Changes a group's name and description, if it is still as `group` was read. The
/// new name must be free. A rename changes the `groups` claim of every member at their next token.
pub async fn update(
    db: &DatabaseConnection,
    group: &Group,
    name: Option<&str>,
    description: Option<&str>,
    now: i64,
) -> Result<Group, Refusal> {
    let name = match name {
        Some(name) => fold_name(name)?,
        None => group.name.clone(),
    };
    let description = description.unwrap_or(&group.description);
    check_description(description)?;
    groups::update(db, &group.id, group.updated_at, &name, description, now)
        .await?
        .ok_or_else(|| {
            Refusal::Stale(format!(
                "group '{}' changed or went meanwhile: read it again",
                group.name
            ))
        })
}

fn check_description(description: &str) -> Result<(), Refusal> {
    if description.chars().count() > 1024 || description.chars().any(char::is_control) {
        return Err(Refusal::invalid(
            "description",
            "a description has at most 1024 characters and no control characters",
        ));
    }
    Ok(())
}

/// Makes the user an administrator: a member of the admin group, which is created
/// if there is none yet (the first admin). Returns whether the group was created.
pub async fn make_admin(
    db: &DatabaseConnection,
    admin_group: &str,
    user: &User,
    now: i64,
) -> Result<bool, Refusal> {
    let folded = fold_name(admin_group)?;
    let txn = db.begin().await?;
    let (group, created) = match groups::find_by_name(&txn, &folded).await? {
        Some(group) => (group, false),
        None => (
            create(&txn, &folded, "Administrators of Gatehouse", now).await?,
            true,
        ),
    };
    groups::add_member(&txn, &group.id, &user.id, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Whether the user is a member of the group called `name` (false if there is none).
pub async fn is_member(
    db: &impl ConnectionTrait,
    name: &str,
    user_id: &str,
) -> Result<bool, Refusal> {
    Ok(groups::names_of_user(db, user_id)
        .await?
        .iter()
        .any(|g| g == name))
}

/// The scope a person's grant may carry: the admin API's scopes only while they are
/// in the admin group.
pub async fn scope_for_user(
    db: &impl ConnectionTrait,
    admin_group: &str,
    user_id: &str,
    scope: &str,
) -> Result<String, Refusal> {
    let values = crate::scope::Scopes::parse(scope);
    if !values.iter().any(crate::scope::is_admin) || is_member(db, admin_group, user_id).await? {
        return Ok(values.iter().collect::<Vec<_>>().join(" "));
    }
    Ok(values
        .iter()
        .filter(|s| !crate::scope::is_admin(s))
        .collect::<Vec<_>>()
        .join(" "))
}

/// Resolves group names to ids, all or none (an unknown name is refused).
pub async fn ids_of(
    db: &impl ConnectionTrait,
    field: &'static str,
    names: &[String],
) -> Result<Vec<String>, Refusal> {
    let mut ids = Vec::new();
    for name in names {
        let folded = fold_name(name).map_err(|r| r.for_field(field))?;
        let group = groups::find_by_name(db, &folded).await?.ok_or_else(|| {
            Refusal::invalid(field, format!("no group '{folded}': create it first"))
        })?;
        if !ids.contains(&group.id) {
            ids.push(group.id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_folded_and_plain() {
        assert_eq!(fold_name("Finance").unwrap(), "finance");
        assert_eq!(fold_name(" k8s-admins ").unwrap(), "k8s-admins");
        assert_eq!(fold_name("team.ops:eu_1").unwrap(), "team.ops:eu_1");
        for bad in ["", " ", "a b", "a/b", "naïve", "x\u{0}", &"a".repeat(65)] {
            assert!(fold_name(bad).is_err(), "{bad:?}");
        }
        assert!(fold_name(&"a".repeat(64)).is_ok());
    }
}
