//! `sessions` (AUTH-1, AUTH-2): server-side sessions found by the hash of their cookie's
//! secret, and the sign-in that begins one.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::AnyConnection;

use super::{corrupt, user_uuid, Backend, StoreError};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub secret_hash: Vec<u8>,
    pub user_uuid: UserUuid,
    pub card_guid: CardGuid,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    /// RA-5: when the card last proved itself (sign-in, or the passcode again).
    pub card_proven_at: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    secret_hash: Vec<u8>,
    user_uuid: String,
    card_guid: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    card_proven_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            card_guid: CardGuid::parse(&row.card_guid)
                .map_err(|_| corrupt("sessions", "card_guid"))?,
            secret_hash: row.secret_hash,
            user_uuid: user_uuid("sessions", "user_uuid", &row.user_uuid)?,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            expires_at: row.expires_at,
            ended_at: row.ended_at,
            card_proven_at: row.card_proven_at,
        })
    }
}

/// A new session's row, from `$1`…`$7` in this order (`$3` its card, `$4` when it began).
macro_rules! insert_session {
    () => {
        "INSERT INTO sessions (secret_hash, user_uuid, card_guid, created_at, last_seen_at, \
         expires_at, card_proven_at) "
    };
}

/// A sign-in (AUTH-1, AUTH-2): the challenge spent (`spent` is its nonce and end) and
/// the session begun — one statement on PostgreSQL (a sign-in's round trips are most of
/// its cost, issue 22), two on SQLite. The session is also the card's PIN tries as last
/// seen (RA-2: [`super::ra::cards_of`]). False, and nothing written: another request
/// spent the challenge first.
pub async fn sign_in(
    conn: &mut AnyConnection,
    backend: Backend,
    (nonce, expires_at): (&str, i64),
    session: &Session,
) -> Result<bool, StoreError> {
    let insert = match backend {
        Backend::Postgres => concat!(
            "WITH spent AS (INSERT INTO spent_logins (id, expires_at) VALUES ($8, $9) \
             ON CONFLICT (id) DO NOTHING RETURNING id) ",
            insert_session!(),
            "SELECT $1, $2, $3, $4, $5, $6, $7 FROM spent"
        ),
        Backend::Sqlite => {
            if !super::spent_logins::spend(&mut *conn, nonce, expires_at).await? {
                return Ok(false);
            }
            concat!(insert_session!(), "VALUES ($1, $2, $3, $4, $5, $6, $7)")
        }
    };
    let query = sqlx::query(insert)
        .bind(session.secret_hash.clone())
        .bind(session.user_uuid.as_str())
        .bind(session.card_guid.to_hex())
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(session.card_proven_at);
    let query = match backend {
        Backend::Postgres => query.bind(nonce).bind(expires_at),
        Backend::Sqlite => query,
    };
    Ok(query.execute(conn).await?.rows_affected() == 1)
}

pub async fn find_session(
    conn: &mut AnyConnection,
    secret_hash: &[u8],
) -> Result<Option<Session>, StoreError> {
    sqlx::query_as::<_, SessionRow>(
        "SELECT secret_hash, user_uuid, card_guid, created_at, last_seen_at, expires_at, \
         ended_at, card_proven_at FROM sessions WHERE secret_hash = $1",
    )
    .bind(secret_hash.to_vec())
    .fetch_optional(conn)
    .await?
    .map(Session::try_from)
    .transpose()
}

/// A request was served in the session: its idle clock starts again.
pub async fn touch_session(
    conn: &mut AnyConnection,
    secret_hash: &[u8],
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL",
    )
    .bind(at)
    .bind(secret_hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

/// RA-5: the session's card proved itself again.
pub async fn card_proven(
    conn: &mut AnyConnection,
    secret_hash: &[u8],
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET card_proven_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL",
    )
    .bind(at)
    .bind(secret_hash.to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn end_session(
    conn: &mut AnyConnection,
    secret_hash: &[u8],
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL")
        .bind(at)
        .bind(secret_hash.to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

/// RA-6: every session of a user ends now.
pub async fn end_all_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
    at: i64,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_uuid = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(user_uuid.as_str())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user_uuid: &str) -> SessionRow {
        SessionRow {
            secret_hash: vec![1; 32],
            user_uuid: user_uuid.to_owned(),
            card_guid: "02".repeat(16),
            created_at: 1,
            last_seen_at: 1,
            expires_at: 2,
            ended_at: None,
            card_proven_at: 1,
        }
    }

    #[test]
    fn all_2_a_stored_uuid_is_parsed_once_or_the_row_is_corrupt() {
        let session = Session::try_from(row("555555555501")).unwrap();
        assert_eq!(session.user_uuid.as_str(), "555555555501");
        for bad in ["", "55555555550", "55555555550x", "555555555501 x"] {
            assert!(
                matches!(
                    Session::try_from(row(bad)),
                    Err(StoreError::Corrupt {
                        table: "sessions",
                        column: "user_uuid"
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
