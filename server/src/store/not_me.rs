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
