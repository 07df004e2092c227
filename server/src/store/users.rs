//! `users`: staff, their contact details, registration, and the unlock limits that hold
//! across attempts (UNL-4 counters, wrong codes per day, the fixed question subset).

use sqlx::AnyConnection;

use super::{flag, Backend, StoreError};

/// A user as the unlock flow needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uuid: String,
    pub display_name: String,
    pub email: String,
    pub registered: bool,
    pub counters: UnlockCounters,
    /// The questions every attempt asks until an unlock succeeds; empty until chosen.
    pub question_ids: Vec<i64>,
    pub mobile: Option<String>,
}

/// The self-service limits for one user, shared by all attempts and instances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnlockCounters {
    pub answer_failures: i64,
    /// Wrong unlock codes since `code_window_started_at` (0: no window open).
    pub code_failures: i64,
    pub code_window_started_at: i64,
    pub self_service_closed: bool,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    uuid: String,
    title: String,
    given_name: String,
    family_name: String,
    email: String,
    registered: i64,
    unlock_failures: i64,
    self_service_closed: i64,
    code_failures: i64,
    code_window_started_at: i64,
    unlock_question_ids: String,
    mobile: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let name = format!("{} {} {}", row.title, row.given_name, row.family_name);
        Ok(User {
            uuid: row.uuid,
            display_name: name.trim().to_owned(),
            email: row.email,
            registered: flag(row.registered),
            counters: UnlockCounters {
                answer_failures: row.unlock_failures,
                code_failures: row.code_failures,
                code_window_started_at: row.code_window_started_at,
                self_service_closed: flag(row.self_service_closed),
            },
            question_ids: super::parse_ids(&row.unlock_question_ids).ok_or(
                StoreError::Corrupt {
                    table: "users",
                    column: "unlock_question_ids",
                },
            )?,
            mobile: row.mobile,
        })
    }
}

const SELECT: &str = "SELECT uuid, title, given_name, family_name, email, registered, \
     unlock_failures, self_service_closed, code_failures, code_window_started_at, \
     unlock_question_ids, mobile FROM users WHERE uuid = $1";

async fn select(
    conn: &mut AnyConnection,
    sql: &str,
    uuid: &str,
) -> Result<Option<User>, StoreError> {
    sqlx::query_as::<_, UserRow>(sql)
        .bind(uuid)
        .fetch_optional(conn)
        .await?
        .map(User::try_from)
        .transpose()
}

pub async fn find(conn: &mut AnyConnection, uuid: &str) -> Result<Option<User>, StoreError> {
    select(conn, SELECT, uuid).await
}

/// Loads a user and locks the row for the rest of the transaction, so the UNL-4
/// counters are read and written by one step at a time.
pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    uuid: &str,
) -> Result<Option<User>, StoreError> {
    select(conn, &format!("{SELECT}{}", backend.for_update()), uuid).await
}

/// Compare-and-set of the UNL-4 counters: writes `after` only if the row still holds
/// `before`, so no racing step's count is lost even without the row lock.
pub async fn swap_unlock_counters(
    conn: &mut AnyConnection,
    uuid: &str,
    before: UnlockCounters,
    after: UnlockCounters,
) -> Result<(), StoreError> {
    let swapped = sqlx::query(
        "UPDATE users SET unlock_failures = $1, code_failures = $2, \
         code_window_started_at = $3, self_service_closed = $4 \
         WHERE uuid = $5 AND unlock_failures = $6 AND code_failures = $7 \
         AND code_window_started_at = $8 AND self_service_closed = $9 RETURNING uuid",
    )
    .bind(after.answer_failures)
    .bind(after.code_failures)
    .bind(after.code_window_started_at)
    .bind(i64::from(after.self_service_closed))
    .bind(uuid)
    .bind(before.answer_failures)
    .bind(before.code_failures)
    .bind(before.code_window_started_at)
    .bind(i64::from(before.self_service_closed))
    .fetch_optional(conn)
    .await?;
    match swapped {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict { table: "users" }),
    }
}

/// Fixes (or, with none, forgets) the questions this user's attempts ask.
pub async fn set_unlock_questions(
    conn: &mut AnyConnection,
    uuid: &str,
    question_ids: &[i64],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET unlock_question_ids = $1 WHERE uuid = $2")
        .bind(super::join_ids(question_ids))
        .bind(uuid)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Clone)]
pub struct NewUser<'a> {
    pub uuid: &'a str,
    pub title: &'a str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub registered: bool,
}

pub async fn insert(conn: &mut AnyConnection, user: &NewUser<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (uuid, title, given_name, family_name, email, role, registered) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.uuid)
    .bind(user.title)
    .bind(user.given_name)
    .bind(user.family_name)
    .bind(user.email)
    .bind(user.role)
    .bind(i64::from(user.registered))
    .execute(conn)
    .await?;
    Ok(())
}

/// REG-5: the contact details the user keeps on "My card".
pub async fn set_contact(
    conn: &mut AnyConnection,
    uuid: &str,
    email: &str,
    mobile: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET email = $1, mobile = $2 WHERE uuid = $3")
        .bind(email)
        .bind(mobile)
        .bind(uuid)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, uuid: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM users WHERE uuid = $1")
        .bind(uuid)
        .execute(conn)
        .await?;
    Ok(())
}
