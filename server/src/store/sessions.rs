//! `login_challenges` and `sessions` (AUTH-1, AUTH-2): single-use challenges for card
//! login, and server-side sessions found by the hash of their cookie's secret.

use api_types::auth::LoginId;
use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, AnyPool, Row};

use super::users::{user_columns, CardHolder, UserRow};
use super::{corrupt, user_uuid, Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginChallenge {
    pub id: LoginId,
    pub card_guid: CardGuid,
    pub challenge: [u8; 32],
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LoginChallengeRow {
    id: String,
    card_guid: String,
    challenge: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<LoginChallengeRow> for LoginChallenge {
    type Error = StoreError;

    fn try_from(row: LoginChallengeRow) -> Result<Self, StoreError> {
        let bad = |column| corrupt("login_challenges", column);
        Ok(Self {
            id: LoginId::parse(&row.id).map_err(|_| bad("id"))?,
            card_guid: CardGuid::parse(&row.card_guid).map_err(|_| bad("card_guid"))?,
            challenge: row.challenge.try_into().map_err(|_| bad("challenge"))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            used_at: row.used_at,
        })
    }
}

pub async fn insert_challenge(
    conn: &mut AnyConnection,
    challenge: &LoginChallenge,
    client_key: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_challenges (id, card_guid, challenge, created_at, expires_at, \
         client_key) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(challenge.id.as_str())
    .bind(challenge.card_guid.to_hex())
    .bind(challenge.challenge.to_vec())
    .bind(challenge.created_at)
    .bind(challenge.expires_at)
    .bind(client_key)
    .execute(conn)
    .await?;
    Ok(())
}

/// The challenge, locked for the rest of the transaction.
pub async fn find_challenge_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &LoginId,
) -> Result<Option<LoginChallenge>, StoreError> {
    let sql = format!(
        "SELECT id, card_guid, challenge, created_at, expires_at, used_at \
         FROM login_challenges WHERE id = $1{}",
        backend.for_update()
    );
    sqlx::query_as::<_, LoginChallengeRow>(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(LoginChallenge::try_from)
        .transpose()
}

/// AUTH-1: the challenge, locked for the rest of the transaction, with its card's
/// holder — one statement for what `login/finish` reads first. A challenge whose card
/// is gone reads as none.
pub async fn challenge_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &LoginId,
) -> Result<Option<(LoginChallenge, CardHolder)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        challenge: LoginChallengeRow,
        #[sqlx(flatten)]
        user: UserRow,
        renewals_in_a_row: i64,
    }
    let sql = format!(
        concat!(
            "SELECT login_challenges.id AS id, login_challenges.card_guid AS card_guid, \
             login_challenges.challenge AS challenge, \
             login_challenges.created_at AS created_at, \
             login_challenges.expires_at AS expires_at, login_challenges.used_at AS used_at, ",
            user_columns!(),
            ", cards.renewals_in_a_row AS renewals_in_a_row FROM login_challenges \
             JOIN cards ON cards.guid = login_challenges.card_guid \
             JOIN users ON users.uuid = cards.user_uuid WHERE login_challenges.id = $1{}"
        ),
        match backend {
            Backend::Sqlite => "",
            // The challenge only: the card and its holder are read, not locked.
            Backend::Postgres => " FOR UPDATE OF login_challenges",
        }
    );
    sqlx::query_as::<_, Row>(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(|row| {
            let holder = CardHolder::from_row(row.user, row.renewals_in_a_row)?;
            Ok((LoginChallenge::try_from(row.challenge)?, holder))
        })
        .transpose()
}

/// Single use: marks the challenge used.
pub async fn use_challenge(
    conn: &mut AnyConnection,
    id: &LoginId,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE login_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(at)
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// What `login/start` reads (AUTH-1, ALL-5), in one statement: how many challenges the
/// client address holds open (unused, unexpired) and when the first of them ends — a
/// read, so a sign-in that finishes costs the address nothing — and the named card's
/// holder (none: no such card).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginStartView {
    pub open: i64,
    pub first_expiry: Option<i64>,
    pub holder: Option<UserUuid>,
}

pub async fn login_start_view(
    conn: &mut AnyConnection,
    client_key: &str,
    now: i64,
    card_guid: &CardGuid,
) -> Result<LoginStartView, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM login_challenges WHERE client_key = $1 \
         AND expires_at > $2 AND used_at IS NULL) AS open, \
         (SELECT MIN(expires_at) FROM login_challenges WHERE client_key = $1 \
         AND expires_at > $2 AND used_at IS NULL) AS first_expiry, \
         (SELECT user_uuid FROM cards WHERE guid = $3) AS holder",
    )
    .bind(client_key)
    .bind(now)
    .bind(card_guid.to_hex())
    .fetch_one(conn)
    .await?;
    let holder: Option<String> = row.try_get("holder")?;
    Ok(LoginStartView {
        open: row.try_get("open")?,
        first_expiry: row.try_get("first_expiry")?,
        holder: holder
            .map(|uuid| user_uuid("cards", "user_uuid", &uuid))
            .transpose()?,
    })
}

/// Forgets challenges past their end, used or not, so they cannot pile up.
pub async fn sweep_challenges(pool: &AnyPool, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

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

/// A new session's row: `$3` is its card and `$4` when it began.
macro_rules! insert_session {
    () => {
        "INSERT INTO sessions (secret_hash, user_uuid, card_guid, created_at, last_seen_at, \
         expires_at, card_proven_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    };
}

/// A sign-in (AUTH-1, AUTH-2): the challenge spent, the session begun, and the card's PIN
/// tries as just seen (RA-2). One statement on PostgreSQL (a sign-in's round trips are
/// most of its cost, issue 22), three on SQLite.
pub async fn sign_in(
    conn: &mut AnyConnection,
    backend: Backend,
    challenge: &LoginId,
    session: &Session,
    pin_tries: i64,
) -> Result<(), StoreError> {
    let insert = match backend {
        Backend::Postgres => concat!(
            "WITH spent AS (UPDATE login_challenges SET used_at = $4 \
             WHERE id = $8 AND used_at IS NULL), \
             seen AS (UPDATE cards SET pin_tries_left = $9, pin_tries_seen_at = $4 \
             WHERE guid = $3) ",
            insert_session!()
        ),
        Backend::Sqlite => insert_session!(),
    };
    let query = sqlx::query(insert)
        .bind(session.secret_hash.clone())
        .bind(session.user_uuid.as_str())
        .bind(session.card_guid.to_hex())
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(session.card_proven_at);
    match backend {
        Backend::Postgres => {
            let query = query.bind(challenge.as_str()).bind(pin_tries);
            query.execute(conn).await?;
        }
        Backend::Sqlite => {
            query.execute(&mut *conn).await?;
            use_challenge(&mut *conn, challenge, session.created_at).await?;
            let card = &session.card_guid;
            super::ra::set_pin_tries(conn, card, pin_tries, session.created_at).await?;
        }
    }
    Ok(())
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
