//! `audit_log` (RA-4): every security event — who, what, when, from where, outcome —
//! written inside the step's own transaction, so an event exists exactly when its step's
//! changes do. Tamper-evident and append-only:
//! - events form independent chains (by actor: [`chain_of`]), each link an HMAC-SHA256
//!   under the audit key from configuration, so nobody without the key can edit, insert or
//!   remove a row unnoticed ([`super::audit_check`]: incremental from MACed checkpoints
//!   for the RA's page, from the start for `audit verify`, both streaming);
//! - an append locks only its own chain's head row, so audited steps of different cards
//!   don't queue behind one table lock; a sign-in's ([`super::sessions::sign_in`]) goes
//!   in with the session it records, in one statement, only if the head it read is still
//!   the head;
//! - the database refuses UPDATE and DELETE on the log (triggers, and on PostgreSQL a
//!   service role without those rights: `deploy/postgres/grants.sql`).

use hmac::Mac;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use sqlx::{AnyConnection, AnyPool};

use super::{AnyQuery, Backend, StoreError};
use crate::secrets::AuditKey;

pub use super::audit_check::{verify, Verified};

/// The chains events went to before migration 0028, by the first byte of the actor's
/// SHA-256 modulo 16. They keep their events and take no more: steps of cards on one
/// chain race for its head, and with 16 chains one sign-in in seven of the sign-in bench
/// (1,500 a second) found the head moved and went round again (issue 22).
pub const FIRST_CHAINS: i64 = 16;
/// How many independent chains the log is split into: the first 16, then one per first
/// byte of the actor's SHA-256.
pub const CHAINS: i64 = FIRST_CHAINS + 256;
pub(super) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One security event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub card_guid: Option<String>,
    pub user_uuid: Option<String>,
    pub client_addr: Option<String>,
    pub detail: String,
}

/// A stored event with its link, as the checks read it.
#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    pub(super) seq: i64,
    pub(super) at: i64,
    #[sqlx(flatten)]
    pub(super) entry: AuditEntry,
    pub(super) chain: i64,
    pub(super) chain_seq: i64,
    pub(super) prev_mac: String,
    pub(super) mac: String,
}

/// A chain's last link, as the head row keeps it.
#[derive(Debug, sqlx::FromRow)]
pub struct ChainHead {
    pub(super) chain: i64,
    pub(super) chain_seq: i64,
    pub(super) mac: String,
}

/// The chain an actor's events go to: all of one card's events since migration 0028 stay
/// in order in one (those before it, in its first chain: [`FIRST_CHAINS`]).
/// Public for bulk loads (the million-event load test), as is [`link_mac`].
pub fn chain_of(actor: &str) -> i64 {
    FIRST_CHAINS + first_byte(actor)
}

/// Whether an event of `actor`'s may sit in `chain`: its chain, or one of the first chains
/// as events went to them before there were more ([`FIRST_CHAINS`]).
fn holds_events_of(chain: i64, actor: &str) -> bool {
    let byte = first_byte(actor);
    chain == FIRST_CHAINS + byte || chain == byte % FIRST_CHAINS
}

fn first_byte(actor: &str) -> i64 {
    i64::from(Sha256::digest(actor.as_bytes())[0])
}

/// A link's columns, for its values `$1`…`$12` ([`link_values!`]).
macro_rules! link_columns {
    () => {
        "audit_log (at, actor, action, outcome, card_guid, user_uuid, client_addr, detail, \
         chain, chain_seq, prev_mac, mac)"
    };
}

/// A link's values, as [`Link::bind`] binds them: `$9` is its chain, `$10` its place,
/// `$11` the MAC before it and `$12` its own.
macro_rules! link_values {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12"
    };
}

/// A link's row, from its values ([`Link::bind`]).
macro_rules! insert_link {
    () => {
        concat!(
            "INSERT INTO ",
            link_columns!(),
            " VALUES (",
            link_values!(),
            ")"
        )
    };
}

