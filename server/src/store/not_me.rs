//! `not_me_links`: the single-use "this wasn't me" links in notice emails, and the
//! reports made with them (for the RA's work queue).

use sqlx::AnyConnection;

use super::{Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotMeLink {
    pub token_hash: Vec<u8>,
    pub user_uuid: String,
    /// Which notice carried it: `unlock`, `registration`, …
    pub notice: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub reported_at: Option<i64>,
    pub reviewed_at: Option<i64>,
}

pub async fn insert(conn: &mut AnyConnection, link: &NotMeLink) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO not_me_links (token_hash, user_uuid, notice, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(link.token_hash.clone())
    .bind(&link.user_uuid)
    .bind(&link.notice)
    .bind(link.created_at)
    .bind(link.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    token_hash: &[u8],
) -> Result<Option<NotMeLink>, StoreError> {
    let sql = format!(
        "SELECT token_hash, user_uuid, notice, created_at, expires_at, reported_at, \
         reviewed_at FROM not_me_links WHERE token_hash = $1{}",
        backend.for_update()
    );
    Ok(sqlx::query_as::<_, NotMeLink>(&sql)
        .bind(token_hash.to_vec())
        .fetch_optional(conn)
        .await?)
}

pub async fn mark_reported(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE not_me_links SET reported_at = $1 WHERE token_hash = $2 AND reported_at IS NULL",
    )
    .bind(at)
    .bind(token_hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

/// Reports not yet reviewed by the RA, oldest first (RA-4 work queue).
pub async fn open_reports(conn: &mut AnyConnection) -> Result<Vec<NotMeLink>, StoreError> {
    Ok(sqlx::query_as::<_, NotMeLink>(
        "SELECT token_hash, user_uuid, notice, created_at, expires_at, reported_at, \
         reviewed_at FROM not_me_links WHERE reported_at IS NOT NULL AND reviewed_at IS NULL \
         ORDER BY reported_at",
    )
    .fetch_all(conn)
    .await?)
}

/// An open report with its user, for the RA's queue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenReport {
    pub token_hash: Vec<u8>,
    pub notice: String,
    pub reported_at: i64,
    #[sqlx(flatten)]
    pub user: super::ra::Listed,
}

/// Open reports with their users, oldest first (RA-4 work queue).
pub async fn open_reports_listed(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<OpenReport>, StoreError> {
    Ok(sqlx::query_as::<_, OpenReport>(
        "SELECT n.token_hash, n.notice, n.reported_at, u.uuid, u.title, u.given_name, \
         u.family_name, u.email, u.role, u.registered, u.self_service_closed \
         FROM not_me_links n JOIN users u ON u.uuid = n.user_uuid \
         WHERE n.reported_at IS NOT NULL AND n.reviewed_at IS NULL \
         ORDER BY n.reported_at, n.token_hash LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// How many of a user's reports wait for review.
pub async fn open_count_for_user(
    conn: &mut AnyConnection,
    user_uuid: &str,
) -> Result<i64, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Count {
        open: i64,
    }
    Ok(sqlx::query_as::<_, Count>(
        "SELECT COUNT(*) AS open FROM not_me_links WHERE user_uuid = $1 \
         AND reported_at IS NOT NULL AND reviewed_at IS NULL",
    )
    .bind(user_uuid)
    .fetch_one(conn)
    .await?
    .open)
}

/// The RA reviewed the report.
pub async fn mark_reviewed(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    at: i64,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE not_me_links SET reviewed_at = $1, reviewed_by = $2 \
         WHERE token_hash = $3 AND reviewed_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(token_hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}
