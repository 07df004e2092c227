//! Sends the outbox: rows are written in the same transaction as the state change that
//! caused them, and this worker delivers them over SMTP (lettre) after commit, retrying
//! with back-off. Woken after each commit, with a slow sweep as a safety net.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::any::AnyRow;
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
/// Seconds a worker holds a claimed outbox row before another may retry it.
const CLAIM_LEASE: i64 = 120;

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
        let due = self.due(now).await?;
        self.deliver(now, due).await
    }

    /// Outbox rows due at `now`. Another instance may be reading the same rows.
    async fn due(&self, now: i64) -> Result<Vec<AnyRow>, sqlx::Error> {
        sqlx::query(
            "SELECT id, recipient, subject, body, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY created_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await
    }

    /// Sends the rows this worker manages to claim, and records each outcome.
    async fn deliver(&self, now: i64, due: Vec<AnyRow>) -> Result<(), sqlx::Error> {
        for row in due {
            let id: String = row.try_get(0)?;
            let attempts: i64 = row.try_get(4)?;
            // Claim the row with a lease before sending, so that when several instances
            // share one database only one of them sends it (no duplicate unlock codes).
            // If this instance dies mid-send, another retries once the lease runs out.
            let claimed = sqlx::query(
                "UPDATE outbox SET next_attempt_at = $1 \
                 WHERE id = $2 AND sent_at IS NULL AND next_attempt_at <= $3",
            )
            .bind(now + CLAIM_LEASE)
            .bind(&id)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if claimed != 1 {
                continue;
            }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::clock::TestClock;
    use crate::store::{connect, queue_mail};

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
    async fn two_instances_send_an_outbox_row_once() {
        let file = std::env::temp_dir().join(format!("scss-outbox-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let smtp_port = std::env::var("MAILDEV_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1025);
        let clock = Arc::new(TestClock::new(1_800_000_000));
        let (pool_a, _) = connect(&url).await.unwrap();
        let (pool_b, _) = connect(&url).await.unwrap();
        let recipient = format!("outbox-{}@nhs.net", uuid::Uuid::new_v4().simple());
        let mut conn = pool_a.acquire().await.unwrap();
        queue_mail(
            &mut conn,
            clock.now(),
            &recipient,
            "Smartcard Unlock Code",
            "123456",
        )
        .await
        .unwrap();
        drop(conn);
        let from: Mailbox = "Smartcard Service Centre <smartcard.servicecentre@nhs.net>"
            .parse()
            .unwrap();
        let worker = |pool: AnyPool| {
            MailWorker::new(
                pool,
                clock.clone(),
                Arc::new(Notify::new()),
                "127.0.0.1",
                smtp_port,
                from.clone(),
            )
        };
        let (a, b) = (worker(pool_a.clone()), worker(pool_b));
        // Both instances see the row as due before either sends it: the real race.
        let now = clock.now();
        let due_a = a.due(now).await.unwrap();
        let due_b = b.due(now).await.unwrap();
        assert_eq!((due_a.len(), due_b.len()), (1, 1));
        let (ra, rb) = tokio::join!(a.deliver(now, due_a), b.deliver(now, due_b));
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
        let unsent: i64 = sqlx::query("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&pool_a)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(unsent, 0);
        let _ = std::fs::remove_file(&file);
    }
}