/// On PostgreSQL, the chain's head moved on to the link, as a `WITH` item beside the
/// link's insert: one round trip fewer per audited step (issue 22).
macro_rules! move_head {
    () => {
        "head AS (UPDATE audit_chain_heads SET chain_seq = $10, mac = $12 WHERE chain = $9)"
    };
}

pub(super) use {link_columns, link_values};

impl ChainHead {
    /// Which chain this is the head of.
    pub fn chain(&self) -> i64 {
        self.chain
    }
}

/// An event as the next link of its chain: its place after the head, and its MAC.
pub struct Link<'a> {
    at: i64,
    entry: &'a AuditEntry,
    chain: i64,
    chain_seq: i64,
    prev_mac: String,
    mac: String,
}

impl<'a> Link<'a> {
    /// `entry`, at `at`, as the link after `head`.
    pub fn after(key: &AuditKey, head: ChainHead, at: i64, entry: &'a AuditEntry) -> Self {
        let chain_seq = head.chain_seq + 1;
        let mac = link_mac(key, &head.mac, head.chain, chain_seq, at, entry);
        Self {
            at,
            entry,
            chain: head.chain,
            chain_seq,
            prev_mac: head.mac,
            mac,
        }
    }

    /// Binds [`link_values!`].
    pub(super) fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        let entry = self.entry;
        query
            .bind(self.at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.outcome)
            .bind(entry.card_guid.as_deref())
            .bind(entry.user_uuid.as_deref())
            .bind(entry.client_addr.as_deref())
            .bind(&entry.detail)
            .bind(self.chain)
            .bind(self.chain_seq)
            .bind(&self.prev_mac)
            .bind(&self.mac)
    }
}

/// Appends to the actor's chain, locking only that chain's head: the head, read and
/// locked; then the link written and the head moved on to it — two statements in all on
/// PostgreSQL, three on SQLite.
pub async fn append(
    conn: &mut AnyConnection,
    backend: Backend,
    key: &AuditKey,
    at: i64,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    let head = locked_head(&mut *conn, backend, chain_of(&entry.actor)).await?;
    write_link(conn, backend, &Link::after(key, head, at, entry)).await
}

/// `chain`'s head, locked for the rest of the transaction.
pub async fn locked_head(
    conn: &mut AnyConnection,
    backend: Backend,
    chain: i64,
) -> Result<ChainHead, StoreError> {
    Ok(sqlx::query_as::<_, ChainHead>(&format!(
        "SELECT chain, chain_seq, mac FROM audit_chain_heads WHERE chain = $1{}",
        backend.for_update()
    ))
    .bind(chain)
    .fetch_one(conn)
    .await?)
}

