//! RA-4: the audit chains checked, streaming — a chain is read [`BATCH`] rows at a time
//! (`WHERE chain = $1 AND chain_seq > $2 ORDER BY chain_seq LIMIT n`), each read on a
//! connection taken for that statement alone, so no check holds the trail in memory or
//! SQLite's one connection for longer than a batch.
//! - [`advance`], for the RA's page and the background check: from each chain's
//!   checkpoint on, moving it forward as rows verify. A checkpoint is HMACed under the
//!   audit key, so one whose MAC fails is tampering, not a place to start; the row it
//!   vouches for is re-read each time, so cutting the chain back past it is found too.
//! - [`verify`], for `smartcard-server audit verify`: every chain from its start, and
//!   every checkpoint against the rows. Read-only.

use sqlx::AnyPool;

use super::audit::{heads, rows_after, rows_at, stray_row, AuditRow, ChainHead, CHAINS, GENESIS};
use super::audit_checkpoints::{checkpoints, move_checkpoint, move_checkpoints, Checkpoint, Move};
use super::StoreError;
use crate::secrets::AuditKey;

/// Rows per read.
pub const BATCH: i64 = 1_000;
/// Rows between checkpoint writes while a chain is walked (and one where the walk stops):
/// on SQLite each write is a commit to disk, which costs more than reading a batch.
const MOVE_EVERY: i64 = 10 * BATCH;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Every chain links up under the key, from its start to its head.
    Intact { rows: usize },
    /// The first row (by `seq`) whose link does not hold; else a fault of a whole chain
    /// (`seq: None`): rows removed at its end, a checkpoint that does not hold.
    Broken {
        seq: Option<i64>,
        chain: i64,
        reason: &'static str,
    },
}

/// What [`advance`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Every chain links up under the key from its start to its checkpoint: `verified`
    /// events in all; `unchecked` newer ones are not reached yet.
    UpTo { verified: u64, unchecked: u64 },
    /// As [`Verified::Broken`].
    Broken {
        seq: Option<i64>,
        chain: i64,
        reason: &'static str,
    },
}

/// What a check read: rows in all, and the most it held at once — one batch at most,
/// however long the trail (the checks' memory bound).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    pub rows: u64,
    pub batches: u64,
    pub most_at_once: u64,
}

/// A chain's fault: `seq` names the row, or `None` a fault of the chain (its end, its
/// checkpoint).
type Fault = (Option<i64>, i64, &'static str);

/// Where a chain's verified part ends: its last row's number and MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tip {
    pub(super) chain_seq: i64,
    pub(super) mac: String,
}

impl Tip {
    fn genesis() -> Self {
        Self {
            chain_seq: 0,
            mac: GENESIS.to_owned(),
        }
    }
}

/// Why a row does not follow `tip` in its chain, if it doesn't.
fn link_fault(key: &AuditKey, tip: &Tip, row: &AuditRow) -> Option<&'static str> {
    if row.chain_seq != tip.chain_seq + 1 {
        Some("a row before it is missing")
    } else if row.prev_mac != tip.mac {
        Some("it does not link to the row before it")
    } else if !row.mac_holds(key) {
        Some("its contents do not match its MAC")
    } else {
        None
    }
}

/// How one batch ended.
enum Batch {
    /// As many rows as asked: there may be more.
    Full,
    /// Fewer: the chain (up to the bound) is read.
    End,
    Broken {
        seq: i64,
        reason: &'static str,
    },
}

/// Verifies the next batch of a chain after `tip` (up to row `upto`), moving `tip` over
/// every row that holds. The rows are dropped before the next batch is read.
async fn next_batch(
    pool: &AnyPool,
    key: &AuditKey,
    chain: i64,
    tip: &mut Tip,
    upto: i64,
    limit: i64,
    reads: &mut Reads,
) -> Result<Batch, StoreError> {
    let rows = rows_after(pool, chain, tip.chain_seq, upto, limit).await?;
    let read = rows.len() as u64;
    reads.rows += read;
    reads.batches += 1;
    reads.most_at_once = reads.most_at_once.max(read);
    for row in rows {
        if let Some(reason) = link_fault(key, tip, &row) {
            return Ok(Batch::Broken {
                seq: row.seq,
                reason,
            });
        }
        *tip = Tip {
            chain_seq: row.chain_seq,
            mac: row.mac,
        };
    }
    Ok(if read as i64 == limit {
        Batch::Full
    } else {
        Batch::End
    })
}

/// A chain's fault at its end, read up to `tip`: rows missing before its head, or a last
/// row that is not the head's.
fn end_fault(tip: &Tip, head: &ChainHead) -> Option<&'static str> {
    let short =
        tip.chain_seq < head.chain_seq || (tip.chain_seq == head.chain_seq && tip.mac != head.mac);
    short.then_some("its rows stop short of the chain's head")
}

