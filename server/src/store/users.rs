//! `users`: staff, their contact details, registration, and the unlock limits that hold
//! across attempts (UNL-4 counters, wrong codes per day, the fixed question subset).

use api_types::ra::{Role, UserUuid};
use sqlx::{AnyConnection, AnyPool};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::{corrupt, flag, user_uuid, Backend, StoreError};

/// A user as the unlock flow needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uuid: UserUuid,
    pub display_name: String,
    pub email: String,
    pub registered: bool,
    pub counters: UnlockCounters,
    /// The questions every attempt asks until an unlock succeeds; empty until chosen.
    pub question_ids: Vec<i64>,
    pub mobile: Option<String>,
    /// SCSC-1: what the holder types is checked against this.
    pub family_name: String,
    /// RA-1: from the record, never from a client.
    pub role: Role,
    /// PASS-4: when the passcodes were last set, and when the RA last unlocked the
    /// account after they expired.
    pub passcodes_set_at: Option<i64>,
    pub passcodes_unlocked_at: Option<i64>,
}

/// The self-service limits for one user, shared by all attempts and instances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnlockCounters {
    pub answer_failures: i64,
    /// Wrong unlock codes since `code_window_started_at` (0: no window open).
    pub code_failures: i64,
    pub code_window_started_at: i64,
    pub self_service_closed: bool,
    /// SCSC-4: wrong Account Recovery details since the last unlock or reopening.
    pub recovery_failures: i64,
    /// RA-6: closed by an incident stop — every route, not only the questions.
    pub stopped: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
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
    recovery_failures: i64,
    incident_stopped: i64,
    unlock_question_ids: String,
    mobile: Option<String>,
    role: String,
    passcodes_set_at: Option<i64>,
    passcodes_unlocked_at: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            uuid: user_uuid("users", "uuid", &row.uuid)?,
            display_name: super::display_name(&row.title, &row.given_name, &row.family_name),
            email: row.email,
            registered: flag(row.registered),
            counters: UnlockCounters {
                answer_failures: row.unlock_failures,
                code_failures: row.code_failures,
                code_window_started_at: row.code_window_started_at,
                self_service_closed: flag(row.self_service_closed),
                recovery_failures: row.recovery_failures,
                stopped: flag(row.incident_stopped),
            },
            question_ids: super::parse_ids(&row.unlock_question_ids)
                .ok_or_else(|| corrupt("users", "unlock_question_ids"))?,
            mobile: row.mobile,
            family_name: row.family_name,
            role: Role::parse(&row.role).ok_or_else(|| corrupt("users", "role"))?,
            passcodes_set_at: row.passcodes_set_at,
            passcodes_unlocked_at: row.passcodes_unlocked_at,
        })
    }
}

/// [`UserRow`]'s columns, none of which `cards` also has (so a join names them bare).
macro_rules! user_columns {
    () => {
        "uuid, title, given_name, family_name, email, registered, unlock_failures, \
         self_service_closed, code_failures, code_window_started_at, recovery_failures, \
         incident_stopped, unlock_question_ids, mobile, role, passcodes_set_at, \
         passcodes_unlocked_at"
    };
}

pub(super) use user_columns;

const SELECT: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE uuid = $1");

async fn select(
    conn: &mut AnyConnection,
    sql: &str,
    uuid: &UserUuid,
) -> Result<Option<User>, StoreError> {
    sqlx::query_as::<_, UserRow>(sql)
        .bind(uuid.as_str())
        .fetch_optional(conn)
        .await?
        .map(User::try_from)
        .transpose()
}

pub async fn find(conn: &mut AnyConnection, uuid: &UserUuid) -> Result<Option<User>, StoreError> {
    select(conn, SELECT, uuid).await
}

/// AUTH-1: a card's holder, and the card's self-service renewals since the RA last
/// renewed it (CERT-4), read with the sign-in's challenge
/// ([`super::spent_logins::login_card`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolder {
    pub user: User,
    pub renewals_in_a_row: i64,
}

impl CardHolder {
    /// From a row that joined the card to its user ([`user_columns!`] and the card's
    /// `renewals_in_a_row`).
    pub(super) fn from_row(user: UserRow, renewals_in_a_row: i64) -> Result<Self, StoreError> {
        Ok(Self {
            user: User::try_from(user)?,
            renewals_in_a_row,
        })
    }
}

/// Loads a user and locks the row for the rest of the transaction, so the UNL-4
/// counters are read and written by one step at a time. The lock leaves the user's key
/// alone: a sign-in (whose session refers to the user) never waits on it while it holds
/// its audit chain's head, which such a step locks after this row.
pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    uuid: &UserUuid,
) -> Result<Option<User>, StoreError> {
    select(
        conn,
        &format!("{SELECT}{}", backend.for_no_key_update()),
        uuid,
    )
    .await
}