/// Writes `link` and moves its chain's head on to it. Public for tests that place an
/// event in a chain of their choosing (the layout before migration 0028).
pub async fn write_link(
    conn: &mut AnyConnection,
    backend: Backend,
    link: &Link<'_>,
) -> Result<(), StoreError> {
    let insert = match backend {
        Backend::Postgres => concat!("WITH ", move_head!(), " ", insert_link!()),
        Backend::Sqlite => insert_link!(),
    };
    link.bind(sqlx::query(insert)).execute(&mut *conn).await?;
    if backend == Backend::Sqlite {
        sqlx::query("UPDATE audit_chain_heads SET chain_seq = $1, mac = $2 WHERE chain = $3")
            .bind(link.chain_seq)
            .bind(&link.mac)
            .bind(link.chain)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The MAC of a link: keyed, over the previous link's MAC, the event's place in its chain
/// and every field of the event.
pub fn link_mac(
    key: &AuditKey,
    prev_mac: &str,
    chain: i64,
    chain_seq: i64,
    at: i64,
    e: &AuditEntry,
) -> String {
    mac_over(
        key,
        &[
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
        ],
    )
}

impl AuditRow {
    /// Whether the row's MAC covers what it holds, and it sits in its actor's chain.
    pub(super) fn mac_holds(&self, key: &AuditKey) -> bool {
        link_mac(
            key,
            &self.prev_mac,
            self.chain,
            self.chain_seq,
            self.at,
            &self.entry,
        ) == self.mac
            && holds_events_of(self.chain, &self.entry.actor)
    }
}

/// HMAC-SHA256 under the audit key over fields, each length-prefixed so they can't run
/// into each other (and a checkpoint, whose first field is a label, never reads as a link,
/// whose first field is a 64-digit MAC).
pub(super) fn mac_over(key: &AuditKey, fields: &[&str]) -> String {
    let mut mac = key.mac();
    for field in fields {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

/// The columns of an [`AuditRow`].
const ROW_COLUMNS: &str = "seq, at, actor, action, outcome, card_guid, user_uuid, \
                           client_addr, detail, chain, chain_seq, prev_mac, mac";

/// One batch of a check: at most `limit` rows of a chain after row `after`, up to row
/// `upto`, in order (the `(chain, chain_seq)` index serves it).
pub(super) async fn rows_after(
    pool: &AnyPool,
    chain: i64,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(sqlx::query_as::<_, AuditRow>(&format!(
        "SELECT {ROW_COLUMNS} FROM audit_log \
         WHERE chain = $1 AND chain_seq > $2 AND chain_seq <= $3 \
         ORDER BY chain_seq LIMIT $4"
    ))
    .bind(chain)
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The rows at these places (chain, chain_seq), by chain.
pub(super) async fn rows_at(
    pool: &AnyPool,
    places: &[(i64, i64)],
) -> Result<BTreeMap<i64, AuditRow>, StoreError> {
    if places.is_empty() {
        return Ok(BTreeMap::new());
    }
    let wanted: Vec<String> = (0..places.len())
        .map(|i| format!("(chain = ${} AND chain_seq = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM audit_log WHERE {}",
        wanted.join(" OR ")
    );
    let mut query = sqlx::query_as::<_, AuditRow>(&sql);
    for (chain, chain_seq) in places {
        query = query.bind(chain).bind(chain_seq);
    }
    let rows = query.fetch_all(pool).await?;
    Ok(rows.into_iter().map(|row| (row.chain, row)).collect())
}

/// A row (`seq`, `chain`) in none of the chains, which no walk would reach.
pub(super) async fn stray_row(pool: &AnyPool) -> Result<Option<(i64, i64)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Stray {
        seq: i64,
        chain: i64,
    }
    let stray = sqlx::query_as::<_, Stray>(
        "SELECT seq, chain FROM audit_log WHERE chain < 0 OR chain >= $1 LIMIT 1",
    )
    .bind(CHAINS)
    .fetch_optional(pool)
    .await?;
    Ok(stray.map(|s| (s.seq, s.chain)))
}

/// Every chain's head, by chain.
pub(super) async fn heads(pool: &AnyPool) -> Result<BTreeMap<i64, ChainHead>, StoreError> {
    let heads =
        sqlx::query_as::<_, ChainHead>("SELECT chain, chain_seq, mac FROM audit_chain_heads")
            .fetch_all(pool)
            .await?;
    Ok(heads.into_iter().map(|h| (h.chain, h)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_an_actor_has_one_chain_past_the_first_ones_and_its_old_first_one() {
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..4096 {
            let actor = format!("card-{n}");
            let (chain, byte) = (chain_of(&actor), first_byte(&actor));
            assert!((FIRST_CHAINS..CHAINS).contains(&chain));
            seen.insert(chain);
            let sits_in: Vec<i64> = (-1..=CHAINS)
                .filter(|c| holds_events_of(*c, &actor))
                .collect();
            assert_eq!(sits_in, [byte % FIRST_CHAINS, chain]);
        }
        assert_eq!(seen.len(), 256);
    }
}
