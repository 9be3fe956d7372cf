//! A kill -9 in the middle of a refresh load leaves no half-written family: every
//! chain still has exactly one unused token, and every rotated token's successor
//! exists. The server is the real binary, killed with SIGKILL.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gatehouse::store::entities::refresh_tokens;
use gatehouse::store::grants::{self, NewGrant};
use gatehouse::store::refresh_tokens::{self as chains, NewRefresh};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const CHAINS: usize = 16;

#[tokio::test]
async fn sigkill_during_refresh_load_leaves_whole_families() {
    let db = Arc::new(TestDb::new().await);
    // Seed through an in-process server: schema, keys, a user, a client, chains.
    let seeded = TestServer::start_on(db.clone()).await;
    let user_id = seeded.add_user("alice", None, None).await;
    seeded
        .add_client_with("app", false, true, &["authorization_code", "refresh_token"])
        .await;
    let now = seeded.clock.now();
    let amr = vec!["pwd".to_string()];
    let mut tokens = Vec::new();
    let mut grant_ids = Vec::new();
    for _ in 0..CHAINS {
        let grant = grants::create(
            &seeded.state.db,
            NewGrant {
                user_id: &user_id,
                client_id: "app",
                session_id: None,
                // offline_access: the chains need no browser session.
                scope: "openid offline_access",
                auth_time: now,
                amr: &amr,
                acr: Some("1"),
                claims: None,
            },
            now,
            3600,
        )
        .await
        .unwrap();
        let token = chains::issue(
            &seeded.state.db,
            NewRefresh {
                grant_id: &grant.id,
                client_id: "app",
                scope: "openid offline_access",
                expires_at: now + 3600,
            },
            now,
        )
        .await
        .unwrap();
        grant_ids.push(grant.id);
        tokens.push(token);
    }
    drop(seeded);

    // The real binary, on its own port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .env("GATEHOUSE_ISSUER", &base)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every chain rotates as fast as it can until the server dies.
    let rotations = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for mut token in tokens {
        let (http, base, rotations) = (http.clone(), base.clone(), rotations.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let response = http
                    .post(format!("{base}/token"))
                    .basic_auth("app", Some(SECRET))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                    .send()
                    .await;
                let Ok(response) = response else { return };
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    return;
                };
                match body["refresh_token"].as_str() {
                    Some(next) => {
                        token = next.to_string();
                        rotations.fetch_add(1, Ordering::Relaxed);
                    }
                    None => return,
                }
            }
        }));
    }
    for _ in 0..1000 {
        if rotations.load(Ordering::Relaxed) >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        rotations.load(Ordering::Relaxed) > 0,
        "the server rotated tokens before the kill"
    );
    child.kill().unwrap(); // SIGKILL, mid-load
    child.wait().unwrap();
    for worker in workers {
        let _ = worker.await;
    }

    let conn = gatehouse::store::connect(&db.url).await.unwrap();
    for grant_id in &grant_ids {
        let chain = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::GrantId.eq(grant_id.as_str()))
            .all(&conn)
            .await
            .unwrap();
        // A rotation is the successor's row (naming its parent): every family must
        // be one unbroken chain from its first token to exactly one unused token.
        let is_parent = |hash: &str| chain.iter().any(|t| t.parent_hash.as_deref() == Some(hash));
        let unused = chain.iter().filter(|t| !is_parent(&t.token_hash)).count();
        assert_eq!(unused, 1, "exactly one live token per family");
        let roots: Vec<_> = chain.iter().filter(|t| t.parent_hash.is_none()).collect();
        assert_eq!(roots.len(), 1, "one first token per family");
        let mut length = 1;
        let mut at = roots[0].token_hash.clone();
        while let Some(next) = chain
            .iter()
            .find(|t| t.parent_hash.as_deref() == Some(at.as_str()))
        {
            length += 1;
            at = next.token_hash.clone();
        }
        assert_eq!(length, chain.len(), "no token outside the chain");
    }
    conn.close().await.ok();
}
