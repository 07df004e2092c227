//! Sends the outbox: rows are written in the same transaction as the state change that
//! caused them ([`crate::store::outbox`]), and this worker delivers them after commit —
//! mail over SMTP (lettre), texts through GOV.UK Notify ([`crate::notify`], SMS-1) —
//! retrying with back-off, giving up at once on what Notify refuses outright. Woken after
//! each commit, with a slow sweep as a safety net. The words of every mail are in
//! [`templates`]; a text's are in its Notify template ([`texts`]).

pub mod passcodes;
pub mod recovery;
pub mod renewal;
pub mod templates;
pub mod texts;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sqlx::AnyPool;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{Settings, SmtpTls};
use crate::notify::{NotifyClient, SendError};
use crate::ops::shutdown::Stopping;
use crate::store::outbox::{self, QueuedMail};
use crate::store::StoreError;

pub struct MailWorker {
    pub pool: AnyPool,
    pub clock: Arc<dyn Clock>,
    pub waker: Arc<Notify>,
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    /// SMS-1: none when texts are off (SMS is then never offered).
    pub notify: Option<NotifyClient>,
    /// OPS-5: checked between messages.
    stopping: Stopping,
}

const SWEEP: Duration = Duration::from_secs(5);
const BATCH: i64 = 20;
/// Seconds a worker holds a claimed outbox row before another may retry it: several
/// times one send's SMTP timeout, and short, since a code waits it out when its
/// instance dies mid-send.
pub const CLAIM_LEASE: i64 = 60;
/// Failed sends before a message is given up (about 1.5 hours of back-off).
const MAX_SEND_ATTEMPTS: i64 = 10;

impl MailWorker {
    pub fn new(
        pool: AnyPool,
        clock: Arc<dyn Clock>,
        waker: Arc<Notify>,
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    ) -> Self {
        Self {
            pool,
            clock,
            waker,
            transport,
            from,
            notify: None,
            stopping: Stopping::never(),
        }
    }

    /// The same worker, sending texts through `notify` too.
    pub fn with_texts(self, notify: Option<NotifyClient>) -> Self {
        Self { notify, ..self }
    }

    /// The SMTP transport the settings ask for (ALL-7): TLS with credentials to a real
    /// relay, plain only to one on this machine (checked by the settings' validation).
    pub fn transport(
        settings: &Settings,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        let host = settings.smtp_host.as_str();
        let builder = match settings.smtp_tls {
            SmtpTls::None => Transport::builder_dangerous(host),
            SmtpTls::StartTls => Transport::starttls_relay(host)?,
            SmtpTls::Tls => Transport::relay(host)?,
        };
        let builder = builder
            .port(settings.smtp_port)
            .timeout(Some(Duration::from_secs(10)));
        let builder = match &settings.smtp_username {
            Some(user) => builder.credentials(Credentials::new(
                user.clone(),
                settings.smtp_password.expose_secret().to_owned(),
            )),
            None => builder,
        };
        Ok(builder.build())
    }

    /// Sends what is due, then waits to be woken (or for the next sweep), until told to
    /// stop (OPS-5): then it finishes the message in hand and returns; the rest wait in
    /// the outbox for another instance, or this one's restart.
    pub async fn run(mut self, mut stopping: Stopping) {
        self.stopping = stopping.clone();
        loop {
            if let Err(e) = self.send_due().await {
                tracing::warn!(error = %e, "mail outbox sweep failed");
            }
            tokio::select! {
                _ = self.waker.notified() => {}
                stop = stopping.sleep(SWEEP) => if stop { return },
            }
            if stopping.requested() {
                return;
            }
        }
    }

    /// One sweep — the first as the server starts: expired codes wiped wherever they wait,
    /// then what is due sent.
    async fn send_due(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        outbox::drop_expired(&self.pool, now).await?;
        let due = outbox::due(&self.pool, now, BATCH).await?;
        self.deliver(due).await
    }

