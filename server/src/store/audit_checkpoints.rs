//! `audit_checkpoints` (RA-4): how far each audit chain has been verified. A checkpoint
//! is an HMAC under the audit key over where it stands (chain, row, that row's MAC, when),
//! so writing the database without the key cannot vouch for a single row; it moves only
//! forward, by a compare-and-set, so two checks never step back each other's work.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AnyPool};

use super::audit::mac_over;
use super::audit_check::Tip;
use super::StoreError;
use crate::secrets::AuditKey;

/// Verified from the chain's start up to `chain_seq`, whose row's MAC is `mac`.
#[derive(sqlx::FromRow)]
pub(super) struct Checkpoint {
    pub(super) chain: i64,
    pub(super) chain_seq: i64,
    pub(super) mac: String,
    pub(super) checked_at: i64,
    pub(super) checkpoint_mac: String,
}

impl Checkpoint {
    pub(super) fn sealed(key: &AuditKey, chain: i64, tip: &Tip, checked_at: i64) -> Self {
        let mut checkpoint = Self {
            chain,
            chain_seq: tip.chain_seq,
            mac: tip.mac.clone(),
            checked_at,
            checkpoint_mac: String::new(),
        };
        checkpoint.checkpoint_mac = checkpoint.expected_mac(key);
        checkpoint
    }

    pub(super) fn expected_mac(&self, key: &AuditKey) -> String {
        mac_over(
            key,
            &[
                "audit checkpoint",
                &self.chain.to_string(),
                &self.chain_seq.to_string(),
                &self.mac,
                &self.checked_at.to_string(),
            ],
        )
    }

    pub(super) fn tip(&self) -> Tip {
        Tip {
            chain_seq: self.chain_seq,
            mac: self.mac.clone(),
        }
    }
}

/// Every chain's checkpoint, by chain (a chain never checked has none).
pub(super) async fn checkpoints(pool: &AnyPool) -> Result<BTreeMap<i64, Checkpoint>, StoreError> {
    let checkpoints = sqlx::query_as::<_, Checkpoint>(
        "SELECT chain, chain_seq, mac, checked_at, checkpoint_mac FROM audit_checkpoints",
    )
    .fetch_all(pool)
    .await?;
    Ok(checkpoints.into_iter().map(|c| (c.chain, c)).collect())
}

/// A chain's checkpoint from `from` (`None`: it has none yet) to `to`.
pub(super) struct Move {
    pub(super) from: Option<i64>,
    pub(super) to: Checkpoint,
}

/// Moves a chain's checkpoint from `from` to `to`; false if another check moved it first.
pub(super) async fn move_checkpoint(
    pool: &AnyPool,
    from: Option<i64>,
    to: &Checkpoint,
) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    move_on(&mut conn, from, to).await
}

/// Makes `moves` in one transaction, in the order of their chains (two checks at once
/// then wait for each other instead of deadlocking); one that another check made first is
/// left as that check made it.
pub(super) async fn move_checkpoints(
    pool: &AnyPool,
    mut moves: Vec<Move>,
) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    moves.sort_by_key(|m| m.to.chain);
    let mut tx = pool.begin().await?;
    for Move { from, to } in &moves {
        move_on(&mut tx, *from, to).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn move_on(
    conn: &mut AnyConnection,
    from: Option<i64>,
    to: &Checkpoint,
) -> Result<bool, StoreError> {
    match from {
        None => insert_checkpoint(conn, to).await,
        Some(from) => update_checkpoint(conn, from, to).await,
    }
}

async fn insert_checkpoint(conn: &mut AnyConnection, to: &Checkpoint) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO audit_checkpoints (chain, chain_seq, mac, checked_at, checkpoint_mac) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain) DO NOTHING",
    )
    .bind(to.chain)
    .bind(to.chain_seq)
    .bind(&to.mac)
    .bind(to.checked_at)
    .bind(&to.checkpoint_mac)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

async fn update_checkpoint(
    conn: &mut AnyConnection,
    from: i64,
    to: &Checkpoint,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE audit_checkpoints SET chain_seq = $1, mac = $2, checked_at = $3, \
         checkpoint_mac = $4 WHERE chain = $5 AND chain_seq = $6",
    )
    .bind(to.chain_seq)
    .bind(&to.mac)
    .bind(to.checked_at)
    .bind(&to.checkpoint_mac)
    .bind(to.chain)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}
