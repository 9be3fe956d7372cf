//! An SMTP server for the tests, on 127.0.0.1: it accepts every message and
//! keeps it, so a test can read the mail Gatehouse sent and follow its links.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The sender the tests configure.
pub const FROM: &str = "Gatehouse <id@example.test>";

/// Points a server's configuration at the SMTP server `url`.
pub fn configure(config: &mut gatehouse::config::Config, url: &str) {
    config.smtp_url = Some(url.to_string());
    config.mail_from = Some(FROM.into());
}

/// A message as received: the envelope's recipients and the parsed content.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Mail {
    /// The first link in the text part whose path starts with `path`.
    pub fn link(&self, path: &str) -> String {
        self.text
            .split_whitespace()
            .find(|word| url::Url::parse(word).is_ok_and(|u| u.path().starts_with(path)))
            .unwrap_or_else(|| panic!("no link to {path} in:\n{}", self.text))
            .to_string()
    }
}

#[derive(Clone)]
pub struct SmtpServer {
    pub url: String,
    received: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let url = format!("smtp://{}", listener.local_addr().expect("addr"));
        let server = SmtpServer {
            url,
            received: Arc::default(),
            arrived: Arc::default(),
        };
        let serving = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().session(stream));
            }
        });
        server
    }

    /// An address where no SMTP server listens (the mail server is down).
    pub async fn down() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("smtp://{}", listener.local_addr().expect("addr"));
        drop(listener);
        url
    }

    /// One SMTP session (RFC 5321 §3): greeting, envelope, DATA, QUIT.
    async fn session(self, stream: tokio::net::TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut to = Vec::new();
        let _ = write.write_all(b"220 test ESMTP\r\n").await;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                b"250-test\r\n250 8BITMIME\r\n"
            } else if command.starts_with("MAIL FROM") {
                to.clear();
                b"250 OK\r\n"
            } else if command.starts_with("RCPT TO") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string();
                to.push(address);
                b"250 OK\r\n"
            } else if command == "DATA" {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut raw = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Dot-stuffing (RFC 5321 §4.5.2).
                    raw.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.keep(std::mem::take(&mut to), raw);
                b"250 OK queued\r\n"
            } else if command == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else if command == "RSET" || command == "NOOP" {
                b"250 OK\r\n"
            } else {
                b"502 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn keep(&self, to: Vec<String>, raw: String) {
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("a MIME message");
        let mail = Mail {
            to,
            subject: parsed.subject().unwrap_or_default().to_string(),
            text: parsed.body_text(0).unwrap_or_default().to_string(),
            html: parsed.body_html(0).unwrap_or_default().to_string(),
            raw,
        };
        self.received.lock().unwrap().push(mail);
        self.arrived.notify_waiters();
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<Mail> {
        self.received.lock().unwrap().clone()
    }

    /// The messages received for `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.all()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Waits (up to 10 s) until `address` has received `count` messages; the last.
    pub async fn wait_for(&self, address: &str, count: usize) -> Mail {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.arrived.notified();
            let mails = self.to(address);
            if mails.len() >= count {
                return mails[count - 1].clone();
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{address} received {} messages, not {count}",
                    self.to(address).len()
                );
            }
        }
    }
}