    /// Sends the rows this worker manages to claim, and records each outcome.
    async fn deliver(&self, due: Vec<QueuedMail>) -> Result<(), StoreError> {
        for mail in due {
            if self.stopping.requested() {
                break;
            }
            // Claim the row with a lease before sending, so that when several instances
            // share one database only one of them sends it (no duplicate unlock codes).
            // If this instance dies mid-send, another retries once the lease runs out. The
            // lease runs from now, not from the sweep's start: earlier sends may have taken
            // up to their timeout each, and a lease already past would let a second
            // instance send the same message.
            let now = self.clock.now();
            if !outbox::claim(&self.pool, &mail.id, now, now + CLAIM_LEASE).await? {
                continue;
            }
            // ALL-7: a code that no longer works is not sent at all — judged by the clock
            // now, not at the sweep's start (earlier sends may have taken a while).
            if mail.expires_at.is_some_and(|expires_at| now >= expires_at) {
                outbox::mark_dropped(&self.pool, &mail.id, now, "expired before sending").await?;
                continue;
            }
            let attempts = mail.attempts + 1;
            let sent = match mail.channel.as_str() {
                "sms" => self.send_text(&mail).await,
                _ => self.send(&mail).await.map_err(SendError::Retry),
            };
            match sent {
                Ok(()) => {
                    outbox::mark_sent(&self.pool, &mail.id, self.clock.now(), attempts).await?
                }
                Err(SendError::Permanent(error)) => {
                    tracing::error!(%error, outbox_id = %mail.id, "message refused; not retried");
                    let now = self.clock.now();
                    outbox::mark_dropped(&self.pool, &mail.id, now, &error).await?;
                }
                Err(SendError::Retry(error)) => {
                    if attempts >= MAX_SEND_ATTEMPTS {
                        tracing::error!(%error, outbox_id = %mail.id, "mail given up");
                        let now = self.clock.now();
                        outbox::mark_dropped(&self.pool, &mail.id, now, &error).await?;
                        continue;
                    }
                    tracing::warn!(%error, outbox_id = %mail.id, "mail not sent; will retry");
                    let backoff = 5i64.saturating_mul(1 << mail.attempts.clamp(0, 10));
                    let retry_at = self.clock.now() + backoff;
                    outbox::mark_failed(&self.pool, &mail.id, attempts, retry_at, &error).await?;
                }
            }
        }
        Ok(())
    }

    /// SMS-1: a queued text, through Notify; its outbox id is the reference.
    async fn send_text(&self, text: &QueuedMail) -> Result<(), SendError> {
        let Some(notify) = &self.notify else {
            return Err(SendError::Permanent("texts are not configured".into()));
        };
        let personalisation: serde_json::Value = serde_json::from_str(&text.body)
            .map_err(|_| SendError::Permanent("personalisation is not JSON".into()))?;
        notify
            .send_sms(&text.recipient, &personalisation, &text.id)
            .await
            .map(|_| ())
    }

