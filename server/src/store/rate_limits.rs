//! `rate_limits` and `refusal_tally` (ALL-5): fixed-window counters per key, counted
//! atomically in the database so every instance sees the same count, and the per-window
//! tally of refusals tied to no user. The limits are policy and live in
//! `crate::flow::limits`; this only counts.

use sqlx::{AnyConnection, AnyPool};

use super::StoreError;

/// A counter's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Hits {
    pub hits: i64,
    pub window_started_at: i64,
}

/// Counts one hit on `key` in the window that started after `window_opened_after`,
/// or opens a new window at `now`.
pub async fn hit(
    conn: &mut AnyConnection,
    key: &str,
    now: i64,
    window_opened_after: i64,
) -> Result<Hits, StoreError> {
    Ok(sqlx::query_as::<_, Hits>(
        "INSERT INTO rate_limits (key, window_started_at, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
         hits = CASE WHEN rate_limits.window_started_at > $3 THEN rate_limits.hits + 1 ELSE 1 END, \
         window_started_at = CASE WHEN rate_limits.window_started_at > $3 \
         THEN rate_limits.window_started_at ELSE $2 END \
         RETURNING hits, window_started_at",
    )
    .bind(key)
    .bind(now)
    .bind(window_opened_after)
    .fetch_one(conn)
    .await?)
}

/// The count on `key` if its window is still open: a read, for the checks made before a
/// step (no write on a request that will succeed).
pub async fn read(
    conn: &mut AnyConnection,
    key: &str,
    window_opened_after: i64,
) -> Result<Option<Hits>, StoreError> {
    Ok(sqlx::query_as::<_, Hits>(
        "SELECT hits, window_started_at FROM rate_limits \
         WHERE key = $1 AND window_started_at > $2",
    )
    .bind(key)
    .bind(window_opened_after)
    .fetch_optional(conn)
    .await?)
}

/// Forgets windows that closed before `closed_before`, so a flood of distinct keys
/// cannot grow the table without bound.
pub async fn sweep(pool: &AnyPool, closed_before: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE window_started_at <= $1")
            .bind(closed_before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// One more refusal of `action` with `code` in the window starting at `window_started_at`.
pub async fn tally(
    conn: &mut AnyConnection,
    window_started_at: i64,
    action: &str,
    code: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refusal_tally (window_started_at, action, code, hits) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (window_started_at, action, code) DO UPDATE SET \
         hits = refusal_tally.hits + 1",
    )
    .bind(window_started_at)
    .bind(action)
    .bind(code)
    .execute(conn)
    .await?;
    Ok(())
}

/// A closed window's count of one kind of refusal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tally {
    pub window_started_at: i64,
    pub action: String,
    pub code: String,
    pub hits: i64,
}

/// Takes the tallies of windows that started at or before `started_by`: deleted and
/// returned in one statement, so of several instances sweeping at once only one gets each.
pub async fn take_tallies(
    conn: &mut AnyConnection,
    started_by: i64,
) -> Result<Vec<Tally>, StoreError> {
    Ok(sqlx::query_as::<_, Tally>(
        "DELETE FROM refusal_tally WHERE window_started_at <= $1 \
         RETURNING window_started_at, action, code, hits",
    )
    .bind(started_by)
    .fetch_all(conn)
    .await?)
}
