//! `outbox`: mail and text messages (SMS-1), written in the same transaction as the state
//! change that caused them, sent after commit by the mail worker; rows are claimed with a lease before sending so
//! that several instances sharing a database send each one once. A message is wiped once
//! sent or dropped, so no code stays at rest in clear (ALL-7).

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;
use crate::mail::templates::Mail;
use crate::mail::texts::Text;
use crate::secrets::random_bytes;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    pub attempts: i64,
    pub expires_at: Option<i64>,
    /// `email`, or `sms`: then `body` is the template's personalisation, as JSON.
    pub channel: String,
}

/// The subject a queued text is listed under (it has none of its own).
pub const TEXT_SUBJECT: &str = "one_time_passcode";

/// SMS-1: a text, queued like mail; its personalisation waits as JSON in `body`.
pub async fn queue_text(conn: &mut AnyConnection, now: i64, text: &Text) -> Result<(), StoreError> {
    let body = serde_json::to_string(&text.personalisation)
        .map_err(|_| super::corrupt("outbox", "body"))?;
    sqlx::query(
        "INSERT INTO outbox (id, recipient, subject, body, created_at, next_attempt_at, \
         expires_at, channel) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sms')",
    )
    .bind(hex::encode(random_bytes::<16>()))
    .bind(&text.to)
    .bind(TEXT_SUBJECT)
    .bind(body)
    .bind(now)
    .bind(now)
    .bind(text.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn queue(conn: &mut AnyConnection, now: i64, mail: &Mail) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, recipient, subject, body, html_body, created_at, \
         next_attempt_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(hex::encode(random_bytes::<16>()))
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .bind(now)
    .bind(mail.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Unsent rows due at `now`, oldest first. Another instance may be reading them too.
pub async fn due(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
    Ok(sqlx::query_as::<_, QueuedMail>(
        "SELECT id, recipient, subject, body, html_body, attempts, expires_at, channel \
         FROM outbox \
         WHERE sent_at IS NULL AND dropped_at IS NULL AND next_attempt_at <= $1 \
         ORDER BY created_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Takes a due row until `lease_until`; false if another instance took it first.
pub async fn claim(
    pool: &AnyPool,
    id: &str,
    now: i64,
    lease_until: i64,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1 \
         WHERE id = $2 AND sent_at IS NULL AND dropped_at IS NULL AND next_attempt_at <= $3",
    )
    .bind(lease_until)
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Sent: the body is wiped, only the envelope stays.
pub async fn mark_sent(pool: &AnyPool, id: &str, at: i64, attempts: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, attempts = $2, body = '', html_body = NULL \
         WHERE id = $3",
    )
    .bind(at)
    .bind(attempts)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    pool: &AnyPool,
    id: &str,
    attempts: i64,
    retry_at: i64,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
    )
    .bind(attempts)
    .bind(retry_at)
    .bind(error)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Given up (its code expired, or too many failed tries): wiped and never sent.
pub async fn mark_dropped(pool: &AnyPool, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET dropped_at = $1, last_error = $2, body = '', html_body = NULL \
         WHERE id = $3",
    )
    .bind(at)
    .bind(why)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// How many messages still hold a body (unsent and not dropped).
/// ALL-7: every unsent message whose code has expired is dropped and wiped now, even one
/// waiting out a retry's backoff (so its code is not kept readable until its next try).
pub async fn drop_expired(pool: &AnyPool, now: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outbox SET dropped_at = $1, last_error = 'expired before sending', body = '', \
         html_body = NULL WHERE sent_at IS NULL AND dropped_at IS NULL \
         AND expires_at IS NOT NULL AND expires_at <= $1",
    )
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn bodies_kept(pool: &AnyPool) -> Result<i64, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Count {
        kept: i64,
    }
    Ok(sqlx::query_as::<_, Count>(
        "SELECT COUNT(*) AS kept FROM outbox WHERE body <> '' OR html_body IS NOT NULL",
    )
    .fetch_one(pool)
    .await?
    .kept)
}

pub async fn unsent_count(pool: &AnyPool) -> Result<i64, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Count {
        unsent: i64,
    }
    Ok(sqlx::query_as::<_, Count>(
        "SELECT COUNT(*) AS unsent FROM outbox WHERE sent_at IS NULL AND dropped_at IS NULL",
    )
    .fetch_one(pool)
    .await?
    .unsent)
}

/// What waits unsent on one channel (`email` or `sms`): OPS-2's depth and age, OPS-4's
/// "stuck".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Backlog {
    pub channel: String,
    pub unsent: i64,
    pub oldest_created_at: Option<i64>,
}

pub async fn backlog(pool: &AnyPool) -> Result<Vec<Backlog>, StoreError> {
    Ok(sqlx::query_as::<_, Backlog>(
        "SELECT channel, COUNT(*) AS unsent, MIN(created_at) AS oldest_created_at \
         FROM outbox WHERE sent_at IS NULL AND dropped_at IS NULL GROUP BY channel",
    )
    .fetch_all(pool)
    .await?)
}

/// One message's fate, for checking after a fault that each was delivered once (OPS-6).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Fate {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub sent_at: Option<i64>,
    pub dropped_at: Option<i64>,
}

pub async fn fates(pool: &AnyPool) -> Result<Vec<Fate>, StoreError> {
    Ok(sqlx::query_as::<_, Fate>(
        "SELECT id, channel, recipient, subject, sent_at, dropped_at FROM outbox ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}
