//! `account_passcodes`, `passcode_history` and `passcode_updates` (PASS-1…PASS-4): the
//! Account Recovery and Verification Passcodes as peppered argon2id hashes, the keyed
//! hashes of each one's last five values, an Update waiting for the card, and when the
//! user's passcodes were last set.

use api_types::passcodes::PasscodeKind;
use api_types::ra::UserUuid;
use api_types::values::PasscodeUpdateId;
use api_types::CardGuid;
use sqlx::AnyConnection;

use super::attempts::HexBytes;
use super::{corrupt, user_uuid, Backend, StoreError};

/// PASS-3: how many of a passcode's values are kept to refuse again.
pub const HISTORY: i64 = 5;

const UPDATES: &str = "passcode_updates";

/// A server-side passcode as an Update sets it: its hash to keep and its keyed hash for
/// the history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPasscode {
    pub hash: String,
    pub keyed: HexBytes,
}

/// What an Update does to one server-side passcode, hashed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HashedChange {
    Keep,
    Blank,
    Set(NewPasscode),
}

/// Both server-side changes of one Update.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedChanges {
    pub account_recovery: HashedChange,
    pub verification: HashedChange,
}

impl HashedChanges {
    pub fn each(&self) -> [(PasscodeKind, &HashedChange); 2] {
        [
            (PasscodeKind::AccountRecovery, &self.account_recovery),
            (PasscodeKind::Verification, &self.verification),
        ]
    }
}

/// PASS-2: an Update waiting for the card's new passcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodeUpdate {
    pub id: PasscodeUpdateId,
    pub user_uuid: UserUuid,
    pub card_guid: CardGuid,
    pub changes: HashedChanges,
    pub created_at: i64,
    pub expires_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct UpdateRow {
    id: String,
    user_uuid: String,
    card_guid: String,
    changes: String,
    created_at: i64,
    expires_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<UpdateRow> for PasscodeUpdate {
    type Error = StoreError;

    fn try_from(row: UpdateRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: PasscodeUpdateId::parse(&row.id).map_err(|_| corrupt(UPDATES, "id"))?,
            user_uuid: user_uuid(UPDATES, "user_uuid", &row.user_uuid)?,
            card_guid: CardGuid::parse(&row.card_guid)
                .map_err(|_| corrupt(UPDATES, "card_guid"))?,
            changes: serde_json::from_str(&row.changes).map_err(|_| corrupt(UPDATES, "changes"))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            finished_at: row.finished_at,
        })
    }
}

/// The user's server-side passcodes that are set, with their hashes.
pub async fn hashes(
    conn: &mut AnyConnection,
    user: &UserUuid,
) -> Result<Vec<(PasscodeKind, String)>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, hash FROM account_passcodes WHERE user_uuid = $1")
            .bind(user.as_str())
            .fetch_all(conn)
            .await?;
    rows.into_iter()
        .map(|(kind, hash)| {
            let kind =
                PasscodeKind::parse(&kind).ok_or_else(|| corrupt("account_passcodes", "kind"))?;
            Ok((kind, hash))
        })
        .collect()
}

/// PASS-3: the keyed hashes of the passcode's last values, newest first.
pub async fn history(
    conn: &mut AnyConnection,
    user: &UserUuid,
    kind: PasscodeKind,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT keyed_hash FROM passcode_history WHERE user_uuid = $1 AND kind = $2 \
         ORDER BY changed_at DESC LIMIT $3",
    )
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(HISTORY)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(hash,)| hash).collect())
}

/// Sets the passcode, and keeps its keyed hash in its history (the oldest beyond
/// [`HISTORY`] go).
pub async fn set(
    conn: &mut AnyConnection,
    user: &UserUuid,
    kind: PasscodeKind,
    new: &NewPasscode,
    now: i64,
) -> Result<(), StoreError> {
    remove(&mut *conn, user, kind).await?;
    sqlx::query(
        "INSERT INTO account_passcodes (user_uuid, kind, hash, set_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(&new.hash)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO passcode_history (user_uuid, kind, keyed_hash, changed_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(new.keyed.0.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM passcode_history WHERE user_uuid = $1 AND kind = $2 AND keyed_hash NOT IN \
         (SELECT keyed_hash FROM passcode_history WHERE user_uuid = $1 AND kind = $2 \
         ORDER BY changed_at DESC LIMIT $3)",
    )
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(HISTORY)
    .execute(conn)
    .await?;
    Ok(())
}

/// "Blank passcode": the user no longer has it (its history stays).
pub async fn remove(
    conn: &mut AnyConnection,
    user: &UserUuid,
    kind: PasscodeKind,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM account_passcodes WHERE user_uuid = $1 AND kind = $2")
        .bind(user.as_str())
        .bind(kind.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// PASS-4: the user's passcodes were set now.
pub async fn set_last_set(
    conn: &mut AnyConnection,
    user: &UserUuid,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET passcodes_set_at = $1 WHERE uuid = $2")
        .bind(now)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// PASS-4: the RA unlocked the account now.
pub async fn set_unlocked(
    conn: &mut AnyConnection,
    user: &UserUuid,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET passcodes_unlocked_at = $1 WHERE uuid = $2")
        .bind(now)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// PASS-4: when the user's passcodes were last set.
pub async fn last_set(
    conn: &mut AnyConnection,
    user: &UserUuid,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT passcodes_set_at FROM users WHERE uuid = $1")
            .bind(user.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(at,)| at))
}

pub async fn insert_update(
    conn: &mut AnyConnection,
    update: &PasscodeUpdate,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO passcode_updates (id, user_uuid, card_guid, changes, created_at, \
         expires_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(update.id.as_str())
    .bind(update.user_uuid.as_str())
    .bind(update.card_guid.to_hex())
    .bind(serde_json::to_string(&update.changes).map_err(|_| corrupt(UPDATES, "changes"))?)
    .bind(update.created_at)
    .bind(update.expires_at)
    .bind(update.finished_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The Update, locked for the rest of the transaction.
pub async fn find_update_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &PasscodeUpdateId,
) -> Result<Option<PasscodeUpdate>, StoreError> {
    let sql = format!(
        "SELECT id, user_uuid, card_guid, changes, created_at, expires_at, finished_at \
         FROM passcode_updates WHERE id = $1{}",
        backend.for_update()
    );
    sqlx::query_as::<_, UpdateRow>(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(PasscodeUpdate::try_from)
        .transpose()
}

pub async fn finish_update(
    conn: &mut AnyConnection,
    id: &PasscodeUpdateId,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE passcode_updates SET finished_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Enrolment afresh: the user's server-side passcodes, their history and any Update go.
pub async fn delete_for_user(conn: &mut AnyConnection, user: &UserUuid) -> Result<(), StoreError> {
    for table in ["account_passcodes", "passcode_history", "passcode_updates"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_uuid = $1"))
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// PASS-5: the user's Verification Passcode hash and its wrong checks in a row, locked
/// for the rest of the transaction; none when they have none.
pub async fn verification_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    user: &UserUuid,
) -> Result<Option<(String, i64)>, StoreError> {
    let sql = format!(
        "SELECT hash, check_failures FROM account_passcodes WHERE user_uuid = $1 \
         AND kind = 'verification'{}",
        backend.for_update()
    );
    Ok(sqlx::query_as(&sql)
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?)
}

/// PASS-5: the wrong checks in a row of the user's Verification Passcode.
pub async fn set_check_failures(
    conn: &mut AnyConnection,
    user: &UserUuid,
    failures: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE account_passcodes SET check_failures = $1 WHERE user_uuid = $2 \
         AND kind = 'verification'",
    )
    .bind(failures)
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