    async fn send(&self, mail: &QueuedMail) -> Result<(), String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("bad recipient: {e}"))?;
        // The outbox row's id: a relay or a check after a fault can tell a message sent
        // twice (OPS-6) from two messages.
        let message_id = format!("<{}@{}>", mail.id, self.from.email.domain());
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(message_id))
            .subject(&mail.subject);
        let message = match &mail.html_body {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.body.clone(),
                html.clone(),
            )),
            None => builder.body(mail.body.clone()),
        }
        .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::clock::TestClock;
    use crate::mail::templates::Mail;
    use crate::store::Store;

    fn local_transport(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
        let settings = Settings {
            smtp_port: port,
            ..Settings::default()
        };
        MailWorker::transport(&settings).unwrap()
    }

    #[test]
    fn all_7_tls_transports_build_for_a_real_relay() {
        for tls in [SmtpTls::StartTls, SmtpTls::Tls] {
            let settings = Settings {
                smtp_host: "smtp.example.nhs.uk".into(),
                smtp_port: 587,
                smtp_tls: tls,
                smtp_username: Some("selfservice".into()),
                smtp_password: "s3cret".into(),
                ..Settings::default()
            };
            assert!(settings.validate_smtp().is_ok());
            assert!(MailWorker::transport(&settings).is_ok());
        }
    }

    async fn mails_to(recipient: &str) -> usize {
        let api =
            std::env::var("MAILDEV_API_URL").unwrap_or_else(|_| "http://127.0.0.1:1080".into());
        let mails: Vec<serde_json::Value> = reqwest::get(format!("{api}/api/email"))
            .await
            .expect("the maildev catcher must run")
            .json()
            .await
            .unwrap();
        mails
            .iter()
            .filter(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|a| a["address"] == recipient))
            })
            .count()
    }

    // UNL-5 / ALL-1: two server instances sharing one database send each outbox row once,
    // so a user never gets the same unlock code twice (or two different deliveries).
    #[tokio::test]
    async fn unl_5_two_instances_send_an_outbox_row_once() {
        let file = std::env::temp_dir().join(format!("scss-outbox-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let smtp_port = std::env::var("MAILDEV_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1025);
        let clock = Arc::new(TestClock::new(1_800_000_000));
        let pool_a = Store::connect(&url).await.unwrap().pool;
        let pool_b = Store::connect(&url).await.unwrap().pool;
        let recipient = format!("outbox-{}@nhs.net", uuid::Uuid::new_v4().simple());
        let mut conn = pool_a.acquire().await.unwrap();
        let mail = Mail {
            to: recipient.clone(),
            subject: "Smartcard Unlock Code".into(),
            text: "123456".into(),
            html: "<p>123456</p>".into(),
            expires_at: Some(clock.now() + 900),
        };
        outbox::queue(&mut conn, clock.now(), &mail).await.unwrap();
        drop(conn);
        let from: Mailbox = "Smartcard Service Centre <smartcard.servicecentre@nhs.net>"
            .parse()
            .unwrap();
        let worker = |pool: AnyPool| {
            MailWorker::new(
                pool,
                clock.clone(),
                Arc::new(Notify::new()),
                local_transport(smtp_port),
                from.clone(),
            )
        };
        let (a, b) = (worker(pool_a.clone()), worker(pool_b));
        // Both instances see the row as due before either sends it: the real race.
        let now = clock.now();
        let due_a = outbox::due(&pool_a, now, BATCH).await.unwrap();
        let due_b = outbox::due(&b.pool, now, BATCH).await.unwrap();
        assert_eq!((due_a.len(), due_b.len()), (1, 1));
        let (ra, rb) = tokio::join!(a.deliver(due_a), b.deliver(due_b));
        ra.unwrap();
        rb.unwrap();
        let mut seen = 0;
        for _ in 0..30 {
            seen = mails_to(&recipient).await;
            if seen > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(mails_to(&recipient).await, 1, "seen {seen}");
        assert_eq!(outbox::unsent_count(&pool_a).await.unwrap(), 0);
        // ALL-7: once sent, the code is no longer at rest.
        assert_eq!(outbox::bodies_kept(&pool_a).await.unwrap(), 0);
        let _ = std::fs::remove_file(&file);
    }

    /// An outbox on a fresh SQLite file with one queued code email (expiring in 900 s),
    /// and a worker whose SMTP server is absent: a send is tried and fails.
    async fn outbox_with_a_code(
        clock: &Arc<TestClock>,
    ) -> (std::path::PathBuf, sqlx::AnyPool, MailWorker, String) {
        let file = std::env::temp_dir().join(format!("scss-outbox-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let pool = Store::connect(&url).await.unwrap().pool;
        let recipient = format!("expired-{}@nhs.net", uuid::Uuid::new_v4().simple());
        let mail = Mail {
            to: recipient.clone(),
            subject: "Smartcard Unlock Code".into(),
            text: "654321".into(),
            html: "<p>654321</p>".into(),
            expires_at: Some(clock.now() + 900),
        };
        let mut conn = pool.acquire().await.unwrap();
        outbox::queue(&mut conn, clock.now(), &mail).await.unwrap();
        drop(conn);
        let worker = MailWorker::new(
            pool.clone(),
            clock.clone(),
            Arc::new(Notify::new()),
            local_transport(1),
            "Smartcard Service Centre <smartcard.servicecentre@nhs.net>"
                .parse()
                .unwrap(),
        );
        (file, pool, worker, recipient)
    }

    // ALL-7: a queued code that expired before it could be sent is dropped, unsent, and
    // wiped from the outbox.
    #[tokio::test]
    async fn all_7_an_expired_code_is_dropped_not_sent() {
        let clock = Arc::new(TestClock::new(1_800_000_000));
        let (file, pool, worker, recipient) = outbox_with_a_code(&clock).await;
        clock.advance(900);
        // Had it tried, it would have failed (nothing listens), not dropped.
        worker.send_due().await.unwrap();
        assert_eq!(outbox::unsent_count(&pool).await.unwrap(), 0);
        assert_eq!(outbox::bodies_kept(&pool).await.unwrap(), 0);
        assert_eq!(mails_to(&recipient).await, 0);
        let _ = std::fs::remove_file(&file);
    }

    // ALL-7: a code whose send failed and is waiting out its backoff is wiped the moment
    // it expires, not kept readable until its next try.
    #[tokio::test]
    async fn all_7_an_expired_code_waiting_to_retry_is_wiped_on_the_sweep() {
        let clock = Arc::new(TestClock::new(1_800_000_000));
        let (file, pool, worker, _) = outbox_with_a_code(&clock).await;
        worker.send_due().await.unwrap();
        assert_eq!(outbox::bodies_kept(&pool).await.unwrap(), 1);
        // Expired, but its next try is long after: the sweep wipes it anyway.
        sqlx::query("UPDATE outbox SET next_attempt_at = $1")
            .bind(clock.now() + 100_000)
            .execute(&pool)
            .await
            .unwrap();
        clock.advance(900);
        worker.send_due().await.unwrap();
        assert_eq!(outbox::bodies_kept(&pool).await.unwrap(), 0);
        assert_eq!(outbox::unsent_count(&pool).await.unwrap(), 0);
        let _ = std::fs::remove_file(&file);
    }
}
