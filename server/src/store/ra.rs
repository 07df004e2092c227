//! What the RA console reads about users (RA-2) and the at-risk lists: users found by
//! UUID or name key, a user's cards with their latest login certificate and last-seen
//! passcode tries, and the dashboard's queries. The flows decide; this only reads (and
//! records the tries a card was seen with).

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::AnyConnection;

use super::{user_uuid, StoreError};

/// A user as listed in search results and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub uuid: UserUuid,
    pub title: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub role: String,
    pub registered: i64,
    pub self_service_closed: i64,
}

/// [`Listed`] as read, before its UUID has parsed; other queries join it in.
#[derive(sqlx::FromRow)]
pub(super) struct ListedRow {
    uuid: String,
    title: String,
    given_name: String,
    family_name: String,
    email: String,
    role: String,
    registered: i64,
    self_service_closed: i64,
}

impl TryFrom<ListedRow> for Listed {
    type Error = StoreError;

    fn try_from(row: ListedRow) -> Result<Self, StoreError> {
        Ok(Self {
            uuid: user_uuid("users", "uuid", &row.uuid)?,
            title: row.title,
            given_name: row.given_name,
            family_name: row.family_name,
            email: row.email,
            role: row.role,
            registered: row.registered,
            self_service_closed: row.self_service_closed,
        })
    }
}

fn listed_all(rows: Vec<ListedRow>) -> Result<Vec<Listed>, StoreError> {
    rows.into_iter().map(Listed::try_from).collect()
}

const LISTED: &str = "u.uuid, u.title, u.given_name, u.family_name, u.email, u.role, \
                      u.registered, u.self_service_closed";

/// How to find users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search<'a> {
    Uuid(UserUuid),
    /// The start of a [`super::users::name_key`], given name or family name first.
    NamePrefix(&'a str),
}

