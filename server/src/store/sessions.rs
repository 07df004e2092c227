//! `sessions` (AUTH-1, AUTH-2): server-side sessions found by the hash of their cookie's
//! secret, and the sign-in that begins one.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, Row};

use super::audit::{self, link_columns, link_values, Link};
use super::{corrupt, user_uuid, AnyQuery, Backend, StoreError};

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

/// A new session's row, from seven values in [`bind_session`]'s order.
macro_rules! insert_session {
    () => {
        "INSERT INTO sessions (secret_hash, user_uuid, card_guid, created_at, last_seen_at, \
         expires_at, card_proven_at) "
    };
}

fn bind_session<'q>(query: AnyQuery<'q>, session: &'q Session) -> AnyQuery<'q> {
    query
        .bind(session.secret_hash.as_slice())
        .bind(session.user_uuid.as_str())
        .bind(session.card_guid.to_hex())
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(session.card_proven_at)
}

/// What [`sign_in`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// The session begun, its event written, the challenge spent if it was to be.
    Begun,
    /// Another request spent the challenge first: nothing written.
    SpentBefore,
    /// Only the challenge spent: the chain's head had moved on from the link's (another
    /// step of the chain came between), so the link and the session are still to write.
    ChainMoved,
}

/// A sign-in (AUTH-1, AUTH-2): the challenge spent (`spend`: its nonce and end, none if
/// spent already), the session begun, and `link`, its audit event — on PostgreSQL in one
/// statement, needing no transaction (a sign-in's round trips are most of its cost, issue
/// 22): the link goes in only if its chain's head is still the one it follows, else only
/// the challenge is spent ([`SignIn::ChainMoved`]). On SQLite, under the transaction's
/// lock. The session is also the card's PIN tries as last seen (RA-2:
/// [`super::ra::cards_of`]).
pub async fn sign_in(
    conn: &mut AnyConnection,
    backend: Backend,
    spend: Option<(&str, i64)>,
    session: &Session,
    link: &Link<'_>,
) -> Result<SignIn, StoreError> {
    if backend == Backend::Sqlite {
        if let Some((nonce, expires_at)) = spend {
            if !super::spent_logins::spend(&mut *conn, nonce, expires_at).await? {
                return Ok(SignIn::SpentBefore);
            }
        }
        let insert = concat!(insert_session!(), "VALUES ($1, $2, $3, $4, $5, $6, $7)");
        bind_session(sqlx::query(insert), session)
            .execute(&mut *conn)
            .await?;
        audit::write_link(conn, backend, link).await?;
        return Ok(SignIn::Begun);
    }
    // Each part follows the one before: nothing moves the head unless the challenge was
    // this request's to spend, and no link or session is written unless the head moved.
    let statement = concat!(
        "WITH spent AS (INSERT INTO spent_logins (id, expires_at) SELECT $20, $21 WHERE $22 \
         ON CONFLICT (id) DO NOTHING RETURNING id), \
         head AS (UPDATE audit_chain_heads SET chain_seq = $10, mac = $12 \
         WHERE chain = $9 AND mac = $11 AND (EXISTS (SELECT 1 FROM spent) OR NOT $22) \
         RETURNING chain), \
         link AS (INSERT INTO ",
        link_columns!(),
        " SELECT ",
        link_values!(),
        " FROM head), session AS (",
        insert_session!(),
        "SELECT $13, $14, $15, $16, $17, $18, $19 FROM head) \
         SELECT (SELECT COUNT(*) FROM spent) AS spent, (SELECT COUNT(*) FROM head) AS moved"
    );
    let (nonce, expires_at) = spend.unwrap_or_default();
    let row = bind_session(link.bind(sqlx::query(statement)), session)
        .bind(nonce)
        .bind(expires_at)
        .bind(spend.is_some())
        .fetch_one(conn)
        .await?;
    let (spent, moved): (i64, i64) = (row.try_get("spent")?, row.try_get("moved")?);
    Ok(match (spend.is_some() && spent == 0, moved > 0) {
        (true, _) => SignIn::SpentBefore,
        (false, true) => SignIn::Begun,
        (false, false) => SignIn::ChainMoved,
    })
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
