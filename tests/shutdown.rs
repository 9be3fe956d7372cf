//! SIGTERM drains: requests in flight when the signal arrives get their answers, and
//! the process exits cleanly. The server is the real binary.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let db = Arc::new(TestDb::new().await);
    let seeded = TestServer::start_on(db.clone()).await;
    seeded.add_client("app", false, true).await;
    drop(seeded);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("GATEHOUSE_DATABASE_URL", &db.url)
        .env("GATEHOUSE_MASTER_KEY", &db.master_key)
        .env("GATEHOUSE_ISSUER", &base)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        // One password hash at a time: the logins below queue, still in flight.
        .env("GATEHOUSE_PASSWORD_HASH_CONCURRENCY", "1")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for _ in 0..100 {
        if browser.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let authorize = format!(
        "{base}/authorize?client_id=app&redirect_uri={}&response_type=code&scope=openid\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode(REDIRECT)
    );
    let login_page = browser
        .get(authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = Form::parse(&login_page);

    // Eight password checks, each a full argon2 hash, one at a time.
    let mut in_flight = Vec::new();
    for i in 0..8 {
        let mut fields = form.fields.clone();
        fields.retain(|(n, _)| n != "username" && n != "password");
        fields.push(("username".into(), format!("nobody{i}")));
        fields.push(("password".into(), "wrong password".into()));
        let request = browser.post(format!("{base}/login")).form(&fields).send();
        in_flight.push(tokio::spawn(request));
    }
    tokio::time::sleep(Duration::from_millis(15)).await;
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());

    for request in in_flight {
        let response = request
            .await
            .unwrap()
            .expect("an answer, not a dropped connection");
        assert_eq!(response.status(), 401);
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "clean exit after draining: {:?}",
        output.status
    );
    // And it is gone: new connections are refused.
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}
