//! `spent_logins` (AUTH-1, REG-1): login challenges are sealed, not stored, so single use
//! is this table — a row per answered challenge, under its nonce, kept until the
//! challenge's end — and what `login/start` and `login/finish` read of the card.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, AnyPool, Row};

use super::certificates::{CardCertificate, CardCertificateRow};
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

/// What `login/finish` reads of the challenge's card ([`login_card`]).
#[derive(Debug)]
pub struct LoginCard {
    pub holder: CardHolder,
    /// The card's certificates, newest first ([`super::certificates::for_card`]'s order).
    pub certificates: Vec<CardCertificate>,
    /// The challenge was answered already.
    pub spent: bool,
}

/// AUTH-1: what `login/finish` reads first, in one statement (a row per certificate): the
/// challenge's card's holder, its certificates, and whether the challenge was answered
/// already. None: the card is gone.
pub async fn login_card(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    nonce: &str,
) -> Result<Option<LoginCard>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        renewals_in_a_row: i64,
        spent: i64,
        serial: Option<String>,
        slot: Option<String>,
        certificate: Option<Vec<u8>>,
        issued_at: Option<i64>,
        not_after: Option<i64>,
        revoked_at: Option<i64>,
    }
    let rows = sqlx::query_as::<_, Row>(concat!(
        "SELECT ",
        user_columns!(),
        ", cards.renewals_in_a_row AS renewals_in_a_row, \
         (SELECT COUNT(*) FROM spent_logins WHERE id = $2) AS spent, \
         serial, slot, certificate, issued_at, not_after, revoked_at \
         FROM cards JOIN users ON users.uuid = cards.user_uuid \
         LEFT JOIN card_certificates ON card_certificates.card_guid = cards.guid \
         WHERE cards.guid = $1 ORDER BY issued_at DESC, serial"
    ))
    .bind(card_guid.to_hex())
    .bind(nonce)
    .fetch_all(conn)
    .await?;
    let mut certificates = Vec::with_capacity(rows.len());
    let mut first = None;
    for row in rows {
        if let (Some(serial), Some(slot), Some(certificate), Some(issued_at), Some(not_after)) = (
            row.serial,
            row.slot,
            row.certificate,
            row.issued_at,
            row.not_after,
        ) {
            certificates.push(CardCertificate::try_from(CardCertificateRow {
                serial,
                slot,
                certificate,
                issued_at,
                not_after,
                revoked_at: row.revoked_at,
            })?);
        }
        if first.is_none() {
            first = Some((row.user, row.renewals_in_a_row, row.spent > 0));
        }
    }
    first
        .map(|(user, renewals_in_a_row, spent)| {
            Ok(LoginCard {
                holder: CardHolder::from_row(user, renewals_in_a_row)?,
                certificates,
                spent,
            })
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
