//! The admin API over HTTP: Gatehouse's own tokens, RFC 9457 problems, ETags, and
//! every operation of groups, clients, users, audit events and keys.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A client that may administer (and one that may only read), and their tokens.
struct Admin {
    server: TestServer,
    write: String,
    read: String,
}

async fn token_for(server: &TestServer, client_id: &str, scope: &str) -> String {
    let (status, _, body) = token_request(
        server,
        Some((client_id, SECRET)),
        &[("grant_type", "client_credentials"), ("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn admin() -> Admin {
    let server = TestServer::start().await;
    let mut ops = client("ops-bot", false, true, &["client_credentials"]);
    ops.allowed_scopes = vec!["gatehouse:admin".into(), "gatehouse:admin.read".into()];
    server.register(&ops).await;
    let write = token_for(&server, "ops-bot", "gatehouse:admin").await;
    let read = token_for(&server, "ops-bot", "gatehouse:admin.read").await;
    Admin {
        server,
        write,
        read,
    }
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Admin {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Answer {
        let url = self.server.url(&format!("/admin/api/v1{path}"));
        let mut request = reqwest::Client::new().request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        if !status.is_success() {
            assert_eq!(
                headers["content-type"], "application/problem+json",
                "{status}: {text}"
            );
        }
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(reqwest::Method::GET, path, Some(&self.write), None, None)
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(
            reqwest::Method::POST,
            path,
            Some(&self.write),
            Some(body),
            None,
        )
        .await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(reqwest::Method::DELETE, path, Some(&self.write), None, None)
            .await
    }
}

fn assert_problem(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.body["type"],
        format!("urn:gatehouse:problem:{kind}"),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["status"], status);
    assert!(answer.body["title"].is_string() && answer.body["detail"].is_string());
}

#[tokio::test]
async fn only_gatehouse_tokens_with_an_admin_scope_get_in() {
    let admin = admin().await;
    let get = reqwest::Method::GET;

    // No token: 401 with a bare challenge (RFC 6750 §3.1).
    let answer = admin.call(get.clone(), "/groups", None, None, None).await;
    assert_problem(&answer, 401, "unauthorized");
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"gatehouse\""
    );

    // A forged or foreign token: 401 invalid_token.
    let answer = admin
        .call(get.clone(), "/groups", Some("not.a.token"), None, None)
        .await;
    assert_problem(&answer, 401, "unauthorized");
    let challenge = answer.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    // A token without an admin scope: 403 insufficient_scope.
    let mut plain = client("plain", false, true, &["client_credentials"]);
    plain.allowed_scopes = vec!["orders:read".into()];
    admin.server.register(&plain).await;
    let token = token_for(&admin.server, "plain", "orders:read").await;
    let answer = admin
        .call(get.clone(), "/groups", Some(&token), None, None)
        .await;
    assert_problem(&answer, 403, "insufficient-scope");
    let challenge = answer.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"gatehouse:admin.read\""),
        "{challenge}"
    );

    // The read scope reads, and may not write.
    let answer = admin
        .call(get.clone(), "/groups", Some(&admin.read), None, None)
        .await;
    assert_eq!(answer.status, 200);
    let answer = admin
        .call(
            reqwest::Method::POST,
            "/groups",
            Some(&admin.read),
            Some(json!({"name": "x"})),
            None,
        )
        .await;
    assert_problem(&answer, 403, "insufficient-scope");

    // A revoked token stops working at once.
    let response = reqwest::Client::new()
        .post(admin.server.url("/revoke"))
        .basic_auth("ops-bot", Some(SECRET))
        .form(&[("token", admin.read.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer = admin
        .call(get.clone(), "/groups", Some(&admin.read), None, None)
        .await;
    assert_problem(&answer, 401, "unauthorized");

    // A browser sign-in never carries the admin scopes (they are not offered).
    admin.server.add_user("alice", None, None).await;
    admin.server.add_client("app", false, true).await;
    let browser = Browser::new(&admin.server);
    let url = authorize_url(&admin.server, "app", "").replace(
        "scope=openid%20email%20profile",
        "scope=openid%20gatehouse%3Aadmin",
    );
    let code = param(&browser.authorize(&url, "alice").await, "code").unwrap();
    let (_, tokens) = exchange(&admin.server, "app", &code).await;
    assert_eq!(tokens["scope"], "openid");
    let user_token = tokens["access_token"].as_str().unwrap();
    let answer = admin
        .call(get, "/groups", Some(user_token), None, None)
        .await;
    assert_problem(&answer, 403, "insufficient-scope");

    // Unknown routes under the prefix answer with a problem too.
    let answer = admin.get("/nothing-here").await;
    assert_problem(&answer, 404, "not-found");
}

#[tokio::test]
async fn groups_and_members() {
    let admin = admin().await;
    let alice = admin.server.add_user("alice", None, None).await;

    let created = admin
        .post(
            "/groups",
            json!({"name": "Finance", "description": "Money"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "finance");
    assert_eq!(created.body["members"], 0);
    let id = created.body["id"].as_str().unwrap().to_string();

    // Duplicate (any case), bad input naming the field, unknown fields, wrong type.
    assert_problem(
        &admin.post("/groups", json!({"name": "FINANCE"})).await,
        409,
        "conflict",
    );
    let bad = admin.post("/groups", json!({"name": "a b"})).await;
    assert_problem(&bad, 400, "invalid-input");
    assert_eq!(bad.body["field"], "name");
    let bad = admin
        .post("/groups", json!({"name": "x", "colour": "red"}))
        .await;
    assert_problem(&bad, 400, "invalid-input");
    let bad = admin.post("/groups", json!({"name": 7})).await;
    assert_problem(&bad, 400, "invalid-input");
    assert_eq!(bad.body["field"], "name");
    let bad = admin.post("/groups", json!({})).await;
    assert_problem(&bad, 400, "invalid-input");
    let response = reqwest::Client::new()
        .post(admin.server.url("/admin/api/v1/groups"))
        .bearer_auth(&admin.write)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = reqwest::Client::new()
        .post(admin.server.url("/admin/api/v1/groups"))
        .bearer_auth(&admin.write)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // Get with an ETag; a stale If-Match is refused, the current one accepted.
    let got = admin.get(&format!("/groups/{id}")).await;
    assert_eq!(got.status, 200);
    let etag = got.headers["etag"].to_str().unwrap().to_string();
    assert_problem(&admin.get("/groups/no-such-id").await, 404, "not-found");
    let patch = |body: Value, tag: Option<String>| {
        let admin = &admin;
        let path = format!("/groups/{id}");
        async move {
            admin
                .call(
                    reqwest::Method::PATCH,
                    &path,
                    Some(&admin.write),
                    Some(body),
                    tag.as_deref(),
                )
                .await
        }
    };
    let updated = patch(json!({"description": "Money people"}), Some(etag.clone())).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["description"], "Money people");
    assert_ne!(updated.headers["etag"].to_str().unwrap(), etag);
    let stale = patch(json!({"description": "again"}), Some(etag)).await;
    assert_problem(&stale, 412, "precondition-failed");

    // Members.
    let added = admin
        .post(&format!("/groups/{id}/members"), json!({"user_id": alice}))
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let unknown = admin
        .post(
            &format!("/groups/{id}/members"),
            json!({"user_id": "nobody"}),
        )
        .await;
    assert_problem(&unknown, 400, "invalid-input");
    assert_eq!(unknown.body["field"], "user_id");
    let members = admin.get(&format!("/groups/{id}/members")).await;
    assert_eq!(
        members.body["items"],
        json!([{"id": alice, "username": "alice"}])
    );
    assert_eq!(members.body["next_cursor"], Value::Null);
    let of_user = admin.get(&format!("/users/{alice}/groups")).await;
    assert_eq!(of_user.body["items"][0]["name"], "finance");
    let removed = admin.delete(&format!("/groups/{id}/members/{alice}")).await;
    assert_eq!(removed.status, 204);
    let again = admin.delete(&format!("/groups/{id}/members/{alice}")).await;
    assert_problem(&again, 404, "not-found");

    // A group a client admits cannot be deleted.
    let client = admin
        .post(
            "/clients",
            json!({"client_id": "ledger", "redirect_uris": [REDIRECT], "allowed_groups": ["finance"]}),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.body);
    assert_problem(
        &admin.delete(&format!("/groups/{id}")).await,
        409,
        "conflict",
    );
    assert_eq!(admin.delete("/clients/ledger").await.status, 204);
    assert_eq!(admin.delete(&format!("/groups/{id}")).await.status, 204);
    assert_problem(
        &admin.delete(&format!("/groups/{id}")).await,
        404,
        "not-found",
    );

    // Every change is in the audit log with its actor.
    let events = admin.get("/audit-events?type=group_created").await;
    assert_eq!(events.status, 200, "{}", events.body);
    let event = &events.body["items"][0];
    assert_eq!(event["client_id"], "ops-bot");
    assert!(event["detail"].as_str().unwrap().contains("group finance"));
}

#[tokio::test]
async fn clients_are_registered_shown_and_removed() {
    let admin = admin().await;
    let created = admin
        .post(
            "/clients",
            json!({
                "client_id": "web",
                "name": "Web",
                "redirect_uris": ["http://127.0.0.1/cb"],
                "token_endpoint_auth_method": "client_secret_post",
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        created.body["token_endpoint_auth_method"],
        "client_secret_post"
    );
    assert_eq!(created.body["public"], false);
    // The secret works, with the registered method, and is never shown again.
    let (status, _, body) = token_request(
        &admin.server,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "web"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let shown = admin.get("/clients/web").await;
    assert!(shown.body.get("client_secret").is_none());
    assert!(!shown.body.to_string().contains(&secret));
    let list = admin.get("/clients").await;
    assert!(list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["client_id"] == "web"));

    for (body, field) in [
        (
            json!({"client_id": "web", "redirect_uris": [REDIRECT]}),
            "client_id",
        ),
        (json!({"client_id": "x y"}), "client_id"),
        (
            json!({"client_id": "x", "redirect_uris": ["http://evil.example/cb"]}),
            "redirect_uris",
        ),
        (json!({"client_id": "x"}), "redirect_uris"),
        (
            json!({"client_id": "x", "redirect_uris": [REDIRECT], "grant_types": ["password"]}),
            "grant_types",
        ),
        (
            json!({"client_id": "x", "redirect_uris": [REDIRECT], "allowed_groups": ["nope"]}),
            "allowed_groups",
        ),
        (
            json!({"client_id": "x", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"client_id": "x", "redirect_uris": [REDIRECT], "public": true, "token_endpoint_auth_method": "client_secret_basic"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"client_id": "x", "redirect_uris": [REDIRECT], "id_token_signed_response_alg": "HS256"}),
            "id_token_signed_response_alg",
        ),
    ] {
        let answer = admin.post("/clients", body.clone()).await;
        if field == "client_id" && body["client_id"] == "web" {
            assert_problem(&answer, 409, "conflict");
            continue;
        }
        assert_problem(&answer, 400, "invalid-input");
        assert_eq!(answer.body["field"], field, "{body}");
    }
    assert_problem(&admin.get("/clients/x").await, 404, "not-found");
    // The caller's own client cannot be removed with its own token.
    let own = admin.delete("/clients/ops-bot").await;
    assert_problem(&own, 409, "conflict");
    assert_eq!(admin.get("/clients/ops-bot").await.status, 200);

    let etag = shown.headers["etag"].to_str().unwrap().to_string();
    let stale = admin
        .call(
            reqwest::Method::DELETE,
            "/clients/web",
            Some(&admin.write),
            None,
            Some("\"stale\""),
        )
        .await;
    assert_problem(&stale, 412, "precondition-failed");
    let deleted = admin
        .call(
            reqwest::Method::DELETE,
            "/clients/web",
            Some(&admin.write),
            None,
            Some(&etag),
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_problem(&admin.delete("/clients/web").await, 404, "not-found");
}

#[tokio::test]
async fn users_are_listed_by_cursor_and_searched() {
    let admin = admin().await;
    for name in ["carol", "alice", "bob", "dave", "erin"] {
        admin.server.add_user(name, None, None).await;
    }
    let first = admin.get("/users?limit=2").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first.body), ["alice", "bob"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = admin.get(&format!("/users?limit=2&cursor={cursor}")).await;
    assert_eq!(names(&second.body), ["carol", "dave"]);
    let cursor = second.body["next_cursor"].as_str().unwrap();
    let last = admin.get(&format!("/users?limit=2&cursor={cursor}")).await;
    assert_eq!(names(&last.body), ["erin"]);
    assert_eq!(last.body["next_cursor"], Value::Null);

    let found = admin.get("/users?q=AR").await;
    assert_eq!(names(&found.body), ["carol"]);
    // LIKE wildcards are searched for, not expanded.
    assert!(names(&admin.get("/users?q=%25").await.body).is_empty());
    let user = &found.body["items"][0];
    assert!(user.get("password_hash").is_none() && user.get("totp_secret").is_none());
    assert_eq!(user["has_password"], true);

    let got = admin
        .get(&format!("/users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(got.body["username"], "carol");
    assert!(got.headers.contains_key("etag"));
    assert_problem(&admin.get("/users/nobody").await, 404, "not-found");
    for bad in [
        "/users?limit=0",
        "/users?limit=500",
        "/users?cursor=%21%21",
        "/users?sort=x",
    ] {
        assert_problem(&admin.get(bad).await, 400, "invalid-input");
    }
}

#[tokio::test]
async fn audit_events_and_keys() {
    let admin = admin().await;
    admin.server.add_user("alice", None, None).await;
    // Failed sign-ins leave events to page through.
    admin.server.add_client("app", false, true).await;
    for _ in 0..3 {
        let browser = Browser::new(&admin.server);
        let (_, login) = browser
            .get(&authorize_url(&admin.server, "app", ""))
            .await
            .page();
        browser.login(&login, "alice", "wrong password").await;
    }
    let page = admin.get("/audit-events?type=login_failed&limit=2").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = admin
        .get(&format!(
            "/audit-events?type=login_failed&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let future = admin.get("/audit-events?since=99999999999").await;
    assert!(future.body["items"].as_array().unwrap().is_empty());
    assert_problem(
        &admin.get("/audit-events?since=soon").await,
        400,
        "invalid-input",
    );

    let keys = admin.get("/keys").await;
    let current = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["state"] == "current")
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let before = current(&keys.body);
    assert!(!keys.body.to_string().contains("private"));
    // The next key was published just now: relying parties may not have it yet.
    let early = admin.post("/keys/rotate", json!({})).await;
    assert_problem(&early, 409, "conflict");
    assert!(early.body["detail"]
        .as_str()
        .unwrap()
        .contains("rotate again in"));
    admin.server.clock.advance(301);
    let rotated = admin.post("/keys/rotate", json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let after = current(&rotated.body);
    assert_eq!(after.len(), before.len());
    assert!(
        after.iter().all(|k| !before.contains(k)),
        "{before:?} {after:?}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let admin = admin().await;
    let doc: Value = reqwest::get(admin.server.url("/admin/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/users", vec!["get", "post"]),
        ("/users/{id}", vec!["get", "patch", "delete"]),
        ("/users/{id}/groups", vec!["get"]),
        ("/users/{id}/password", vec!["post"]),
        ("/users/{id}/reset-mfa", vec!["post"]),
        ("/users/{id}/sessions", vec!["get"]),
        ("/users/{id}/sessions/{session_id}", vec!["delete"]),
        ("/users/{id}/grants", vec!["get"]),
        ("/users/{id}/grants/{grant_id}", vec!["delete"]),
        ("/clients/{client_id}/secret", vec!["post"]),
        ("/groups", vec!["get", "post"]),
        ("/groups/{id}", vec!["get", "patch", "delete"]),
        ("/groups/{id}/members", vec!["get", "post"]),
        ("/groups/{id}/members/{user_id}", vec!["delete"]),
        ("/clients", vec!["get", "post"]),
        ("/clients/{client_id}", vec!["get", "patch", "delete"]),
        ("/audit-events", vec!["get"]),
        ("/keys", vec!["get"]),
        ("/keys/rotate", vec!["post"]),
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            let op = &item[method];
            assert!(op.is_object(), "{method} {path}");
            assert!(op["responses"]["401"].is_object(), "{method} {path}");
            assert!(op["security"].is_array(), "{method} {path}");
        }
    }
    // Routes reach the router only through the document's macro (admin::routes), so
    // nothing is served undocumented; and every documented operation is served.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            let answer = admin
                .call(
                    method.to_uppercase().parse().unwrap(),
                    &concrete,
                    Some(&admin.read),
                    Some(json!({})),
                    None,
                )
                .await;
            assert_ne!(answer.status, 405, "{method} {path}");
            assert_ne!(
                answer.body["detail"], "no such admin API route",
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn users_are_created_changed_and_removed() {
    let admin = admin().await;
    let created = admin
        .post(
            "/users",
            json!({"username": "Dana", "email": "dana@example.com", "name": "Dana D"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["username"], "dana");
    assert_eq!(created.body["has_password"], false);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_problem(
        &admin.post("/users", json!({"username": "DANA"})).await,
        409,
        "conflict",
    );
    let bad = admin
        .post("/users", json!({"username": "x", "email": "nope"}))
        .await;
    assert_eq!(bad.body["field"], "email");
    let bad = admin
        .post("/users", json!({"username": "x", "password": "short"}))
        .await;
    assert_eq!(bad.body["field"], "password");
    let bad = admin.post("/users", json!({"username": ""})).await;
    assert_eq!(bad.body["field"], "username");

    // No password yet: signing in fails; set one, and it works.
    admin.server.add_client("app", false, true).await;
    let browser = Browser::new(&admin.server);
    let (_, login) = browser
        .get(&authorize_url(&admin.server, "app", ""))
        .await
        .page();
    let (status, _) = browser.login(&login, "dana", PASSWORD).await.page();
    assert_eq!(status, 401);
    let set = admin
        .post(
            &format!("/users/{id}/password"),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(set.status, 204, "{}", set.body);
    let code = param(
        &Browser::new(&admin.server)
            .authorize(&authorize_url(&admin.server, "app", ""), "dana")
            .await,
        "code",
    )
    .unwrap();
    let (_, tokens) = exchange(&admin.server, "app", &code).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();

    // PATCH: only the given fields; null clears; a new email is not verified.
    let got = admin.get(&format!("/users/{id}")).await;
    let etag = got.headers["etag"].to_str().unwrap().to_string();
    let patch = |body: Value, tag: Option<String>| {
        let admin = &admin;
        let path = format!("/users/{id}");
        async move {
            admin
                .call(
                    reqwest::Method::PATCH,
                    &path,
                    Some(&admin.write),
                    Some(body),
                    tag.as_deref(),
                )
                .await
        }
    };
    let updated = patch(
        json!({"name": null, "email_verified": true}),
        Some(etag.clone()),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], Value::Null);
    assert_eq!(updated.body["email"], "dana@example.com");
    assert_eq!(updated.body["email_verified"], true);
    assert_problem(
        &patch(json!({"name": "x"}), Some(etag)).await,
        412,
        "precondition-failed",
    );
    let updated = patch(json!({"email": "dana@new.example"}), None).await;
    assert_eq!(updated.body["email_verified"], false);
    assert_eq!(
        patch(json!({"mfa_policy": "sometimes"}), None).await.body["field"],
        "mfa_policy"
    );
    assert_eq!(
        patch(json!({"mfa_policy": "required"}), None).await.body["mfa_policy"],
        "required"
    );
    assert_eq!(patch(json!({"username": "eve"}), None).await.status, 400);

    // Disabling ends what was issued.
    let disabled = patch(json!({"disabled": true}), None).await;
    assert_eq!(disabled.body["disabled"], true);
    assert_eq!(userinfo(&admin.server, &access).await.0, 401);
    assert_eq!(
        patch(json!({"disabled": false}), None).await.body["disabled"],
        false
    );

    assert_eq!(
        admin
            .post(&format!("/users/{id}/reset-mfa"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(admin.delete(&format!("/users/{id}")).await.status, 204);
    assert_problem(&admin.get(&format!("/users/{id}")).await, 404, "not-found");
    let events = admin.get(&format!("/audit-events?user_id={id}")).await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in [
        "user_created",
        "password_set",
        "user_updated",
        "mfa_reset",
        "user_removed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(!events.body.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn clients_are_updated_and_their_secrets_rotated() {
    let admin = admin().await;
    let group = admin.post("/groups", json!({"name": "ops"})).await;
    assert_eq!(group.status, 201);
    let created = admin
        .post(
            "/clients",
            json!({"client_id": "svc", "grant_types": ["client_credentials"], "scopes": ["a"]}),
        )
        .await;
    let old = created.body["client_secret"].as_str().unwrap().to_string();
    let patch = |body: Value| {
        let admin = &admin;
        async move {
            admin
                .call(
                    reqwest::Method::PATCH,
                    "/clients/svc",
                    Some(&admin.write),
                    Some(body),
                    None,
                )
                .await
        }
    };
    let updated =
        patch(json!({"name": "Service", "scopes": ["a", "b"], "allowed_groups": ["OPS"]})).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Service");
    assert_eq!(updated.body["scopes"], json!(["a", "b"]));
    assert_eq!(updated.body["allowed_groups"], json!(["ops"]));
    // The rules of registration hold for changes too.
    let bad = patch(json!({"grant_types": ["authorization_code"]})).await;
    assert_problem(&bad, 400, "invalid-input");
    assert_eq!(bad.body["field"], "redirect_uris");
    assert_eq!(
        patch(json!({"redirect_uris": ["ftp://x"]})).await.body["field"],
        "redirect_uris"
    );
    assert_eq!(patch(json!({"client_secret": "x"})).await.status, 400);
    let missing = admin
        .call(
            reqwest::Method::PATCH,
            "/clients/ghost",
            Some(&admin.write),
            Some(json!({})),
            None,
        )
        .await;
    assert_problem(&missing, 404, "not-found");

    let rotated = admin.post("/clients/svc/secret", json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    // The overlap is 0 by default: the old secret stops at once.
    let cc = |secret: String| {
        let server = &admin.server;
        async move {
            token_request(
                server,
                Some(("svc", &secret)),
                &[("grant_type", "client_credentials")],
            )
            .await
            .0
        }
    };
    assert_eq!(cc(new.clone()).await, 200);
    assert_eq!(cc(old).await, 401);
    let public = admin
        .post(
            "/clients",
            json!({"client_id": "spa", "public": true, "redirect_uris": [REDIRECT]}),
        )
        .await;
    assert_eq!(public.status, 201);
    assert_problem(
        &admin.post("/clients/spa/secret", json!({})).await,
        409,
        "conflict",
    );
    assert_problem(
        &admin.post("/clients/ghost/secret", json!({})).await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn a_rotated_secret_overlaps_when_configured() {
    let db = std::sync::Arc::new(TestDb::new().await);
    let server = TestServer::start_with(db, |c| c.client_secret_overlap = 60).await;
    let mut ops = client("ops-bot", false, true, &["client_credentials"]);
    ops.allowed_scopes = vec!["gatehouse:admin".into()];
    server.register(&ops).await;
    let write = token_for(&server, "ops-bot", "gatehouse:admin").await;
    let response = reqwest::Client::new()
        .post(server.url("/admin/api/v1/clients/ops-bot/secret"))
        .bearer_auth(&write)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let new = body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(body["previous_secret_expires_at"], server.clock.now() + 60);
    let cc = |secret: String| {
        let server = &server;
        async move {
            token_request(
                server,
                Some(("ops-bot", &secret)),
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "gatehouse:admin"),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(cc(new.clone()).await, 200);
    assert_eq!(
        cc(SECRET.into()).await,
        200,
        "the previous secret, within the overlap"
    );
    server.clock.advance(61);
    assert_eq!(cc(SECRET.into()).await, 401);
    assert_eq!(cc(new).await, 200);
}

#[tokio::test]
async fn malformed_requests_are_problems_not_crashes() {
    let admin = admin().await;
    let send = |method: reqwest::Method, path: &str, body: &'static str| {
        let admin = &admin;
        let url = admin.server.url(&format!("/admin/api/v1{path}"));
        async move {
            let response = reqwest::Client::new()
                .request(method, url)
                .bearer_auth(&admin.write)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status.as_u16(), kind)
        }
    };
    let problem = "application/problem+json".to_string();
    assert_eq!(
        send(reqwest::Method::POST, "/groups", r#"{"name":"x"} trailing"#).await,
        (400, problem.clone())
    );
    assert_eq!(
        send(reqwest::Method::PUT, "/groups", "{}").await,
        (405, problem.clone())
    );
    assert_eq!(
        send(reqwest::Method::POST, "/users", "[]").await,
        (400, problem.clone())
    );
    assert_eq!(
        send(reqwest::Method::POST, "/users", "null").await,
        (400, problem.clone())
    );
    // A client registered with an admin scope gets it only by asking for it.
    let (status, _, body) = token_request(
        &admin.server,
        Some(("ops-bot", SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.get("scope"), None, "{body}");
}

#[tokio::test]
async fn sessions_and_connected_applications_are_listed_and_ended() {
    let admin = admin().await;
    let alice = admin.server.add_user("alice", None, None).await;
    admin
        .server
        .add_client_with("app", false, true, &["authorization_code", "refresh_token"])
        .await;
    let browser = Browser::new(&admin.server);
    let code = param(
        &browser
            .authorize(&authorize_url(&admin.server, "app", ""), "alice")
            .await,
        "code",
    )
    .unwrap();
    let (_, tokens) = exchange(&admin.server, "app", &code).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();

    let grants = admin.get(&format!("/users/{alice}/grants")).await;
    assert_eq!(grants.status, 200, "{}", grants.body);
    let grant = &grants.body["items"][0];
    assert_eq!(grant["client_id"], "app");
    let grant_id = grant["id"].as_str().unwrap().to_string();
    let sessions = admin.get(&format!("/users/{alice}/sessions")).await;
    let session_id = sessions.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!sessions.body.to_string().contains("secret"));

    assert_eq!(
        admin
            .delete(&format!("/users/{alice}/grants/{grant_id}"))
            .await
            .status,
        204
    );
    assert_eq!(userinfo(&admin.server, &access).await.0, 401);
    assert_problem(
        &admin
            .delete(&format!("/users/{alice}/grants/{grant_id}"))
            .await,
        404,
        "not-found",
    );
    assert_eq!(
        admin
            .delete(&format!("/users/{alice}/sessions/{session_id}"))
            .await
            .status,
        204
    );
    // The browser must sign in again.
    let (status, page) = browser
        .get(&authorize_url(&admin.server, "app", ""))
        .await
        .page();
    assert_eq!(status, 200);
    assert_eq!(Form::parse(&page).action, "/login");
    assert_problem(
        &admin
            .delete(&format!("/users/{alice}/sessions/{session_id}"))
            .await,
        404,
        "not-found",
    );
    // Another user's grant cannot be reached through this user.
    let bob = admin.server.add_user("bob", None, None).await;
    let code = obtain_code(&admin.server, &Browser::new(&admin.server), "app", "alice").await;
    exchange(&admin.server, "app", &code).await;
    let alice_grant = admin.get(&format!("/users/{alice}/grants")).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_problem(
        &admin
            .delete(&format!("/users/{bob}/grants/{alice_grant}"))
            .await,
        404,
        "not-found",
    );
}

#[tokio::test]
async fn members_of_the_admin_group_may_administer_from_a_browser_sign_in() {
    let admin = admin().await;
    let server = &admin.server;
    server.add_user("alice", None, None).await;
    server.add_user("bob", None, None).await;
    // A console-like client registered for the admin scope, and one that is not.
    let mut console = client(
        "console",
        false,
        true,
        &["authorization_code", "refresh_token"],
    );
    console.allowed_scopes = vec!["gatehouse:admin".into()];
    server.register(&console).await;
    server.add_client("app", false, true).await;
    let out = server.cli(&["group", "add", "admins"]);
    assert!(out.status.success());
    assert!(server
        .cli(&["group", "add-member", "admins", "alice"])
        .status
        .success());

    let sign_in = |client_id: &'static str, user: &'static str| async move {
        let url = authorize_url(server, client_id, "").replace(
            "scope=openid%20email%20profile",
            "scope=openid%20gatehouse%3Aadmin",
        );
        let code = param(&Browser::new(server).authorize(&url, user).await, "code").unwrap();
        exchange(server, client_id, &code).await.1
    };
    let alice = sign_in("console", "alice").await;
    assert_eq!(alice["scope"], "openid gatehouse:admin");
    let token = alice["access_token"].as_str().unwrap().to_string();
    let get = reqwest::Method::GET;
    let answer = admin
        .call(get.clone(), "/groups", Some(&token), None, None)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // Not in the group, or a client not registered for it: no admin scope.
    assert_eq!(sign_in("console", "bob").await["scope"], "openid");
    assert_eq!(sign_in("app", "alice").await["scope"], "openid");

    // Out of the group: the token stops opening the API, and a refresh drops the scope.
    assert!(server
        .cli(&["group", "remove-member", "admins", "alice"])
        .status
        .success());
    let answer = admin.call(get, "/groups", Some(&token), None, None).await;
    assert_problem(&answer, 403, "insufficient-scope");
    let (status, _, refreshed) = token_request(
        server,
        Some(("console", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", alice["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["scope"], "openid");
}

#[tokio::test]
async fn the_consent_page_names_the_admin_scope_only_to_admins() {
    let server = TestServer::start().await;
    server.add_user("alice", None, None).await;
    server.add_user("bob", None, None).await;
    let mut console = client("console", false, false, &["authorization_code"]);
    console.allowed_scopes = vec!["gatehouse:admin".into()];
    server.register(&console).await;
    assert!(server.cli(&["group", "add", "admins"]).status.success());
    assert!(server
        .cli(&["group", "add-member", "admins", "alice"])
        .status
        .success());
    for (user, shown) in [("alice", true), ("bob", false)] {
        let browser = Browser::new(&server);
        let url = authorize_url(&server, "console", "").replace(
            "scope=openid%20email%20profile",
            "scope=openid%20gatehouse%3Aadmin",
        );
        let (_, login) = browser.get(&url).await.page();
        let (status, consent) = browser.login(&login, user, PASSWORD).await.page();
        assert_eq!(status, 200);
        assert_eq!(consent.contains("administer Gatehouse"), shown, "{user}");
    }
}

#[tokio::test]
async fn a_change_made_from_a_stale_read_is_refused_not_merged() {
    use gatehouse::domain::{clients, groups, users, Refusal};
    let server = TestServer::start().await;
    let db = &server.state.db;
    let now = server.clock.now();
    server.add_client("app", false, true).await;
    let read = clients::show(db, "app").await.unwrap().client;
    let rename = |name: &str| clients::ClientChanges {
        name: Some(name.into()),
        ..Default::default()
    };
    clients::update(db, &read, rename("First"), now)
        .await
        .unwrap();
    let second = clients::update(db, &read, rename("Second"), now).await;
    assert!(matches!(second, Err(Refusal::Stale(_))), "{second:?}");
    assert_eq!(clients::show(db, "app").await.unwrap().client.name, "First");

    let group = groups::create(db, "ops", "", now).await.unwrap();
    groups::update(db, &group, None, Some("one"), now)
        .await
        .unwrap();
    let stale = groups::update(db, &group, None, Some("two"), now).await;
    assert!(matches!(stale, Err(Refusal::Stale(_))), "{stale:?}");

    server.add_user("alice", None, None).await;
    let alice = gatehouse::store::users::find_by_username(db, "alice")
        .await
        .unwrap()
        .unwrap();
    let named = |name: &str| users::Changes {
        name: Some(Some(name.into())),
        ..Default::default()
    };
    users::update(db, &alice, named("A"), now).await.unwrap();
    let stale = users::update(db, &alice, named("B"), now).await;
    assert!(matches!(stale, Err(Refusal::Stale(_))), "{stale:?}");
}