/// Compare-and-set of the UNL-4 counters: writes `after` only if the row still holds
/// `before`, so no racing step's count is lost even without the row lock.
pub async fn swap_unlock_counters(
    conn: &mut AnyConnection,
    uuid: &UserUuid,
    before: UnlockCounters,
    after: UnlockCounters,
) -> Result<(), StoreError> {
    let swapped = sqlx::query(
        "UPDATE users SET unlock_failures = $1, code_failures = $2, \
         code_window_started_at = $3, self_service_closed = $4, recovery_failures = $5, \
         incident_stopped = $6 \
         WHERE uuid = $7 AND unlock_failures = $8 AND code_failures = $9 \
         AND code_window_started_at = $10 AND self_service_closed = $11 \
         AND recovery_failures = $12 AND incident_stopped = $13 RETURNING uuid",
    )
    .bind(after.answer_failures)
    .bind(after.code_failures)
    .bind(after.code_window_started_at)
    .bind(i64::from(after.self_service_closed))
    .bind(after.recovery_failures)
    .bind(i64::from(after.stopped))
    .bind(uuid.as_str())
    .bind(before.answer_failures)
    .bind(before.code_failures)
    .bind(before.code_window_started_at)
    .bind(i64::from(before.self_service_closed))
    .bind(before.recovery_failures)
    .bind(i64::from(before.stopped))
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
    uuid: &UserUuid,
    question_ids: &[i64],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET unlock_question_ids = $1 WHERE uuid = $2")
        .bind(super::join_ids(question_ids))
        .bind(uuid.as_str())
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
        "INSERT INTO users (uuid, title, given_name, family_name, email, role, registered, \
         name_key, family_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.uuid)
    .bind(user.title)
    .bind(user.given_name)
    .bind(user.family_name)
    .bind(user.email)
    .bind(user.role)
    .bind(i64::from(user.registered))
    .bind(name_key(&format!(
        "{} {}",
        user.given_name, user.family_name
    )))
    .bind(name_key(&format!(
        "{} {}",
        user.family_name, user.given_name
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// REG-5: the contact details the user keeps on "My card".
pub async fn set_contact(
    conn: &mut AnyConnection,
    uuid: &UserUuid,
    email: &str,
    mobile: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET email = $1, mobile = $2 WHERE uuid = $3")
        .bind(email)
        .bind(mobile)
        .bind(uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, uuid: &UserUuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM users WHERE uuid = $1")
        .bind(uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// RA-2: how names are searched — lowercase, accents folded (`Zoë` → `zoe`), letters,
/// digits, `'` and `-` kept, runs of anything else one space. Also what a query is
/// turned into, so `%` and `_` never reach a `LIKE`.
pub fn name_key(name: &str) -> String {
    // Compatibility forms first (`𝐀` is `A`), then lowercase, then decompose what
    // lowercasing made (`İ` → `i̇`) so every accent comes off.
    let lower: String = name.nfkd().flat_map(char::to_lowercase).collect();
    let folded: String = lower
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(sqlx::FromRow)]
struct NameRow {
    uuid: String,
    given_name: String,
    family_name: String,
}

/// Gives rows written before names had search keys their keys (at start).
pub async fn fill_name_keys(pool: &AnyPool) -> Result<u64, StoreError> {
    let rows = sqlx::query_as::<_, NameRow>(
        "SELECT uuid, given_name, family_name FROM users WHERE name_key = ''",
    )
    .fetch_all(pool)
    .await?;
    for row in &rows {
        sqlx::query("UPDATE users SET name_key = $1, family_key = $2 WHERE uuid = $3")
            .bind(name_key(&format!("{} {}", row.given_name, row.family_name)))
            .bind(name_key(&format!("{} {}", row.family_name, row.given_name)))
            .bind(&row.uuid)
            .execute(pool)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// RA-1: a manager's change of someone's role.
pub async fn set_role(
    conn: &mut AnyConnection,
    uuid: &UserUuid,
    role: Role,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET role = $1 WHERE uuid = $2")
        .bind(role.as_str())
        .bind(uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::name_key;
    use proptest::prelude::*;

    #[test]
    fn ra_2_names_fold_case_and_accents() {
        assert_eq!(name_key("Zoë  O'NEILL-Brontë"), "zoe o'neill-bronte");
        assert_eq!(name_key("ÉLODIE"), "elodie");
        assert_eq!(name_key("50%_off"), "50 off");
    }

    proptest! {
        #[test]
        fn ra_2_a_key_never_holds_like_wildcards(name in ".{0,40}") {
            let key = name_key(&name);
            prop_assert!(!key.contains('%') && !key.contains('_'));
            prop_assert_eq!(name_key(&key), key.clone());
        }
    }
}