/// Whether a checkpoint can be trusted: its MAC holds, its chain's head is not behind it
/// (moved back over removed rows), and the row it vouches for (`anchor`, read by its
/// place) is still there, unchanged.
fn checkpoint_fault(
    key: &AuditKey,
    checkpoint: &Checkpoint,
    head: &ChainHead,
    anchor: Option<&AuditRow>,
) -> Option<(Option<i64>, &'static str)> {
    if checkpoint.expected_mac(key) != checkpoint.checkpoint_mac {
        return Some((None, "its checkpoint's MAC does not hold"));
    }
    if checkpoint.chain_seq > head.chain_seq {
        return Some((None, "its head is behind its verified checkpoint"));
    }
    match anchor {
        None => Some((None, "rows its checkpoint vouched for are missing")),
        Some(row) if row.mac != checkpoint.mac || !row.mac_holds(key) => Some((
            Some(row.seq),
            "it is not the row its checkpoint vouched for",
        )),
        Some(_) => None,
    }
}

/// The first fault: a row's (by `seq`) before a chain's.
fn first(faults: Vec<Fault>) -> Option<Fault> {
    faults
        .into_iter()
        .min_by_key(|(seq, chain, _)| (seq.is_none(), *seq, *chain))
}

/// A chain as it stands: its head, its checkpoint, and what is wrong with the checkpoint.
struct Start {
    head: ChainHead,
    checkpoint: Option<Checkpoint>,
    fault: Option<Fault>,
}

/// Every chain's head and checkpoint, the checkpoints re-checked, oldest-checked first;
/// and the faults found on the way (a missing head, a row in no chain).
async fn starting_points(
    pool: &AnyPool,
    key: &AuditKey,
) -> Result<(Vec<Start>, Vec<Fault>), StoreError> {
    // Checkpoints before heads: a head only grows, so one behind its checkpoint was moved.
    let mut checkpoints = checkpoints(pool).await?;
    let mut heads = heads(pool).await?;
    let places: Vec<(i64, i64)> = checkpoints
        .values()
        .map(|c| (c.chain, c.chain_seq))
        .collect();
    let mut anchors = rows_at(pool, &places).await?;
    let stray = stray_row(pool).await?;
    let mut faults: Vec<Fault> = (stray.into_iter())
        .map(|(seq, chain)| (Some(seq), chain, "it belongs to no chain"))
        .collect();
    let mut chains = Vec::new();
    for chain in 0..CHAINS {
        let Some(head) = heads.remove(&chain) else {
            faults.push((None, chain, "its head is missing"));
            continue;
        };
        let checkpoint = checkpoints.remove(&chain);
        let fault = checkpoint.as_ref().and_then(|checkpoint| {
            let anchor = anchors.remove(&chain);
            checkpoint_fault(key, checkpoint, &head, anchor.as_ref())
                .map(|(seq, reason)| (seq, chain, reason))
        });
        chains.push(Start {
            head,
            checkpoint,
            fault,
        });
    }
    chains.sort_by_key(|start| start.checkpoint.as_ref().map_or(i64::MIN, |c| c.checked_at));
    Ok((chains, faults))
}

/// Checks every chain from its checkpoint on, reading at most `budget` rows in all (none:
/// only the checkpoints are re-checked), and moves each checkpoint over the rows that held.
/// Chains checked longest ago go first, so a small budget reaches each in turn. Where the
/// walks end, the checkpoints move in one transaction: one commit, not one per chain (with
/// hundreds of chains a few events each, the RA's page waited on hundreds of flushes).
pub async fn advance(
    pool: &AnyPool,
    key: &AuditKey,
    now: i64,
    budget: u64,
) -> Result<(Checked, Reads), StoreError> {
    let (chains, mut faults) = starting_points(pool, key).await?;
    let (mut reads, mut verified, mut unchecked) = (Reads::default(), 0u64, 0u64);
    let mut moves = Vec::new();
    for Start {
        head,
        checkpoint,
        fault,
    } in chains
    {
        if let Some(fault) = fault {
            // Not a place to start from; the full check walks it from the start.
            faults.push(fault);
            continue;
        }
        let left = budget.saturating_sub(reads.rows);
        let (tip, fault, last_move) =
            advance_chain(pool, key, now, &head, checkpoint, left, &mut reads).await?;
        faults.extend(fault);
        moves.extend(last_move);
        verified += u64::try_from(tip.chain_seq).unwrap_or(0);
        unchecked += u64::try_from(head.chain_seq - tip.chain_seq).unwrap_or(0);
    }
    let checked = match first(faults) {
        Some((seq, chain, reason)) => Checked::Broken { seq, chain, reason },
        None => Checked::UpTo {
            verified,
            unchecked,
        },
    };
    move_checkpoints(pool, moves).await?;
    Ok((checked, reads))
}

