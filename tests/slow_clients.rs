//! The HTTP server against clients that hold connections: headers trickled, bodies
//! promised and never sent, idle keep-alive connections, oversized requests, and
//! more connections than allowed. Raw TCP, as such a client would be.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server() -> TestServer {
    TestServer::start_with(Arc::new(TestDb::new().await), |c| {
        c.http_header_timeout = 2;
        c.http_body_timeout = 2;
        c.http_max_connections = 2;
    })
    .await
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or 10 s pass); returns what it
/// sent and when it closed, counted from `since`.
async fn until_closed(
    stream: &mut (impl AsyncReadExt + Unpin),
    since: Instant,
) -> (String, Duration) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = since + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after 10 s"),
        }
    }
    (String::from_utf8_lossy(&seen).into_owned(), since.elapsed())
}

#[tokio::test]
async fn headers_sent_a_line_at_a_time_are_cut_off() {
    let server = server().await;
    let (mut reader, mut writer) = connect(&server).await.into_split();
    let start = Instant::now();
    // One header line every half second, never the blank line that ends them.
    let trickle = tokio::spawn(async move {
        let _ = writer.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        for i in 0..40 {
            let line = format!("x-slow-{i}: 1\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let (_, lived) = until_closed(&mut reader, start).await;
    trickle.abort();
    eprintln!("trickled headers: closed after {lived:?}");
    assert!(
        lived >= Duration::from_millis(1500) && lived < Duration::from_secs(4),
        "lived {lived:?}"
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let server = server().await;
    let mut stream = connect(&server).await;
    let start = Instant::now();
    let (_, lived) = until_closed(&mut stream, start).await;
    eprintln!("silent connection: closed after {lived:?}");
    assert!(
        lived >= Duration::from_millis(1500) && lived < Duration::from_secs(4),
        "lived {lived:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = server().await;
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_from = Instant::now();
    let (_, lived) = until_closed(&mut stream, idle_from).await;
    eprintln!("idle keep-alive: closed after {lived:?}");
    assert!(lived < Duration::from_secs(4), "idle for {lived:?}");
}

#[tokio::test]
async fn a_body_promised_and_not_sent_times_out() {
    let server = server().await;
    let mut stream = connect(&server).await;
    let start = Instant::now();
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\n\
              content-length: 100\r\n\r\ngrant_type=",
        )
        .await
        .unwrap();
    let (answer, lived) = until_closed(&mut stream, start).await;
    eprintln!("missing body: answered and closed after {lived:?}");
    assert!(lived < Duration::from_secs(5), "lived {lived:?}");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[tokio::test]
async fn oversized_bodies_and_heads_are_refused() {
    let server = server().await;
    let http = reqwest::Client::new();
    let big = "a".repeat(65 * 1024);
    let response = http
        .post(server.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=refresh_token&refresh_token={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // A form just under the cap is read (and refused for what it says).
    let response = http
        .post(server.url("/token"))
        .form(&[("grant_type", "nonsense")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "client authentication comes first");

    let mut stream = connect(&server).await;
    let header = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(20 * 1024)
    );
    let _ = stream.write_all(header.as_bytes()).await;
    let (answer, _) = until_closed(&mut stream, Instant::now()).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let server = server().await;
    let first = connect(&server).await;
    let second = connect(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect(&server).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "not served while two connections hold the slots"
    );
    drop(first);
    let start = Instant::now();
    let (answer, _) = until_closed(&mut third, start).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(second);
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off() {
    let server = server().await;
    let (mut reader, mut writer) = connect(&server).await.into_split();
    let start = Instant::now();
    // Each byte comes well within any per-read timeout; the whole body never does.
    let trickle = tokio::spawn(async move {
        let head = "POST /token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\n\
                    content-length: 100\r\n\r\n";
        let _ = writer.write_all(head.as_bytes()).await;
        for _ in 0..100 {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let (answer, lived) = until_closed(&mut reader, start).await;
    trickle.abort();
    eprintln!("trickled body: answered and closed after {lived:?}");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(lived < Duration::from_secs(4), "lived {lived:?}");
}
