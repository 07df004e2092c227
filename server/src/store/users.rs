//! `users`: staff, their contact details, registration and the UNL-4 counters.

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
}

/// UNL-4's state for one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockCounters {
    pub answer_failures: i64,
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
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        let name = format!("{} {} {}", row.title, row.given_name, row.family_name);
        User {
            uuid: row.uuid,
            display_name: name.trim().to_owned(),
            email: row.email,
            registered: flag(row.registered),
            counters: UnlockCounters {
                answer_failures: row.unlock_failures,
                self_service_closed: flag(row.self_service_closed),
            },
        }
    }
}

const SELECT: &str = "SELECT uuid, title, given_name, family_name, email, registered, \
     unlock_failures, self_service_closed FROM users WHERE uuid = $1";

async fn select(
    conn: &mut AnyConnection,
    sql: &str,
    uuid: &str,
) -> Result<Option<User>, StoreError> {
    Ok(sqlx::query_as::<_, UserRow>(sql)
        .bind(uuid)
        .fetch_optional(conn)
        .await?
        .map(User::from))
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
        "UPDATE users SET unlock_failures = $1, self_service_closed = $2 \
         WHERE uuid = $3 AND unlock_failures = $4 AND self_service_closed = $5 RETURNING uuid",
    )
    .bind(after.answer_failures)
    .bind(i64::from(after.self_service_closed))
    .bind(uuid)
    .bind(before.answer_failures)
    .bind(i64::from(before.self_service_closed))
    .fetch_optional(conn)
    .await?;
    match swapped {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict { table: "users" }),
    }
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

pub async fn delete(conn: &mut AnyConnection, uuid: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM users WHERE uuid = $1")
        .bind(uuid)
        .execute(conn)
        .await?;
    Ok(())
}
