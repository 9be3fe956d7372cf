//! `gatehouse group …`.

use clap::Subcommand;
use serde_json::json;

use super::{open_db, print_json, CliError};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::groups;

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group (names are case-folded: Finance and finance are one group).
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        json: bool,
    },
    /// List groups with their member counts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a group and its memberships (refused while a client admits it).
    Remove {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List a group's members.
    Members {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Add a user to a group (seen at the user's next token, a refresh included).
    AddMember {
        group: String,
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Take a user out of a group.
    RemoveMember {
        group: String,
        username: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(config: &Config, command: GroupCommand) -> Result<(), CliError> {
    let db = open_db(config).await?;
    let now = Clock::system().now();
    match command {
        GroupCommand::Add {
            name,
            description,
            json,
        } => {
            let group = groups::create(&db, &name, &description, now).await?;
            let detail = format!("group {}; command line", group.name);
            super::audit(&db, "group_created", None, &detail, now).await?;
            if json {
                print_json(&group)?;
            } else {
                crate::say!("created group {}", group.name);
            }
        }
        GroupCommand::List { json } => {
            let mut listed = Vec::new();
            for group in crate::store::groups::list(&db).await? {
                let members = crate::store::groups::member_ids(&db, &group.id)
                    .await?
                    .len();
                listed.push((group, members));
            }
            if json {
                let items: Vec<_> = listed
                    .iter()
                    .map(|(g, members)| {
                        let mut value = json!(g);
                        value["members"] = json!(members);
                        value
                    })
                    .collect();
                print_json(&items)?;
            } else {
                crate::say!("{:<32} {:>7}  DESCRIPTION", "NAME", "MEMBERS");
                for (g, members) in &listed {
                    crate::say!("{:<32} {:>7}  {}", g.name, members, g.description);
                }
            }
        }
        GroupCommand::Remove { name, json } => {
            let group = groups::find(&db, &name).await?;
            groups::remove(&db, &group).await?;
            let detail = format!("group {}; command line", group.name);
            super::audit(&db, "group_removed", None, &detail, now).await?;
            if json {
                print_json(&json!({ "removed": group.name }))?;
            } else {
                crate::say!("removed group {}", group.name);
            }
        }
        GroupCommand::Members { name, json } => {
            let group = groups::find(&db, &name).await?;
            let members = groups::members(&db, &group).await?;
            if json {
                let items: Vec<_> = members
                    .iter()
                    .map(|u| json!({ "id": u.id, "username": u.username }))
                    .collect();
                print_json(&items)?;
            } else {
                for user in &members {
                    crate::say!("{}", user.username);
                }
            }
        }
        GroupCommand::AddMember {
            group,
            username,
            json,
        } => {
            let group = groups::find(&db, &group).await?;
            let user = groups::user_named(&db, &username).await?;
            let added = groups::add_member(&db, &group, &user, now).await?;
            if added {
                let detail = format!(
                    "{} added to group {}; command line",
                    user.username, group.name
                );
                super::audit(&db, "group_member_added", Some(&user.id), &detail, now).await?;
            }
            let (group, user) = (group.name, user.username);
            if json {
                print_json(&json!({ "group": group, "username": user, "added": added }))?;
            } else if added {
                crate::say!("added {user} to {group}");
            } else {
                crate::say!("{user} already is a member of {group}");
            }
        }
        GroupCommand::RemoveMember {
            group,
            username,
            json,
        } => {
            let group = groups::find(&db, &group).await?;
            let user = groups::user_named(&db, &username).await?;
            let removed = groups::remove_member(&db, &group, &user).await?;
            if removed {
                let detail = format!(
                    "{} removed from group {}; command line",
                    user.username, group.name
                );
                super::audit(&db, "group_member_removed", Some(&user.id), &detail, now).await?;
            }
            let (group, user) = (group.name, user.username);
            if json {
                print_json(&json!({ "group": group, "username": user, "removed": removed }))?;
            } else if removed {
                crate::say!("removed {user} from {group}");
            } else {
                crate::say!("{user} was not a member of {group}");
            }
        }
    }
    Ok(())
}
