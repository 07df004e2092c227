//! `not_me_links`: the single-use "this wasn't me" links in notice emails, and the
//! reports made with them (for the RA's work queue).

use api_types::ra::UserUuid;
use sqlx::AnyConnection;

use super::ra::{Listed, ListedRow};
use super::{user_uuid, Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeLink {
    pub token_hash: Vec<u8>,
    pub user_uuid: UserUuid,
    /// Which notice carried it: `unlock`, `registration`, …
    pub notice: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub reported_at: Option<i64>,
    pub reviewed_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    token_hash: Vec<u8>,
    user_uuid: String,
    notice: String,
    created_at: i64,
    expires_at: i64,
    reported_at: Option<i64>,
    reviewed_at: Option<i64>,
}

impl TryFrom<LinkRow> for NotMeLink {
    type Error = StoreError;

    fn try_from(row: LinkRow) -> Result<Self, StoreError> {
        Ok(Self {
            token_hash: row.token_hash,
            user_uuid: user_uuid("not_me_links", "user_uuid", &row.user_uuid)?,
            notice: row.notice,
            created_at: row.created_at,
            expires_at: row.expires_at,
            reported_at: row.reported_at,
            reviewed_at: row.reviewed_at,
        })
    }
}

pub async fn insert(conn: &mut AnyConnection, link: &NotMeLink) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO not_me_links (token_hash, user_uuid, notice, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(link.token_hash.clone())
    .bind(link.user_uuid.as_str())
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
    sqlx::query_as::<_, LinkRow>(&sql)
        .bind(token_hash.to_vec())
        .fetch_optional(conn)
        .await?
        .map(NotMeLink::try_from)
        .transpose()
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
    sqlx::query_as::<_, LinkRow>(
        "SELECT token_hash, user_uuid, notice, created_at, expires_at, reported_at, \
         reviewed_at FROM not_me_links WHERE reported_at IS NOT NULL AND reviewed_at IS NULL \
         ORDER BY reported_at",
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(NotMeLink::try_from)
    .collect()
}

/// An open report with its user, for the RA's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    pub token_hash: Vec<u8>,
    pub notice: String,
    pub reported_at: i64,
    pub user: Listed,
}

#[derive(sqlx::FromRow)]
struct OpenReportRow {
    token_hash: Vec<u8>,
    notice: String,
    reported_at: i64,
    #[sqlx(flatten)]
    user: ListedRow,
}

/// Open reports with their users, oldest first (RA-4 work queue).
pub async fn open_reports_listed(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<OpenReport>, StoreError> {
    sqlx::query_as::<_, OpenReportRow>(
        "SELECT n.token_hash, n.notice, n.reported_at, u.uuid, u.title, u.given_name, \
         u.family_name, u.email, u.role, u.registered, u.self_service_closed \
         FROM not_me_links n JOIN users u ON u.uuid = n.user_uuid \
         WHERE n.reported_at IS NOT NULL AND n.reviewed_at IS NULL \
         ORDER BY n.reported_at, n.token_hash LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(OpenReport {
            token_hash: row.token_hash,
            notice: row.notice,
            reported_at: row.reported_at,
            user: row.user.try_into()?,
        })
    })
    .collect()
}

/// How many of a user's reports wait for review.
pub async fn open_count_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<i64, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Count {
        open: i64,
    }
    Ok(sqlx::query_as::<_, Count>(
        "SELECT COUNT(*) AS open FROM not_me_links WHERE user_uuid = $1 \
         AND reported_at IS NOT NULL AND reviewed_at IS NULL",
    )
    .bind(user_uuid.as_str())
    .fetch_one(conn)
    .await?
    .open)
}

/// The RA reviewed the report.
pub async fn mark_reviewed(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    at: i64,
    by: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE not_me_links SET reviewed_at = $1, reviewed_by = $2 \
         WHERE token_hash = $3 AND reviewed_at IS NULL",
    )
    .bind(at)
    .bind(by.as_str())
    .bind(token_hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}
