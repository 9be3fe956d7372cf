//! /admin/applications: the OAuth clients. Create (a generated secret is shown
//! once), edit redirect URIs and settings, rotate the secret, delete.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use super::{
    confirmed, done, failed, lines, optional, render, render_status, words, Admin, Chrome,
    ConfirmPage, Failure, NoticeQuery, Outcome,
};
use crate::auth_method::AuthMethod;
use crate::domain::clients::{self as rules, ClientChanges, ClientView, Registration, Secret};
use crate::domain::Refusal;
use crate::grant_type::GrantType;
use crate::state::AppState;
use crate::store::groups::{self, Group};
use crate::web::page::display_time;

fn app_path(client_id: &str) -> String {
    format!(
        "/admin/applications/{}",
        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
    )
}

/// A posted form as its name/value pairs: checkbox lists repeat a name.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

#[derive(Template)]
#[template(path = "console/applications.html")]
pub struct ApplicationsPage {
    pub chrome: Chrome,
    pub clients: Vec<ClientView>,
}

pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let page = ApplicationsPage {
            chrome: admin.chrome("applications", q.text()),
            clients: rules::list(&state.db).await?,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin", f))
}

/// A grant type offered as a checkbox.
pub struct GrantChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn grant_choices(chosen: &[String]) -> Vec<GrantChoice> {
    GrantType::ALL
        .iter()
        .map(|g| GrantChoice {
            value: g.as_str(),
            label: match g {
                GrantType::AuthorizationCode => "Authorization code (people sign in)",
                GrantType::RefreshToken => "Refresh token",
                GrantType::ClientCredentials => "Client credentials (machine to machine)",
            },
            checked: chosen.iter().any(|c| c == g.as_str()),
        })
        .collect()
}

/// A group offered as a checkbox.
pub struct GroupChoice {
    pub name: String,
    pub checked: bool,
}

fn group_choices(all: Vec<Group>, chosen: &[String]) -> Vec<GroupChoice> {
    all.into_iter()
        .map(|g| GroupChoice {
            checked: chosen.contains(&g.name),
            name: g.name,
        })
        .collect()
}

/// The settings a new and an existing application share, as the form shows them.
pub struct Settings {
    pub name: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub scopes: String,
    pub skip_consent: bool,
    pub backchannel_logout_uri: String,
    pub grants: Vec<GrantChoice>,
    pub groups: Vec<GroupChoice>,
}

#[derive(Template)]
#[template(path = "console/application_new.html")]
pub struct NewApplicationPage {
    pub chrome: Chrome,
    pub settings: Settings,
}

