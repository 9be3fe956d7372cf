//! /admin/groups: create, rename and describe groups; their members.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;

use super::{
    confirmed, done, failed, render, ActionForm, Admin, Chrome, ConfirmPage, NoticeQuery, Outcome,
};
use crate::domain::groups as rules;
use crate::state::AppState;
use crate::store::groups::{self, Group};
use crate::store::users::User;

fn group_path(group: &Group) -> String {
    format!("/admin/groups/{}", group.id)
}

fn admin_group_kept(what: &str) -> super::Failure {
    crate::domain::Refusal::Conflict(format!(
        "the admin group (GATEHOUSE_ADMIN_GROUP) cannot be {what} here: the console would \
         refuse everyone"
    ))
    .into()
}

pub struct GroupLine {
    pub group: Group,
    pub members: u64,
}

#[derive(Template)]
#[template(path = "console/groups.html")]
pub struct GroupsPage {
    pub chrome: Chrome,
    pub groups: Vec<GroupLine>,
    pub admin_group: String,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let counts = groups::member_counts(&state.db).await?;
        let lines = groups::list(&state.db)
            .await?
            .into_iter()
            .map(|group| GroupLine {
                members: counts.get(&group.id).copied().unwrap_or(0),
                group,
            })
            .collect();
        let page = GroupsPage {
            chrome: admin.chrome("groups", q.text()),
            groups: lines,
            admin_group: state.config.admin_group.clone(),
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin", f))
}

#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// The group's `updated_at` when the form was shown (edits only).
    #[serde(default)]
    version: i64,
}

pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Form(form): Form<GroupForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let group =
            rules::create(&state.db, &form.name, form.description.trim(), state.now()).await?;
        let detail = format!("group {}", group.name);
        admin
            .audit(&state, "group_created", None, None, &detail)
            .await?;
        Ok(done(&group_path(&group), "created"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/groups", f))
}

#[derive(Template)]
#[template(path = "console/group.html")]
pub struct GroupPage {
    pub chrome: Chrome,
    pub group: Group,
    pub members: Vec<User>,
    pub is_admin_group: bool,
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let group = rules::find_by_id(&state.db, &id).await?;
        let page = GroupPage {
            chrome: admin.chrome("groups", q.text()),
            members: rules::members(&state.db, &group).await?,
            is_admin_group: group.name == state.config.admin_group,
            group,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/groups", f))
}

pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<GroupForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let mut read = rules::find_by_id(&state.db, &id).await?;
        let before = read.name.clone();
        // The console locks no one out of itself.
        if before == state.config.admin_group && form.name.trim() != before {
            return Err(admin_group_kept("renamed"));
        }
        // As the form showed it: a change made meanwhile is not overwritten (412).
        read.updated_at = form.version;
        let group = rules::update(
            &state.db,
            &read,
            Some(&form.name),
            Some(form.description.trim()),
            state.now(),
        )
        .await?;
        let detail = if before == group.name {
            format!("group {}: description", group.name)
        } else {
            format!("group {before} renamed {}", group.name)
        };
        admin
            .audit(&state, "group_updated", None, None, &detail)
            .await?;
        Ok(done(&group_path(&group), "saved"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/groups/{id}"), f))
}

pub async fn add_member(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let group = rules::find_by_id(&state.db, &id).await?;
        let user = rules::user_named(&state.db, form.username.trim())
            .await
            .map_err(|r| match r {
                crate::domain::Refusal::NotFound(m) => {
                    crate::domain::Refusal::invalid("username", m)
                }
                other => other,
            })?;
        if rules::add_member(&state.db, &group, &user, state.now()).await? {
            let detail = format!("user {} added to group {}", user.username, group.name);
            admin
                .audit(&state, "group_member_added", Some(&user.id), None, &detail)
                .await?;
        }
        Ok(done(&group_path(&group), "member-added"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/groups/{id}"), f))
}

pub async fn remove_member(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let group = rules::find_by_id(&state.db, &id).await?;
        let user = rules::user_named(&state.db, form.username.trim()).await?;
        if !confirmed(&form.confirmed) {
            let yourself = user.id == admin.user.id && group.name == state.config.admin_group;
            return Ok(render(
                &admin,
                &ConfirmPage {
                    chrome: admin.chrome("groups", None),
                    title: format!("Take {} out of {}?", user.username, group.name),
                    consequence: if yourself {
                        "You will no longer be an administrator: this console will refuse you."
                            .to_string()
                    } else {
                        format!(
                            "Applications that admit only members of {} refuse {}'s next \
                             sign-in and refresh.",
                            group.name, user.username
                        )
                    },
                    action: format!("{}/members/remove", group_path(&group)),
                    fields: vec![("username".into(), user.username.clone())],
                    button: "Take out of group".into(),
                    cancel: group_path(&group),
                },
            ));
        }
        if rules::remove_member(&state.db, &group, &user).await? {
            let detail = format!("user {} removed from group {}", user.username, group.name);
            admin
                .audit(
                    &state,
                    "group_member_removed",
                    Some(&user.id),
                    None,
                    &detail,
                )
                .await?;
        }
        Ok(done(&group_path(&group), "member-removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/groups/{id}"), f))
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let outcome: Outcome = async {
        admin.check_csrf(&state, &form.csrf)?;
        let group = rules::find_by_id(&state.db, &id).await?;
        if group.name == state.config.admin_group {
            return Err(admin_group_kept("deleted"));
        }
        if !confirmed(&form.confirmed) {
            return Ok(render(
                &admin,
                &ConfirmPage {
                    chrome: admin.chrome("groups", None),
                    title: format!("Delete group {}?", group.name),
                    consequence: format!(
                        "The group and its memberships are removed; members lose the \
                         \"{}\" value of their groups claim at their next token.",
                        group.name
                    ),
                    action: format!("{}/delete", group_path(&group)),
                    fields: vec![],
                    button: "Delete group".into(),
                    cancel: group_path(&group),
                },
            ));
        }
        rules::remove(&state.db, &group).await?;
        let detail = format!("group {}", group.name);
        admin
            .audit(&state, "group_removed", None, None, &detail)
            .await?;
        Ok(done("/admin/groups", "removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &format!("/admin/groups/{id}"), f))
}
