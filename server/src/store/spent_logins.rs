//! `spent_logins` (AUTH-1, REG-1): login challenges are sealed, not stored, so single use
//! is this table — a row per answered challenge, under its nonce, kept until the
//! challenge's end — and what `login/start` and `login/finish` read of the card.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, AnyPool, Row};

use super::users::{user_columns, CardHolder, UserRow};
use super::{user_uuid, StoreError};

/// AUTH-1: the named card's holder (none: no such card), all `login/start` reads.
pub async fn holder_of(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
) -> Result<Option<UserUuid>, StoreError> {
    let holder: Option<String> = sqlx::query_scalar("SELECT user_uuid FROM cards WHERE guid = $1")
        .bind(card_guid.to_hex())
        .fetch_optional(conn)
        .await?;
    holder
        .map(|uuid| user_uuid("cards", "user_uuid", &uuid))
        .transpose()
}

/// AUTH-1: what `login/finish` reads first, in one statement: the challenge's card's
/// holder, and whether the challenge was answered already. None: the card is gone.
pub async fn login_card(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    nonce: &str,
) -> Result<Option<(CardHolder, bool)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        renewals_in_a_row: i64,
        spent: i64,
    }
    sqlx::query_as::<_, Row>(concat!(
        "SELECT ",
        user_columns!(),
        ", cards.renewals_in_a_row AS renewals_in_a_row, \
         (SELECT COUNT(*) FROM spent_logins WHERE id = $2) AS spent \
         FROM cards JOIN users ON users.uuid = cards.user_uuid WHERE cards.guid = $1"
    ))
    .bind(card_guid.to_hex())
    .bind(nonce)
    .fetch_optional(conn)
    .await?
    .map(|row| {
        Ok((
            CardHolder::from_row(row.user, row.renewals_in_a_row)?,
            row.spent > 0,
        ))
    })
    .transpose()
}

/// REG-1 / REG-5: whether the challenge was answered already.
pub async fn is_spent(conn: &mut AnyConnection, nonce: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS spent FROM spent_logins WHERE id = $1")
        .bind(nonce)
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("spent")? > 0)
}

/// Single use: spends the challenge. False: another request spent it first (both read
/// it unspent; this one waited for that one's commit).
pub async fn spend(
    conn: &mut AnyConnection,
    nonce: &str,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO spent_logins (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(nonce)
    .bind(expires_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Forgets spendings past their challenge's end: those challenges are refused as late.
pub async fn sweep(pool: &AnyPool, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM spent_logins WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
