//! `ra_phone_codes` (RA-3): the code an RA reads out on the phone — one live per user (a
//! new one replaces it), kept only as a keyed hash with its salt (ALL-1, ALL-7), who
//! issued it, when it ends, its wrong tries and when it was used.

use api_types::ra::UserUuid;
use sqlx::AnyConnection;

use super::{user_uuid, Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCode {
    pub user_uuid: UserUuid,
    pub code_hash: Vec<u8>,
    pub code_salt: Vec<u8>,
    /// The RA's UUID.
    pub issued_by: UserUuid,
    pub issued_at: i64,
    pub expires_at: i64,
    pub failures: i64,
    pub used_at: Option<i64>,
}

const TABLE: &str = "ra_phone_codes";

#[derive(sqlx::FromRow)]
struct Row {
    user_uuid: String,
    code_hash: Vec<u8>,
    code_salt: Vec<u8>,
    issued_by: String,
    issued_at: i64,
    expires_at: i64,
    failures: i64,
    used_at: Option<i64>,
}

impl TryFrom<Row> for PhoneCode {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Self {
            user_uuid: user_uuid(TABLE, "user_uuid", &row.user_uuid)?,
            code_hash: row.code_hash,
            code_salt: row.code_salt,
            issued_by: user_uuid(TABLE, "issued_by", &row.issued_by)?,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            failures: row.failures,
            used_at: row.used_at,
        })
    }
}

const SELECT: &str = "SELECT user_uuid, code_hash, code_salt, issued_by, issued_at, \
                      expires_at, failures, used_at FROM ra_phone_codes WHERE user_uuid = $1";

pub async fn find(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<Option<PhoneCode>, StoreError> {
    sqlx::query_as::<_, Row>(SELECT)
        .bind(user_uuid.as_str())
        .fetch_optional(conn)
        .await?
        .map(PhoneCode::try_from)
        .transpose()
}

pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    user_uuid: &UserUuid,
) -> Result<Option<PhoneCode>, StoreError> {
    sqlx::query_as::<_, Row>(&format!("{SELECT}{}", backend.for_update()))
        .bind(user_uuid.as_str())
        .fetch_optional(conn)
        .await?
        .map(PhoneCode::try_from)
        .transpose()
}

/// Issues `code`, replacing any earlier one of the user's.
pub async fn replace(conn: &mut AnyConnection, code: &PhoneCode) -> Result<(), StoreError> {
    delete_for_user(&mut *conn, &code.user_uuid).await?;
    sqlx::query(
        "INSERT INTO ra_phone_codes (user_uuid, code_hash, code_salt, issued_by, issued_at, \
         expires_at, failures, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(code.user_uuid.as_str())
    .bind(code.code_hash.clone())
    .bind(code.code_salt.clone())
    .bind(code.issued_by.as_str())
    .bind(code.issued_at)
    .bind(code.expires_at)
    .bind(code.failures)
    .bind(code.used_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A wrong try counted, or the code used.
pub async fn save(conn: &mut AnyConnection, code: &PhoneCode) -> Result<(), StoreError> {
    sqlx::query("UPDATE ra_phone_codes SET failures = $1, used_at = $2 WHERE user_uuid = $3")
        .bind(code.failures)
        .bind(code.used_at)
        .bind(code.user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ra_phone_codes WHERE user_uuid = $1")
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// RA-6: a user's live phone code, if any, can no longer be used.
pub async fn spend(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE ra_phone_codes SET used_at = $1 WHERE user_uuid = $2 AND used_at IS NULL")
        .bind(at)
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
