//! Database faults: with the database cut off, API requests get 503 with an RFC 6749
//! error and pages an error page, never a panic; service returns by itself when the
//! database does. Needs a network database: runs when GATEHOUSE_TEST_DATABASE_URL is
//! set (SQLite is a file and cannot be cut off).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy to PostgreSQL that can be cut (all connections dropped, new ones
/// refused) and restored.
struct Proxy {
    addr: String,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let open = Arc::new(AtomicBool::new(true));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (flag, tasks) = (open.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(link);
            }
        });
        Proxy { addr, open, links }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn database_outage_is_a_503_and_service_comes_back() {
    if std::env::var("GATEHOUSE_TEST_DATABASE_URL").map_or(true, |v| v.is_empty()) {
        eprintln!("skipped: needs GATEHOUSE_TEST_DATABASE_URL (a network database)");
        return;
    }
    let db = std::sync::Arc::new(TestDb::new().await);
    let real = url::Url::parse(&db.url).unwrap();
    let target = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target).await;
    let mut proxied = real.clone();
    let (host, port) = proxy.addr.split_once(':').unwrap();
    proxied.set_host(Some(host)).unwrap();
    proxied.set_port(Some(port.parse().unwrap())).unwrap();
    let proxied = proxied.to_string();
    let server = TestServer::start_with(db.clone(), move |c| c.database_url = proxied).await;
    server.add_client("app", false, true).await;

    let bad_code = [
        ("grant_type", "authorization_code"),
        ("code", "unknown"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, _, body) = token_request(&server, Some(("app", SECRET)), &bad_code).await;
    assert_eq!(status, 400, "{body}");

    proxy.cut();
    let (status, headers, body) = token_request(&server, Some(("app", SECRET)), &bad_code).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(headers["cache-control"], "no-store");
    let page = reqwest::get(authorize_url(&server, "app", ""))
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("Temporarily unavailable"));
    // What needs no database keeps working.
    let discovery = reqwest::get(server.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        let (status, _, _) = token_request(&server, Some(("app", SECRET)), &bad_code).await;
        if status == 400 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "requests succeed again once the database is back"
    );
}
