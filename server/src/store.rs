//! The database edge: one sqlx `AnyPool` over SQLite (default) or PostgreSQL, chosen by
//! URL, with each backend's migrations; the audit chain and the mail outbox, both
//! written inside the caller's transaction.

use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use crate::secrets::{random_bytes, AnswerHasher, Kek};
use crate::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Row lock for read-then-write steps. SQLite needs none: its pool has one
    /// connection, so its transactions never overlap.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

pub async fn connect(url: &str) -> Result<(AnyPool, Backend), sqlx::Error> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url);
    let pool = AnyPoolOptions::new()
        .max_connections(match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 10,
        })
        .connect(url)
        .await?;
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
    }
    Ok((pool, backend))
}

/// One security event (RA-4): who, what, when, from where, outcome.
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub card_guid: Option<&'a str>,
    pub user_uuid: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    pub detail: &'a str,
}

/// Appends to the hash chain. Serialised on PostgreSQL by a table lock held until the
/// caller's transaction ends, so two instances can't fork the chain.
pub async fn audit(
    conn: &mut AnyConnection,
    backend: Backend,
    now: i64,
    entry: &AuditEntry<'_>,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await?;
    }
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev_hash) = match last {
        Some(row) => (row.try_get::<i64, _>(0)? + 1, row.try_get::<String, _>(1)?),
        None => (1, "0".repeat(64)),
    };
    let hash = audit_hash(&prev_hash, seq, now, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, outcome, card_guid, user_uuid, \
         client_addr, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(now)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.outcome)
    .bind(entry.card_guid)
    .bind(entry.user_uuid)
    .bind(entry.client_addr)
    .bind(entry.detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn audit_hash(prev_hash: &str, seq: i64, at: i64, e: &AuditEntry<'_>) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        &seq.to_string(),
        &at.to_string(),
        e.actor,
        e.action,
        e.outcome,
        e.card_guid.unwrap_or(""),
        e.user_uuid.unwrap_or(""),
        e.client_addr.unwrap_or(""),
        e.detail,
    ] {
        // Length-prefixed so fields can't run into each other.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Re-computes the chain; `Ok(n)` is the number of rows, `Err(seq)` the first bad one.
pub async fn verify_audit_chain(pool: &AnyPool) -> Result<Result<usize, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, action, outcome, card_guid, user_uuid, client_addr, detail, \
         prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    let mut prev = "0".repeat(64);
    for row in &rows {
        let seq: i64 = row.try_get(0)?;
        let card: Option<String> = row.try_get(5)?;
        let user: Option<String> = row.try_get(6)?;
        let addr: Option<String> = row.try_get(7)?;
        let entry = AuditEntry {
            actor: &row.try_get::<String, _>(2)?,
            action: &row.try_get::<String, _>(3)?,
            outcome: &row.try_get::<String, _>(4)?,
            card_guid: card.as_deref(),
            user_uuid: user.as_deref(),
            client_addr: addr.as_deref(),
            detail: &row.try_get::<String, _>(8)?,
        };
        let stored_prev: String = row.try_get(9)?;
        let stored_hash: String = row.try_get(10)?;
        if stored_prev != prev || audit_hash(&prev, seq, row.try_get(1)?, &entry) != stored_hash {
            return Ok(Err(seq));
        }
        prev = stored_hash;
    }
    Ok(Ok(rows.len()))
}

/// Queues an email in the caller's transaction; the mail worker sends it after commit.
pub async fn queue_mail(
    conn: &mut AnyConnection,
    now: i64,
    recipient: &str,
    subject: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, recipient, subject, body, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(hex::encode(random_bytes::<16>()))
    .bind(recipient)
    .bind(subject)
    .bind(body)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub struct NewUser<'a> {
    pub uuid: &'a str,
    pub title: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub registered: bool,
}

pub struct NewCard<'a> {
    pub guid: &'a str,
    pub card_auth_public_key: &'a [u8],
    pub puk: &'a str,
}

/// Creates (or replaces) a user with their security answers and card, in one
/// transaction. Used by the demo seed and the tests; registration proper is a later flow.
pub async fn enroll(
    pool: &AnyPool,
    kek: &Kek,
    hasher: &AnswerHasher,
    now: i64,
    user: &NewUser<'_>,
    answers: &[(i64, &str)],
    card: &NewCard<'_>,
) -> Result<(), AppError> {
    let mut hashed = Vec::new();
    for (question, answer) in answers {
        hashed.push((*question, hasher.hash(answer)?));
    }
    let mut tx = pool.begin().await?;
    for statement in [
        "DELETE FROM security_answers WHERE user_uuid = $1",
        "DELETE FROM unlock_attempts WHERE user_uuid = $1",
        "DELETE FROM cards WHERE user_uuid = $1",
        "DELETE FROM users WHERE uuid = $1",
    ] {
        sqlx::query(statement)
            .bind(user.uuid)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO users (uuid, title, given_name, family_name, email, role, registered) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.uuid)
    .bind(user.title)
    .bind(user.given_name)
    .bind(user.family_name)
    .bind(user.email)
    .bind(user.role)
    .bind(i64::from(user.registered))
    .execute(&mut *tx)
    .await?;
    for (question, hash) in &hashed {
        sqlx::query(
            "INSERT INTO security_answers (user_uuid, question_id, answer_hash) VALUES ($1, $2, $3)",
        )
        .bind(user.uuid)
        .bind(*question)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM cards WHERE guid = $1")
        .bind(card.guid)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO cards (guid, user_uuid, card_auth_public_key, puk_enc, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(card.guid)
    .bind(user.uuid)
    .bind(card.card_auth_public_key)
    .bind(kek.seal(card.puk.as_bytes(), card.guid)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
