//! `audit_log` (RA-4): every security event — who, what, when, from where, outcome — in a
//! hash chain written inside the step's own transaction, so an event exists exactly when
//! its step's changes do.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool};

use super::{Backend, StoreError};

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub card_guid: Option<String>,
    pub user_uuid: Option<String>,
    pub client_addr: Option<String>,
    pub detail: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    outcome: String,
    card_guid: Option<String>,
    user_uuid: Option<String>,
    client_addr: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
}

#[derive(sqlx::FromRow)]
struct ChainHead {
    seq: i64,
    hash: String,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Appends to the chain. Serialised on PostgreSQL by a table lock held until the
/// caller's transaction ends, so two instances can't fork the chain.
pub async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    at: i64,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await?;
    }
    let head =
        sqlx::query_as::<_, ChainHead>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev_hash) = match head {
        Some(head) => (head.seq + 1, head.hash),
        None => (1, GENESIS.to_owned()),
    };
    let hash = chain_hash(&prev_hash, seq, at, entry);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, outcome, card_guid, user_uuid, \
         client_addr, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.outcome)
    .bind(entry.card_guid.as_deref())
    .bind(entry.user_uuid.as_deref())
    .bind(entry.client_addr.as_deref())
    .bind(&entry.detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(conn)
    .await?;
    Ok(())
}

fn chain_hash(prev_hash: &str, seq: i64, at: i64, e: &AuditEntry) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        &seq.to_string(),
        &at.to_string(),
        &e.actor,
        &e.action,
        &e.outcome,
        e.card_guid.as_deref().unwrap_or(""),
        e.user_uuid.as_deref().unwrap_or(""),
        e.client_addr.as_deref().unwrap_or(""),
        &e.detail,
    ] {
        // Length-prefixed so fields can't run into each other.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Re-computes the chain; `Ok(n)` is the number of rows, `Err(seq)` the first bad one.
pub async fn verify_chain(pool: &AnyPool) -> Result<Result<usize, i64>, StoreError> {
    let rows = sqlx::query_as::<_, AuditRow>(
        "SELECT seq, at, actor, action, outcome, card_guid, user_uuid, client_addr, detail, \
         prev_hash, hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    let mut prev = GENESIS.to_owned();
    let count = rows.len();
    for row in rows {
        let entry = AuditEntry {
            actor: row.actor,
            action: row.action,
            outcome: row.outcome,
            card_guid: row.card_guid,
            user_uuid: row.user_uuid,
            client_addr: row.client_addr,
            detail: row.detail,
        };
        if row.prev_hash != prev || chain_hash(&prev, row.seq, row.at, &entry) != row.hash {
            return Ok(Err(row.seq));
        }
        prev = row.hash;
    }
    Ok(Ok(count))
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub action: String,
    pub outcome: String,
}

/// The events recorded about one user, oldest first.
pub async fn events_for_user(
    pool: &AnyPool,
    user_uuid: &str,
) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(sqlx::query_as::<_, AuditEvent>(
        "SELECT action, outcome FROM audit_log WHERE user_uuid = $1 ORDER BY seq",
    )
    .bind(user_uuid)
    .fetch_all(pool)
    .await?)
}