/// One page of matches (`limit` of them from `offset`), by family name.
pub async fn search(
    conn: &mut AnyConnection,
    search: &Search<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Listed>, StoreError> {
    let (sql, value) = match search {
        Search::Uuid(uuid) => (
            format!("SELECT {LISTED} FROM users u WHERE u.uuid = $1 LIMIT $2 OFFSET $3"),
            uuid.as_str().to_owned(),
        ),
        Search::NamePrefix(key) => (
            format!(
                "SELECT {LISTED} FROM users u WHERE u.name_key LIKE $1 OR u.family_key LIKE $1 \
                 ORDER BY u.family_key, u.uuid LIMIT $2 OFFSET $3"
            ),
            format!("{key}%"),
        ),
    };
    listed_all(
        sqlx::query_as::<_, ListedRow>(&sql)
            .bind(value)
            .bind(limit)
            .bind(offset)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn listed(
    conn: &mut AnyConnection,
    uuid: &UserUuid,
) -> Result<Option<Listed>, StoreError> {
    sqlx::query_as::<_, ListedRow>(&format!("SELECT {LISTED} FROM users u WHERE u.uuid = $1"))
        .bind(uuid.as_str())
        .fetch_optional(conn)
        .await?
        .map(Listed::try_from)
        .transpose()
}

/// A card as the RA sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CardListing {
    pub guid: String,
    pub created_at: i64,
    /// The PIN tries the card was last reported with ([`set_pin_tries`]), and when.
    pub pin_tries_left: Option<i64>,
    pub pin_tries_seen_at: Option<i64>,
    /// The card's latest sign-in: its PIN verified, so all its tries, then.
    pub signed_in_at: Option<i64>,
    /// The newest unrevoked login (9A) certificate's end.
    pub certificate_expires_at: Option<i64>,
    pub renewals_in_a_row: i64,
}

pub async fn cards_of(
    conn: &mut AnyConnection,
    uuid: &UserUuid,
) -> Result<Vec<CardListing>, StoreError> {
    Ok(sqlx::query_as::<_, CardListing>(
        "SELECT c.guid, c.created_at, c.pin_tries_left, c.pin_tries_seen_at, \
         c.renewals_in_a_row, (SELECT MAX(k.not_after) FROM card_certificates k WHERE k.card_guid = c.guid \
          AND k.slot = '9a' AND k.revoked_at IS NULL) AS certificate_expires_at, \
         (SELECT MAX(s.created_at) FROM sessions s WHERE s.user_uuid = c.user_uuid \
          AND s.card_guid = c.guid) AS signed_in_at \
         FROM cards c WHERE c.user_uuid = $1 ORDER BY c.created_at DESC, c.guid",
    )
    .bind(uuid.as_str())
    .fetch_all(conn)
    .await?)
}

/// The passcode tries a card was seen with (an unlock; a sign-in is its session).
pub async fn set_pin_tries(
    conn: &mut AnyConnection,
    guid: &CardGuid,
    tries: i64,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cards SET pin_tries_left = $1, pin_tries_seen_at = $2 WHERE guid = $3")
        .bind(tries)
        .bind(at)
        .bind(guid.to_hex())
        .execute(conn)
        .await?;
    Ok(())
}

/// Users who never confirmed an email address with a registration code.
pub async fn unregistered(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Listed>, StoreError> {
    listed_all(
        sqlx::query_as::<_, ListedRow>(&format!(
            "SELECT {LISTED} FROM users u WHERE u.registered = 0 \
             ORDER BY u.family_key, u.uuid LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(conn)
        .await?,
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringRow {
    pub user: Listed,
    pub card_guid: String,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct ExpiringRead {
    #[sqlx(flatten)]
    user: ListedRow,
    card_guid: String,
    expires_at: i64,
}

/// Cards whose newest login certificate ends in `[from, to)`, soonest first.
pub async fn expiring(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    limit: i64,
) -> Result<Vec<ExpiringRow>, StoreError> {
    sqlx::query_as::<_, ExpiringRead>(&format!(
        "SELECT {LISTED}, c.guid AS card_guid, k.not_after AS expires_at \
         FROM card_certificates k JOIN cards c ON c.guid = k.card_guid \
         JOIN users u ON u.uuid = c.user_uuid \
         WHERE k.slot = '9a' AND k.revoked_at IS NULL AND k.not_after >= $1 \
         AND k.not_after < $2 AND NOT EXISTS (SELECT 1 FROM card_certificates n \
         WHERE n.card_guid = k.card_guid AND n.slot = '9a' AND n.revoked_at IS NULL \
         AND n.not_after > k.not_after) ORDER BY k.not_after, c.guid LIMIT $3"
    ))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(ExpiringRow {
            user: row.user.try_into()?,
            card_guid: row.card_guid,
            expires_at: row.expires_at,
        })
    })
    .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutRow {
    pub user: Listed,
    pub lockouts: i64,
}

#[derive(sqlx::FromRow)]
struct LockoutRead {
    #[sqlx(flatten)]
    user: ListedRow,
    lockouts: i64,
}

/// Users locked out at least `at_least` times since `since`: a card unlocked (it had
/// locked) or self-service closed by the failure that closed it.
pub async fn repeat_lockouts(
    conn: &mut AnyConnection,
    since: i64,
    at_least: i64,
    limit: i64,
) -> Result<Vec<LockoutRow>, StoreError> {
    sqlx::query_as::<_, LockoutRead>(&format!(
        "SELECT {LISTED}, l.lockouts FROM (SELECT a.user_uuid, COUNT(*) AS lockouts \
         FROM audit_log a WHERE a.at >= $1 AND a.user_uuid IS NOT NULL AND \
         ((a.action = 'unlock.complete' AND a.outcome = 'unlocked') OR \
          (a.action IN ('unlock.answers', 'unlock.code') AND a.outcome = 'self_service_closed' \
           AND a.detail <> '')) GROUP BY a.user_uuid) l JOIN users u ON u.uuid = l.user_uuid \
         WHERE l.lockouts >= $2 ORDER BY l.lockouts DESC, u.uuid LIMIT $3"
    ))
    .bind(since)
    .bind(at_least)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| {
        Ok(LockoutRow {
            user: row.user.try_into()?,
            lockouts: row.lockouts,
        })
    })
    .collect()
}
