//! `certificate_authority` and `card_certificates` (CERT-1): the CA's certificate and
//! sealed key, what it issued to each card, and its revocations (CERT-5).

use api_types::ra::UserUuid;
use api_types::CardGuid;
use card_protocol::KeySlot;
use sqlx::AnyConnection;

use super::{corrupt, StoreError};

/// The CA as stored; its key is sealed with the KEK.
#[derive(sqlx::FromRow)]
pub struct StoredAuthority {
    pub certificate: Vec<u8>,
    pub key_enc: Vec<u8>,
}

pub async fn find_authority(
    conn: &mut AnyConnection,
) -> Result<Option<StoredAuthority>, StoreError> {
    Ok(sqlx::query_as::<_, StoredAuthority>(
        "SELECT certificate, key_enc FROM certificate_authority WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?)
}

/// Keeps a new CA unless another instance stored one first (the caller reads it back).
pub async fn insert_authority(
    conn: &mut AnyConnection,
    certificate: &[u8],
    key_enc: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO certificate_authority (id, certificate, key_enc, created_at) \
         VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
    )
    .bind(certificate.to_vec())
    .bind(key_enc.to_vec())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The CA key sealed again (`rotate-kek`).
pub async fn set_authority_key(conn: &mut AnyConnection, key_enc: &[u8]) -> Result<(), StoreError> {
    sqlx::query("UPDATE certificate_authority SET key_enc = $1 WHERE id = 1")
        .bind(key_enc.to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewCardCertificate<'a> {
    pub serial: &'a str,
    pub card_guid: &'a CardGuid,
    /// Kept as its stable text, `9a` or `9e` ([`KeySlot::as_str`]).
    pub slot: KeySlot,
    pub certificate: &'a [u8],
    pub issued_at: i64,
    pub not_after: i64,
}

pub async fn insert_card_certificate(
    conn: &mut AnyConnection,
    new: &NewCardCertificate<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO card_certificates (serial, card_guid, slot, certificate, issued_at, \
         not_after) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new.serial)
    .bind(new.card_guid.to_hex())
    .bind(new.slot.as_str())
    .bind(new.certificate.to_vec())
    .bind(new.issued_at)
    .bind(new.not_after)
    .execute(conn)
    .await?;
    Ok(())
}

/// CERT-5: a certificate issued for a renewal and sent to the card, but dropped before
/// the card confirmed it: recorded already revoked, so the CRL names it whatever the card
/// kept.
pub async fn insert_abandoned(
    conn: &mut AnyConnection,
    new: &NewCardCertificate<'_>,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO card_certificates (serial, card_guid, slot, certificate, issued_at, \
         not_after, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.serial)
    .bind(new.card_guid.to_hex())
    .bind(new.slot.as_str())
    .bind(new.certificate.to_vec())
    .bind(new.issued_at)
    .bind(new.not_after)
    .bind(now)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// A certificate issued to a card.
#[derive(Debug, Clone)]
pub struct CardCertificate {
    pub serial: String,
    pub slot: KeySlot,
    pub certificate: Vec<u8>,
    pub issued_at: i64,
    pub not_after: i64,
    pub revoked_at: Option<i64>,
}

/// The row as stored; [`CardCertificate`] once its slot has parsed.
#[derive(sqlx::FromRow)]
pub(super) struct CardCertificateRow {
    pub(super) serial: String,
    pub(super) slot: String,
    pub(super) certificate: Vec<u8>,
    pub(super) issued_at: i64,
    pub(super) not_after: i64,
    pub(super) revoked_at: Option<i64>,
}

impl TryFrom<CardCertificateRow> for CardCertificate {
    type Error = StoreError;

    fn try_from(row: CardCertificateRow) -> Result<Self, StoreError> {
        Ok(Self {
            serial: row.serial,
            slot: KeySlot::parse(&row.slot).map_err(|_| corrupt("card_certificates", "slot"))?,
            certificate: row.certificate,
            issued_at: row.issued_at,
            not_after: row.not_after,
            revoked_at: row.revoked_at,
        })
    }
}

/// A card's certificates, newest first.
pub async fn for_card(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
) -> Result<Vec<CardCertificate>, StoreError> {
    sqlx::query_as::<_, CardCertificateRow>(
        "SELECT serial, slot, certificate, issued_at, not_after, revoked_at \
         FROM card_certificates WHERE card_guid = $1 ORDER BY issued_at DESC, serial",
    )
    .bind(card_guid.to_hex())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(CardCertificate::try_from)
    .collect()
}

/// CERT-5: a card's certificate in `slot` that is still in force is revoked, for `reason`.
pub async fn revoke_slot(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    slot: KeySlot,
    except_serial: &str,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE card_certificates SET revoked_at = $1, revoked_reason = $2 \
         WHERE card_guid = $3 AND slot = $4 AND serial <> $5 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(card_guid.to_hex())
    .bind(slot.as_str())
    .bind(except_serial)
    .execute(conn)
    .await?;
    Ok(())
}

/// CERT-5: every certificate of the user's cards still in force is revoked, for `reason`
/// (the RA's, for a card lost or stolen).
pub async fn revoke_all_for_user(
    conn: &mut AnyConnection,
    user: &UserUuid,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE card_certificates SET revoked_at = $1, revoked_reason = $2 \
         WHERE revoked_at IS NULL AND card_guid IN (SELECT guid FROM cards WHERE user_uuid = $3)",
    )
    .bind(now)
    .bind(reason)
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// CERT-5: why a certificate was revoked, as `revoked_reason` keeps it: replaced by a
/// renewal, or its card reported lost or stolen to the RA.
pub const SUPERSEDED: &str = "superseded";
pub const LOST_OR_STOLEN: &str = "lost_or_stolen";

/// A revoked certificate as the CRL names it (CERT-5).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RevokedCertificate {
    /// The serial number, hex.
    pub serial: String,
    pub revoked_at: i64,
    /// `superseded` (a renewal), `lost_or_stolen` (the RA), or none.
    pub revoked_reason: Option<String>,
}

/// CERT-5: the revoked certificates not yet expired at `now`, oldest revocation first.
pub async fn revoked_in_force(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<RevokedCertificate>, StoreError> {
    Ok(sqlx::query_as::<_, RevokedCertificate>(
        "SELECT serial, revoked_at, revoked_reason FROM card_certificates \
         WHERE revoked_at IS NOT NULL AND not_after > $1 ORDER BY revoked_at, serial",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(slot: &str) -> CardCertificateRow {
        CardCertificateRow {
            serial: "01".into(),
            slot: slot.into(),
            certificate: vec![0x30, 0x00],
            issued_at: 1,
            not_after: 2,
            revoked_at: None,
        }
    }

    #[test]
    fn cert_1_a_stored_slot_parses_or_the_row_is_corrupt() {
        for slot in KeySlot::ALL {
            let parsed = CardCertificate::try_from(row(slot.as_str()));
            assert!(matches!(parsed, Ok(c) if c.slot == slot));
        }
        for bad in ["9A", "9c", "", "piv"] {
            let parsed = CardCertificate::try_from(row(bad));
            assert!(
                matches!(
                    parsed,
                    Err(StoreError::Corrupt {
                        table: "card_certificates",
                        column: "slot"
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