pub async fn new_form(admin: Admin, State(state): State<AppState>) -> Response {
    let outcome: Outcome = async {
        let defaults: Vec<String> = GrantType::DEFAULT
            .iter()
            .map(|g| g.as_str().to_string())
            .collect();
        let page = NewApplicationPage {
            chrome: admin.chrome("applications", None),
            settings: Settings {
                name: String::new(),
                redirect_uris: String::new(),
                post_logout_redirect_uris: String::new(),
                scopes: String::new(),
                skip_consent: false,
                backchannel_logout_uri: String::new(),
                grants: grant_choices(&defaults),
                groups: group_choices(groups::list(&state.db).await?, &[]),
            },
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/applications", f))
}

/// A secret, once: after creation or rotation.
#[derive(Template)]
#[template(path = "console/secret.html")]
pub struct SecretPage {
    pub chrome: Chrome,
    pub client_id: String,
    pub secret: String,
    pub path: String,
    /// When the previous secret stops working, after a rotation with overlap.
    pub previous_until: Option<String>,
}

pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = Fields(fields);
    let outcome: Outcome = async {
        admin.check_csrf(&state, form.get("csrf"))?;
        let public = form.get("kind") == "public";
        let auth_method = match (public, form.get("auth_method")) {
            (true, _) | (false, "") => None,
            (false, method) => Some(
                AuthMethod::parse_registrable(method)
                    .map_err(|m| Refusal::invalid("auth_method", m))?,
            ),
        };
        let registered = rules::register(
            &state.db,
            state.keys.client_secrets(),
            Registration {
                client_id: form.get("client_id").trim().to_string(),
                name: optional(form.get("name")),
                redirect_uris: lines(form.get("redirect_uris")),
                post_logout_redirect_uris: lines(form.get("post_logout_redirect_uris")),
                secret: (!public).then_some(Secret::Generate),
                auth_method,
                grant_types: form.all("grant_types"),
                scopes: words(form.get("scopes")),
                allowed_groups: form.all("allowed_groups"),
                backchannel_logout_uri: optional(form.get("backchannel_logout_uri")),
                id_token_alg: None,
                skip_consent: form.has("skip_consent"),
            },
            state.now(),
        )
        .await?;
        let client_id = registered.view.client.client_id.clone();
        admin
            .audit(
                &state,
                "client_created",
                None,
                Some(&client_id),
                &format!("client {client_id}"),
            )
            .await?;
        let Some(secret) = registered.generated_secret else {
            return Ok(done(&app_path(&client_id), "created"));
        };
        let page = SecretPage {
            chrome: admin.chrome("applications", Some("Created.")),
            path: app_path(&client_id),
            client_id,
            secret,
            previous_until: None,
        };
        Ok(render_status(&admin, StatusCode::CREATED, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/applications/new", f))
}

#[derive(Template)]
#[template(path = "console/application.html")]
pub struct ApplicationPage {
    pub chrome: Chrome,
    pub client: ClientView,
    pub public: bool,
    pub created: String,
    pub settings: Settings,
    pub path: String,
    pub overlap: u64,
}

async fn find(state: &AppState, client_id: &str) -> Result<ClientView, Failure> {
    Ok(rules::show(&state.db, client_id).await?)
}

pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let outcome: Outcome = async {
        let view = find(&state, &client_id).await?;
        let c = &view.client;
        let page = ApplicationPage {
            chrome: admin.chrome("applications", q.text()),
            public: c.is_public(),
            created: display_time(c.created_at),
            settings: Settings {
                name: c.name.clone(),
                redirect_uris: c.redirect_uris.join("\n"),
                post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
                scopes: c.allowed_scopes.join(" "),
                skip_consent: c.skip_consent,
                backchannel_logout_uri: c.backchannel_logout_uri.clone().unwrap_or_default(),
                grants: grant_choices(&c.grant_types),
                groups: group_choices(groups::list(&state.db).await?, &view.allowed_groups),
            },
            path: app_path(&c.client_id),
            overlap: state.config.client_secret_overlap,
            client: view,
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, "/admin/applications", f))
}

pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = Fields(fields);
    let back = app_path(&client_id);
    let outcome: Outcome = async {
        admin.check_csrf(&state, form.get("csrf"))?;
        let view = find(&state, &client_id).await?;
        // As the form showed it: a change made meanwhile is not overwritten (412).
        let mut read = view.client.clone();
        read.updated_at = form.get("version").parse().unwrap_or(-1);
        let changes = ClientChanges {
            name: Some(form.get("name").trim().to_string()),
            redirect_uris: Some(lines(form.get("redirect_uris"))),
            post_logout_redirect_uris: Some(lines(form.get("post_logout_redirect_uris"))),
            grant_types: Some(form.all("grant_types")),
            scopes: Some(words(form.get("scopes"))),
            allowed_groups: Some(form.all("allowed_groups")),
            skip_consent: Some(form.has("skip_consent")),
            id_token_alg: None,
            backchannel_logout_uri: Some(optional(form.get("backchannel_logout_uri"))),
        };
        let c = &view.client;
        let changed: Vec<&str> = [
            ("name", changes.name.as_ref() != Some(&c.name)),
            (
                "redirect_uris",
                changes.redirect_uris.as_ref() != Some(&c.redirect_uris),
            ),
            (
                "post_logout_redirect_uris",
                changes.post_logout_redirect_uris.as_ref() != Some(&c.post_logout_redirect_uris),
            ),
            (
                "grant_types",
                changes.grant_types.as_ref() != Some(&c.grant_types),
            ),
            ("scopes", changes.scopes.as_ref() != Some(&c.allowed_scopes)),
            (
                "allowed_groups",
                changes.allowed_groups.as_ref() != Some(&view.allowed_groups),
            ),
            ("skip_consent", changes.skip_consent != Some(c.skip_consent)),
            (
                "backchannel_logout_uri",
                changes.backchannel_logout_uri.as_ref() != Some(&c.backchannel_logout_uri),
            ),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect();
        rules::update(&state.db, &read, changes, state.now()).await?;
        state.clients.forget(&client_id);
        let detail = format!(
            "client {client_id}: {}",
            if changed.is_empty() {
                "nothing".to_string()
            } else {
                changed.join(", ")
            }
        );
        admin
            .audit(&state, "client_updated", None, Some(&client_id), &detail)
            .await?;
        Ok(done(&app_path(&client_id), "saved"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &back, f))
}

pub async fn rotate_secret(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = Fields(fields);
    let back = app_path(&client_id);
    let outcome: Outcome = async {
        admin.check_csrf(&state, form.get("csrf"))?;
        let view = find(&state, &client_id).await?;
        let overlap = state.config.client_secret_overlap;
        if !confirmed(form.get("confirmed")) {
            return Ok(render(
                &admin,
                &ConfirmPage {
                    chrome: admin.chrome("applications", None),
                    title: format!("Rotate the secret of {}?", view.client.name),
                    consequence: if overlap > 0 {
                        format!(
                            "A new secret is generated and shown once. The current one keeps \
                             working for {overlap} seconds (GATEHOUSE_CLIENT_SECRET_OVERLAP)."
                        )
                    } else {
                        "A new secret is generated and shown once. The current secret stops \
                         working now: the application fails to sign people in until it has \
                         the new one."
                            .to_string()
                    },
                    action: format!("{back}/rotate-secret"),
                    fields: vec![],
                    button: "Rotate secret".into(),
                    cancel: back.clone(),
                },
            ));
        }
        let now = state.now();
        let secret = rules::rotate_secret(
            &state.db,
            state.keys.client_secrets(),
            &client_id,
            overlap,
            now,
        )
        .await?;
        state.clients.forget(&client_id);
        let detail = format!("secret of client {client_id} rotated (overlap {overlap} s)");
        admin
            .audit(
                &state,
                "client_secret_rotated",
                None,
                Some(&client_id),
                &detail,
            )
            .await?;
        let page = SecretPage {
            chrome: admin.chrome("applications", Some("The secret is rotated.")),
            client_id: client_id.clone(),
            secret,
            path: back.clone(),
            previous_until: (overlap > 0).then(|| display_time(now + overlap as i64)),
        };
        Ok(render(&admin, &page))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &back, f))
}

pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = Fields(fields);
    let back = app_path(&client_id);
    let outcome: Outcome = async {
        admin.check_csrf(&state, form.get("csrf"))?;
        let view = find(&state, &client_id).await?;
        if !confirmed(form.get("confirmed")) {
            return Ok(render(
                &admin,
                &ConfirmPage {
                    chrome: admin.chrome("applications", None),
                    title: format!("Delete {}?", view.client.name),
                    consequence: format!(
                        "The application {client_id} is removed with every grant, code, \
                         consent and token issued to it. People can no longer sign in to it. \
                         This cannot be undone."
                    ),
                    action: format!("{back}/delete"),
                    fields: vec![],
                    button: "Delete application".into(),
                    cancel: back.clone(),
                },
            ));
        }
        rules::remove(&state.db, &client_id).await?;
        state.clients.forget(&client_id);
        admin
            .audit(
                &state,
                "client_removed",
                None,
                Some(&client_id),
                &format!("client {client_id}"),
            )
            .await?;
        Ok(done("/admin/applications", "removed"))
    }
    .await;
    outcome.unwrap_or_else(|f| failed(&admin, &back, f))
}
