//! `ra_phone_codes` (RA-3): the code an RA reads out on the phone — one live per user (a
//! new one replaces it), kept only as a keyed hash with its salt (ALL-1, ALL-7), who
//! issued it, when it ends, its wrong tries and when it was used.

use sqlx::AnyConnection;

use super::{Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhoneCode {
    pub user_uuid: String,
    pub code_hash: Vec<u8>,
    pub code_salt: Vec<u8>,
    /// The RA's UUID.
    pub issued_by: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub failures: i64,
    pub used_at: Option<i64>,
}

const SELECT: &str = "SELECT user_uuid, code_hash, code_salt, issued_by, issued_at, \
                      expires_at, failures, used_at FROM ra_phone_codes WHERE user_uuid = $1";

pub async fn find(
    conn: &mut AnyConnection,
    user_uuid: &str,
) -> Result<Option<PhoneCode>, StoreError> {
    Ok(sqlx::query_as::<_, PhoneCode>(SELECT)
        .bind(user_uuid)
        .fetch_optional(conn)
        .await?)
}

pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    user_uuid: &str,
) -> Result<Option<PhoneCode>, StoreError> {
    Ok(
        sqlx::query_as::<_, PhoneCode>(&format!("{SELECT}{}", backend.for_update()))
            .bind(user_uuid)
            .fetch_optional(conn)
            .await?,
    )
}

/// Issues `code`, replacing any earlier one of the user's.
pub async fn replace(conn: &mut AnyConnection, code: &PhoneCode) -> Result<(), StoreError> {
    delete_for_user(&mut *conn, &code.user_uuid).await?;
    sqlx::query(
        "INSERT INTO ra_phone_codes (user_uuid, code_hash, code_salt, issued_by, issued_at, \
         expires_at, failures, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&code.user_uuid)
    .bind(code.code_hash.clone())
    .bind(code.code_salt.clone())
    .bind(&code.issued_by)
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
        .bind(&code.user_uuid)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_for_user(conn: &mut AnyConnection, user_uuid: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ra_phone_codes WHERE user_uuid = $1")
        .bind(user_uuid)
        .execute(conn)
        .await?;
    Ok(())
}

/// RA-6: a user's live phone code, if any, can no longer be used.
pub async fn spend(conn: &mut AnyConnection, user_uuid: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE ra_phone_codes SET used_at = $1 WHERE user_uuid = $2 AND used_at IS NULL")
        .bind(at)
        .bind(user_uuid)
        .execute(conn)
        .await?;
    Ok(())
}
