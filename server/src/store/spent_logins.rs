//! `spent_logins` (AUTH-1, REG-1): login challenges are sealed, not stored, so single use
//! is this table — a row per answered challenge, under its nonce, kept until the
//! challenge's end — and what `login/start` and `login/finish` read of the card.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::{AnyConnection, AnyPool, Row};

use super::audit::ChainHead;
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
    /// The head of the audit chain asked for, as read: the sign-in's link goes after it
    /// if it has not moved meanwhile (`sessions::sign_in`), with no read of its own.
    pub head: ChainHead,
}

/// AUTH-1: what `login/finish` reads first, in one statement (a row per certificate): the
/// challenge's card's holder, its certificates, whether the challenge was answered
/// already, and `chain`'s head as it is now (not locked). None: the card is gone.
pub async fn login_card(
    conn: &mut AnyConnection,
    (card_guid, nonce): (&CardGuid, &str),
    chain: i64,
) -> Result<Option<LoginCard>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        #[sqlx(flatten)]
        head: ChainHead,
        renewals_in_a_row: i64,
        spent: i64,
        serial: Option<String>,
        slot: Option<String>,
        certificate: Option<Vec<u8>>,
        issued_at: Option<i64>,
        not_after: Option<i64>,
        revoked_at: Option<i64>,
    }
    let select = concat!(
        "SELECT ",
        user_columns!(),
        ", cards.renewals_in_a_row AS renewals_in_a_row, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM spent_logins WHERE id = $2) THEN 1 ELSE 0 END \
         AS BIGINT) AS spent, \
         serial, slot, certificate, issued_at, not_after, revoked_at, \
         heads.chain AS chain, heads.chain_seq AS chain_seq, heads.mac AS mac \
         FROM cards JOIN users ON users.uuid = cards.user_uuid \
         CROSS JOIN audit_chain_heads heads \
         LEFT JOIN card_certificates ON card_certificates.card_guid = cards.guid \
         WHERE cards.guid = $1 AND heads.chain = $3"
    );
    let rows = sqlx::query_as::<_, Row>(select)
        .bind(card_guid.to_hex())
        .bind(nonce)
        .bind(chain)
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
            first = Some((row.user, row.renewals_in_a_row, row.spent > 0, row.head));
        }
    }
    // Sorted here, not by the statement: a sort is a sizeable part of its cost to
    // PostgreSQL (issue 22).
    certificates
        .sort_by(|a, b| (b.issued_at.cmp(&a.issued_at)).then_with(|| a.serial.cmp(&b.serial)));
    first
        .map(|(user, renewals_in_a_row, spent, head)| {
            Ok(LoginCard {
                holder: CardHolder::from_row(user, renewals_in_a_row)?,
                certificates,
                spent,
                head,
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
