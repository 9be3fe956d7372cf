//! Outgoing mail over SMTP (lettre). Messages go into a bounded queue and are sent
//! by a task of their own, with retries: a request never waits for the SMTP server,
//! and a server that is down costs a log line and an audit event, never an error
//! page. Without GATEHOUSE_SMTP_URL there is no mailer, and nothing that needs
//! mail is offered.

pub mod messages;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, Semaphore};

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::store::audit::{self, Event};

/// Messages waiting to be sent; more are dropped (and audited) rather than held.
const QUEUE: usize = 1000;
/// Deliveries under way at once.
const SENDERS: usize = 4;
/// Waits between the attempts to deliver one message.
const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(5)];
/// The longest one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest one attempt at a whole message may take.
const SEND_DEADLINE: Duration = Duration::from_secs(60);

/// GATEHOUSE_SMTP_URL and the settings that go with it, checked.
pub struct Settings {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Settings {
    /// None when SMTP is not configured.
    pub fn from_config(config: &Config) -> Result<Option<Settings>, ConfigError> {
        let Some(url) = config.smtp_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let invalid = |setting: &str, reason: String| ConfigError {
            setting: setting.into(),
            reason,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
            invalid(
                "GATEHOUSE_SMTP_URL",
                format!("{e} (expected smtp://host:port, smtp://host:587?tls=required or smtps://host:465)"),
            )
        })?;
        match (&config.smtp_username, &config.smtp_password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "GATEHOUSE_SMTP_USERNAME",
                    "GATEHOUSE_SMTP_USERNAME and GATEHOUSE_SMTP_PASSWORD go together".into(),
                ))
            }
        }
        let from = config
            .mail_from
            .as_deref()
            .ok_or_else(|| {
                invalid(
                    "GATEHOUSE_MAIL_FROM",
                    "is required with GATEHOUSE_SMTP_URL (e.g. \"Gatehouse <id@example.com>\")"
                        .into(),
                )
            })?
            .parse::<Mailbox>()
            .map_err(|e| invalid("GATEHOUSE_MAIL_FROM", format!("not an address: {e}")))?;
        Ok(Some(Settings {
            transport: builder.timeout(Some(SMTP_TIMEOUT)).build(),
            from,
        }))
    }
}

/// One message to one person.
pub struct Outgoing {
    pub to: String,
    /// The account it concerns (for the audit log when delivery fails).
    pub user_id: Option<String>,
    pub content: messages::Content,
}

/// The handle the rest of Gatehouse sends mail through.
#[derive(Clone, Default)]
pub struct Mailer {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    queue: mpsc::Sender<Outgoing>,
    db: DatabaseConnection,
    clock: Clock,
}

impl Mailer {
    /// Starts the sending task; without settings, a mailer that is off.
    pub fn start(settings: Option<Settings>, db: DatabaseConnection, clock: Clock) -> Mailer {
        let Some(settings) = settings else {
            return Mailer::default();
        };
        let (queue, receiver) = mpsc::channel(QUEUE);
        let inner = Arc::new(Inner {
            queue,
            db: db.clone(),
            clock: clock.clone(),
        });
        tokio::spawn(deliver_all(settings, receiver, db, clock));
        Mailer { inner: Some(inner) }
    }

    /// Whether mail can be sent at all (GATEHOUSE_SMTP_URL is set).
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Queues the message; false when mail is off. A full queue drops it, audited.
    pub fn send(&self, message: Outgoing) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        if let Err(mpsc::error::TrySendError::Full(message)) = inner.queue.try_send(message) {
            let (db, now) = (inner.db.clone(), inner.clock.now());
            tokio::spawn(async move {
                failed(&db, &message, "the mail queue is full", now).await;
            });
        }
        true
    }
}

async fn deliver_all(
    settings: Settings,
    mut receiver: mpsc::Receiver<Outgoing>,
    db: DatabaseConnection,
    clock: Clock,
) {
    let settings = Arc::new(settings);
    let senders = Arc::new(Semaphore::new(SENDERS));
    while let Some(message) = receiver.recv().await {
        let Ok(permit) = senders.clone().acquire_owned().await else {
            return;
        };
        let (settings, db, clock) = (settings.clone(), db.clone(), clock.clone());
        tokio::spawn(async move {
            if let Err(reason) = deliver(&settings, &message).await {
                failed(&db, &message, &reason, clock.now()).await;
            }
            drop(permit);
        });
    }
}

/// Sends one message now, retrying; the last error in words. The command line
/// uses it directly (it has no queue, and says whether the message left).
pub async fn deliver(settings: &Settings, message: &Outgoing) -> Result<(), String> {
    let to: Mailbox = message
        .to
        .parse()
        .map_err(|e| format!("bad recipient address: {e}"))?;
    let email = Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(&message.content.subject)
        .multipart(MultiPart::alternative_plain_html(
            message.content.text.clone(),
            message.content.html.clone(),
        ))
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let mut delays = RETRY_DELAYS.iter();
    loop {
        // A server that accepts and then says nothing must not hold a sender forever.
        let attempt = tokio::time::timeout(SEND_DEADLINE, settings.transport.send(email.clone()));
        let error = match attempt.await {
            Ok(Ok(_)) => {
                tracing::info!(kind = message.content.kind, "mail sent");
                return Ok(());
            }
            // A permanent refusal (5xx: no such mailbox) does not get better.
            Ok(Err(err)) if err.is_permanent() => return Err(err.to_string()),
            Ok(Err(err)) => err.to_string(),
            Err(_) => "the SMTP server did not answer in time".to_string(),
        };
        let Some(delay) = delays.next() else {
            return Err(error);
        };
        tracing::debug!(error, "mail not sent yet; retrying");
        tokio::time::sleep(*delay).await;
    }
}

/// A message that could not be delivered: logged and audited (never its content:
/// links in it are secrets).
async fn failed(db: &DatabaseConnection, message: &Outgoing, reason: &str, now: i64) {
    let kind = message.content.kind;
    tracing::warn!(kind, error = reason, "mail could not be sent");
    let detail = format!("{kind} mail not sent: {reason}");
    let event = Event {
        actor: None,
        kind: "mail_failed",
        user_id: message.user_id.as_deref(),
        client_id: None,
        ip: None,
        detail: Some(&detail),
    };
    if let Err(err) = audit::record(db, event, now).await {
        tracing::warn!(error = %err, "cannot audit a mail failure");
    }
}
