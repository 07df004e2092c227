//! `audit_log` (RA-4): every security event — who, what, when, from where, outcome —
//! written inside the step's own transaction, so an event exists exactly when its step's
//! changes do. Tamper-evident and append-only:
//! - events form [`CHAINS`] independent chains (by actor), each link an HMAC-SHA256 under
//!   the audit key from configuration, so nobody without the key can edit, insert or
//!   remove a row unnoticed ([`verify`]);
//! - an append locks only its own chain's head row, so audited steps of different cards
//!   don't queue behind one table lock;
//! - the database refuses UPDATE and DELETE on the log (triggers, and on PostgreSQL a
//!   service role without those rights: `server/deploy/postgres-app-role.sql`).

use hmac::Mac;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool};

use super::{Backend, StoreError};
use crate::secrets::AuditKey;

/// How many independent chains the log is split into.
pub const CHAINS: i64 = 16;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    chain: i64,
    chain_seq: i64,
    prev_mac: String,
    mac: String,
}

#[derive(sqlx::FromRow)]
struct ChainHead {
    chain: i64,
    chain_seq: i64,
    mac: String,
}

/// The chain an actor's events go to: all of one card's events stay in order in one.
fn chain_of(actor: &str) -> i64 {
    i64::from(Sha256::digest(actor.as_bytes())[0]) % CHAINS
}

/// Appends to the actor's chain, locking only that chain's head.
pub async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &AuditKey,
    at: i64,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    let chain = chain_of(&entry.actor);
    let head = sqlx::query_as::<_, ChainHead>(&format!(
        "SELECT chain, chain_seq, mac FROM audit_chain_heads WHERE chain = $1{}",
        backend.for_update()
    ))
    .bind(chain)
    .fetch_one(&mut *conn)
    .await?;
    let chain_seq = head.chain_seq + 1;
    let mac = link_mac(key, &head.mac, chain, chain_seq, at, entry);
    sqlx::query("UPDATE audit_chain_heads SET chain_seq = $1, mac = $2 WHERE chain = $3")
        .bind(chain_seq)
        .bind(&mac)
        .bind(chain)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, outcome, card_guid, user_uuid, \
         client_addr, detail, chain, chain_seq, prev_mac, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.outcome)
    .bind(entry.card_guid.as_deref())
    .bind(entry.user_uuid.as_deref())
    .bind(entry.client_addr.as_deref())
    .bind(&entry.detail)
    .bind(chain)
    .bind(chain_seq)
    .bind(&head.mac)
    .bind(&mac)
    .execute(conn)
    .await?;
    Ok(())
}

fn link_mac(
    key: &AuditKey,
    prev_mac: &str,
    chain: i64,
    chain_seq: i64,
    at: i64,
    e: &AuditEntry,
) -> String {
    let mut mac = key.mac();
    for field in [
        prev_mac,
        &chain.to_string(),
        &chain_seq.to_string(),
        &at.to_string(),
        &e.actor,
        &e.action,
        &e.outcome,
        e.card_guid.as_deref().unwrap_or("\u{0}"),
        e.user_uuid.as_deref().unwrap_or("\u{0}"),
        e.client_addr.as_deref().unwrap_or("\u{0}"),
        &e.detail,
    ] {
        // Length-prefixed so fields can't run into each other.
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Every chain links up under the key, from its start to its head.
    Intact { rows: usize },
    /// The first row (by `seq`) whose link does not hold, or the chain whose rows stop
    /// short of its head (rows removed at the end).
    Broken {
        seq: Option<i64>,
        chain: i64,
        reason: &'static str,
    },
}

/// Walks every chain under the key.
pub async fn verify(pool: &AnyPool, key: &AuditKey) -> Result<Verified, StoreError> {
    let rows = sqlx::query_as::<_, AuditRow>(
        "SELECT seq, at, actor, action, outcome, card_guid, user_uuid, client_addr, detail, \
         chain, chain_seq, prev_mac, mac FROM audit_log ORDER BY chain, chain_seq",
    )
    .fetch_all(pool)
    .await?;
    let heads = sqlx::query_as::<_, ChainHead>(
        "SELECT chain, chain_seq, mac FROM audit_chain_heads ORDER BY chain",
    )
    .fetch_all(pool)
    .await?;
    let count = rows.len();
    let mut broken: Vec<(i64, i64, &'static str)> = Vec::new();
    let mut tips: std::collections::BTreeMap<i64, (i64, String)> = Default::default();
    for row in rows {
        let (last_seq, last_mac) = tips
            .get(&row.chain)
            .cloned()
            .unwrap_or((0, GENESIS.to_owned()));
        let entry = AuditEntry {
            actor: row.actor,
            action: row.action,
            outcome: row.outcome,
            card_guid: row.card_guid,
            user_uuid: row.user_uuid,
            client_addr: row.client_addr,
            detail: row.detail,
        };
        let reason = if row.chain_seq != last_seq + 1 {
            Some("a row before it is missing")
        } else if row.prev_mac != last_mac {
            Some("it does not link to the row before it")
        } else if link_mac(key, &last_mac, row.chain, row.chain_seq, row.at, &entry) != row.mac
            || chain_of(&entry.actor) != row.chain
        {
            Some("its contents do not match its MAC")
        } else {
            None
        };
        if let Some(reason) = reason {
            broken.push((row.seq, row.chain, reason));
        }
        tips.insert(row.chain, (row.chain_seq, row.mac));
    }
    if let Some((seq, chain, reason)) = broken.into_iter().min_by_key(|b| b.0) {
        return Ok(Verified::Broken {
            seq: Some(seq),
            chain,
            reason,
        });
    }
    for head in heads {
        let (last_seq, last_mac) = tips.remove(&head.chain).unwrap_or((0, GENESIS.to_owned()));
        if last_seq != head.chain_seq || last_mac != head.mac {
            return Ok(Verified::Broken {
                seq: None,
                chain: head.chain,
                reason: "its rows stop short of the chain's head",
            });
        }
    }
    Ok(Verified::Intact { rows: count })
}
