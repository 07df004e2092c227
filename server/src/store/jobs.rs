//! `reminders` and `job_runs` (JOB-1): the once-a-day claim that stands between a
//! reminder and a second copy of it, the certificates and passcodes a reminder is due
//! for, and what each scheduled job last did, for operators.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, AnyPool};

use super::{user_uuid, StoreError};

/// Claims `(user, kind, day)`; false if any instance already has (now or on an earlier
/// run that day). Made in the transaction that queues the reminder, so a claim is never
/// without its mail, nor the mail without its claim.
pub async fn claim_reminder(
    conn: &mut AnyConnection,
    user: &UserUuid,
    kind: &str,
    day: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO reminders (user_uuid, kind, day, claimed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_uuid, kind, day) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(kind)
    .bind(day)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_reminders_for_user(
    conn: &mut AnyConnection,
    user: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM reminders WHERE user_uuid = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// A card whose login certificate in force ends soon, and whom to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndingCertificate {
    pub user_uuid: UserUuid,
    pub display_name: String,
    pub email: String,
    pub card_guid: CardGuid,
    pub not_after: i64,
    pub renewals_in_a_row: i64,
}

#[derive(sqlx::FromRow)]
struct EndingRow {
    uuid: String,
    title: String,
    given_name: String,
    family_name: String,
    email: String,
    card_guid: String,
    not_after: i64,
    renewals_in_a_row: i64,
}

/// Cards whose newest unrevoked login (9A) certificate ends in `(after, until]`, of
/// users with an email address and no `kind` reminder claimed for `day`; soonest first.
pub async fn certificates_ending(
    conn: &mut AnyConnection,
    (after, until): (i64, i64),
    (kind, day): (&str, i64),
    limit: i64,
) -> Result<Vec<EndingCertificate>, StoreError> {
    sqlx::query_as::<_, EndingRow>(
        "SELECT u.uuid, u.title, u.given_name, u.family_name, u.email, c.guid AS card_guid, \
         k.not_after, c.renewals_in_a_row \
         FROM card_certificates k JOIN cards c ON c.guid = k.card_guid \
         JOIN users u ON u.uuid = c.user_uuid \
         WHERE k.slot = '9a' AND k.revoked_at IS NULL AND k.not_after > $1 \
         AND k.not_after <= $2 AND u.email <> '' \
         AND NOT EXISTS (SELECT 1 FROM card_certificates n WHERE n.card_guid = k.card_guid \
         AND n.slot = '9a' AND n.revoked_at IS NULL AND n.not_after > k.not_after) \
         AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.user_uuid = u.uuid \
         AND r.kind = $3 AND r.day = $4) \
         ORDER BY k.not_after, c.guid LIMIT $5",
    )
    .bind(after)
    .bind(until)
    .bind(kind)
    .bind(day)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(EndingCertificate {
            user_uuid: user_uuid("users", "uuid", &row.uuid)?,
            display_name: super::display_name(&row.title, &row.given_name, &row.family_name),
            email: row.email,
            card_guid: CardGuid::parse(&row.card_guid)
                .map_err(|_| super::corrupt("cards", "guid"))?,
            not_after: row.not_after,
            renewals_in_a_row: row.renewals_in_a_row,
        })
    })
    .collect()
}

/// A user whose passcodes expire soon (PASS-4), and whom to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringPasscodes {
    pub user_uuid: UserUuid,
    pub display_name: String,
    pub email: String,
    pub set_at: i64,
    pub ra_unlocked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ExpiringRow {
    uuid: String,
    title: String,
    given_name: String,
    family_name: String,
    email: String,
    passcodes_set_at: i64,
    passcodes_unlocked_at: Option<i64>,
}

/// Users whose passcodes were set in `(after, until]`, with an email address and no
/// `kind` reminder claimed for `day`; oldest first.
pub async fn passcodes_set_between(
    conn: &mut AnyConnection,
    (after, until): (i64, i64),
    (kind, day): (&str, i64),
    limit: i64,
) -> Result<Vec<ExpiringPasscodes>, StoreError> {
    sqlx::query_as::<_, ExpiringRow>(
        "SELECT u.uuid, u.title, u.given_name, u.family_name, u.email, u.passcodes_set_at, \
         u.passcodes_unlocked_at FROM users u \
         WHERE u.passcodes_set_at > $1 AND u.passcodes_set_at <= $2 AND u.email <> '' \
         AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.user_uuid = u.uuid \
         AND r.kind = $3 AND r.day = $4) \
         ORDER BY u.passcodes_set_at, u.uuid LIMIT $5",
    )
    .bind(after)
    .bind(until)
    .bind(kind)
    .bind(day)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ExpiringPasscodes {
            user_uuid: user_uuid("users", "uuid", &row.uuid)?,
            display_name: super::display_name(&row.title, &row.given_name, &row.family_name),
            email: row.email,
            set_at: row.passcodes_set_at,
            ra_unlocked_at: row.passcodes_unlocked_at,
        })
    })
    .collect()
}

/// What a job last did (JOB-1), for operators.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRun {
    pub job: String,
    /// The instance that ran it last.
    pub instance: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub succeeded_at: Option<i64>,
    /// Reminders the last run queued.
    pub queued: i64,
    /// The last run's failure, if it failed (no secrets: a store error's text).
    pub error: Option<String>,
}

pub async fn run_started(
    pool: &AnyPool,
    job: &str,
    instance: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_runs (job, instance, started_at, queued) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (job) DO UPDATE SET instance = excluded.instance, \
         started_at = excluded.started_at, finished_at = NULL, queued = 0, error = NULL",
    )
    .bind(job)
    .bind(instance)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the end of `instance`'s run (unless another instance has started one since).
pub async fn run_finished(
    pool: &AnyPool,
    (job, instance): (&str, &str),
    now: i64,
    result: Result<i64, &str>,
) -> Result<(), StoreError> {
    let (queued, error) = match result {
        Ok(queued) => (queued, None),
        Err(error) => (0, Some(error)),
    };
    sqlx::query(
        "UPDATE job_runs SET finished_at = $3, queued = $4, error = $5, \
         succeeded_at = CASE WHEN $5 IS NULL THEN $3 ELSE succeeded_at END \
         WHERE job = $1 AND instance = $2",
    )
    .bind(job)
    .bind(instance)
    .bind(now)
    .bind(queued)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn runs(pool: &AnyPool) -> Result<Vec<JobRun>, StoreError> {
    Ok(sqlx::query_as::<_, JobRun>(
        "SELECT job, instance, started_at, finished_at, succeeded_at, queued, error \
         FROM job_runs ORDER BY job",
    )
    .fetch_all(pool)
    .await?)
}