/// One chain from its checkpoint towards its head, at most `budget` rows, the checkpoint
/// moved every [`MOVE_EVERY`] rows: how far it verified, its fault if it found one, and
/// the checkpoint's move to where it stopped, for [`advance`] to make.
async fn advance_chain(
    pool: &AnyPool,
    key: &AuditKey,
    now: i64,
    head: &ChainHead,
    checkpoint: Option<Checkpoint>,
    mut budget: u64,
    reads: &mut Reads,
) -> Result<(Tip, Option<Fault>, Option<Move>), StoreError> {
    let chain = head.chain;
    let mut at = checkpoint.as_ref().map(|c| c.chain_seq);
    let mut tip = checkpoint.map_or_else(Tip::genesis, |c| c.tip());
    let (mut ended, mut fault) = (tip.chain_seq >= head.chain_seq, None);
    while !ended && fault.is_none() && budget > 0 {
        let limit = BATCH.min(i64::try_from(budget).unwrap_or(BATCH));
        let before = reads.rows;
        let batch = next_batch(pool, key, chain, &mut tip, head.chain_seq, limit, reads).await?;
        budget = budget.saturating_sub(reads.rows - before);
        match batch {
            Batch::Full => ended = tip.chain_seq >= head.chain_seq,
            Batch::End => ended = true,
            Batch::Broken { seq, reason } => fault = Some((Some(seq), chain, reason)),
        }
        let due = tip.chain_seq - at.unwrap_or(0) >= MOVE_EVERY;
        if due && !record(pool, key, now, chain, &mut at, &tip).await? {
            return Ok((tip, None, None));
        }
    }
    if ended && fault.is_none() {
        fault = end_fault(&tip, head).map(|reason| (None, chain, reason));
    }
    let last_move = checkpoint_move(key, now, chain, at, &tip);
    Ok((tip, fault, last_move))
}

/// Moves the chain's checkpoint from `at` to `tip` now, if it isn't there; false if
/// another check moved it meanwhile (that check reports from there on).
async fn record(
    pool: &AnyPool,
    key: &AuditKey,
    now: i64,
    chain: i64,
    at: &mut Option<i64>,
    tip: &Tip,
) -> Result<bool, StoreError> {
    let Some(Move { from, to }) = checkpoint_move(key, now, chain, *at, tip) else {
        return Ok(true);
    };
    let moved = move_checkpoint(pool, from, &to).await?;
    if moved {
        *at = Some(tip.chain_seq);
    }
    Ok(moved)
}

/// The chain's checkpoint from `at` to `tip`, sealed; none if it is there already.
fn checkpoint_move(
    key: &AuditKey,
    now: i64,
    chain: i64,
    at: Option<i64>,
    tip: &Tip,
) -> Option<Move> {
    if at == Some(tip.chain_seq) || (at.is_none() && tip.chain_seq == 0) {
        return None;
    }
    let to = Checkpoint::sealed(key, chain, tip, now);
    Some(Move { from: at, to })
}

/// Walks every chain from its start to its end, and checks every checkpoint against it.
pub async fn verify(pool: &AnyPool, key: &AuditKey) -> Result<Verified, StoreError> {
    Ok(verify_counted(pool, key).await?.0)
}

/// [`verify`], with what it read.
pub async fn verify_counted(
    pool: &AnyPool,
    key: &AuditKey,
) -> Result<(Verified, Reads), StoreError> {
    // Heads before rows: every row up to a head read now is already committed.
    let (chains, mut faults) = starting_points(pool, key).await?;
    let mut reads = Reads::default();
    let mut rows = 0;
    for Start { head, fault, .. } in chains {
        faults.extend(fault);
        let mut tip = Tip::genesis();
        loop {
            // To the chain's end, past its head: rows appended meanwhile are checked too.
            let batch = next_batch(pool, key, head.chain, &mut tip, i64::MAX, BATCH, &mut reads);
            match batch.await? {
                Batch::Full => continue,
                Batch::End => faults.extend(end_fault(&tip, &head).map(|r| (None, head.chain, r))),
                Batch::Broken { seq, reason } => faults.push((Some(seq), head.chain, reason)),
            }
            break;
        }
        rows += usize::try_from(tip.chain_seq).unwrap_or(0);
    }
    let verified = match first(faults) {
        Some((seq, chain, reason)) => Verified::Broken { seq, chain, reason },
        None => Verified::Intact { rows },
    };
    Ok((verified, reads))
}
