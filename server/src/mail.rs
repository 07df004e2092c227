//! Sends the outbox: rows are written in the same transaction as the state change that
//! caused them, and this worker delivers them over SMTP (lettre) after commit, retrying
//! with back-off. Woken after each commit, with a slow sweep as a safety net.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{AnyPool, Row};
use tokio::sync::Notify;

use crate::clock::Clock;

pub struct MailWorker {
    pub pool: AnyPool,
    pub clock: Arc<dyn Clock>,
    pub waker: Arc<Notify>,
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
}

const SWEEP: Duration = Duration::from_secs(5);
const BATCH: i64 = 20;

impl MailWorker {
    pub fn new(
        pool: AnyPool,
        clock: Arc<dyn Clock>,
        waker: Arc<Notify>,
        host: &str,
        port: u16,
        from: Mailbox,
    ) -> Self {
        // Plain SMTP to the local relay/catcher; TLS to a real relay is a deployment setting.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(10)))
            .build();
        Self {
            pool,
            clock,
            waker,
            transport,
            from,
        }
    }

    pub async fn run(self) {
        loop {
            if let Err(e) = self.send_due().await {
                tracing::warn!(error = %e, "mail outbox sweep failed");
            }
            tokio::select! {
                _ = self.waker.notified() => {}
                _ = tokio::time::sleep(SWEEP) => {}
            }
        }
    }

    async fn send_due(&self) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let due = sqlx::query(
            "SELECT id, recipient, subject, body, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        for row in due {
            let id: String = row.try_get(0)?;
            let attempts: i64 = row.try_get(4)?;
            let outcome = self
                .send(
                    &row.try_get::<String, _>(1)?,
                    &row.try_get::<String, _>(2)?,
                    row.try_get(3)?,
                )
                .await;
            match outcome {
                Ok(()) => {
                    sqlx::query("UPDATE outbox SET sent_at = $1, attempts = $2 WHERE id = $3")
                        .bind(self.clock.now())
                        .bind(attempts + 1)
                        .bind(&id)
                        .execute(&self.pool)
                        .await?;
                }
                Err(error) => {
                    tracing::warn!(%error, outbox_id = %id, "mail not sent; will retry");
                    let backoff = 5i64.saturating_mul(1 << attempts.clamp(0, 10));
                    sqlx::query(
                        "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
                    )
                    .bind(attempts + 1)
                    .bind(self.clock.now() + backoff)
                    .bind(error)
                    .bind(&id)
                    .execute(&self.pool)
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, recipient: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = recipient
            .parse()
            .map_err(|e| format!("bad recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
