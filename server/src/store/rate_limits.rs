//! `rate_limits` (ALL-5): one fixed-window counter per key, counted atomically in the
//! database so every instance sees the same count. The limits are policy and live in
//! [`crate::limits`]; this only counts.

use sqlx::AnyPool;

use super::StoreError;

/// A counter after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Hits {
    pub hits: i64,
    pub window_started_at: i64,
}

/// Counts one hit on `key` in the window that started after `window_opened_after`,
/// or opens a new window at `now`.
pub async fn hit(
    pool: &AnyPool,
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
    .fetch_one(pool)
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
