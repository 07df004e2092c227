//! `cards`: each smartcard's identity, its 9E public key (CARD-6) and its PUK sealed with
//! the KEK (CARD-3), with a pending PUK while a rotation's outcome is not yet known.

use api_types::ra::UserUuid;
use api_types::CardGuid;
use sqlx::AnyConnection;

use super::{corrupt, user_uuid, Backend, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub guid: CardGuid,
    pub user_uuid: UserUuid,
    /// SEC1 P-256 public key of the card authentication key (slot 9E).
    pub card_auth_public_key: Vec<u8>,
    /// The PUK the card is known to have, sealed.
    pub puk_enc: Vec<u8>,
    /// A PUK sent to the card whose outcome is not yet known, sealed.
    pub puk_next_enc: Option<Vec<u8>>,
    /// The card's SCP03 static keys, sealed (CARD-3).
    pub scp03_keys_enc: Option<Vec<u8>>,
    pub scp03_key_version: Option<i64>,
}

/// A `cards` row as stored; [`Card`] once its GUID and UUID have parsed.
#[derive(sqlx::FromRow)]
struct CardRow {
    guid: String,
    user_uuid: String,
    card_auth_public_key: Vec<u8>,
    puk_enc: Vec<u8>,
    puk_next_enc: Option<Vec<u8>>,
    scp03_keys_enc: Option<Vec<u8>>,
    scp03_key_version: Option<i64>,
}

impl TryFrom<CardRow> for Card {
    type Error = StoreError;

    fn try_from(row: CardRow) -> Result<Self, StoreError> {
        Ok(Self {
            guid: CardGuid::parse(&row.guid).map_err(|_| corrupt("cards", "guid"))?,
            user_uuid: user_uuid("cards", "user_uuid", &row.user_uuid)?,
            card_auth_public_key: row.card_auth_public_key,
            puk_enc: row.puk_enc,
            puk_next_enc: row.puk_next_enc,
            scp03_keys_enc: row.scp03_keys_enc,
            scp03_key_version: row.scp03_key_version,
        })
    }
}

const COLUMNS: &str =
    "guid, user_uuid, card_auth_public_key, puk_enc, puk_next_enc, scp03_keys_enc, \
     scp03_key_version";
const SELECT: &str = "SELECT guid, user_uuid, card_auth_public_key, puk_enc, puk_next_enc, \
                      scp03_keys_enc, scp03_key_version FROM cards WHERE guid = $1";

pub async fn find(conn: &mut AnyConnection, guid: &CardGuid) -> Result<Option<Card>, StoreError> {
    sqlx::query_as::<_, CardRow>(SELECT)
        .bind(guid.to_hex())
        .fetch_optional(conn)
        .await?
        .map(Card::try_from)
        .transpose()
}

/// Loads a card and locks it, for a step that may change its PUKs.
pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    guid: &CardGuid,
) -> Result<Option<Card>, StoreError> {
    sqlx::query_as::<_, CardRow>(&format!("{SELECT}{}", backend.for_update()))
        .bind(guid.to_hex())
        .fetch_optional(conn)
        .await?
        .map(Card::try_from)
        .transpose()
}

/// Remembers a PUK about to be sent to the card.
pub async fn set_pending_puk(
    conn: &mut AnyConnection,
    guid: &CardGuid,
    sealed: &[u8],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cards SET puk_next_enc = $1 WHERE guid = $2")
        .bind(sealed.to_vec())
        .bind(guid.to_hex())
        .execute(conn)
        .await?;
    Ok(())
}

/// The card took the pending PUK: it becomes the known one (`sealed`: the pending PUK
/// sealed again for the current-PUK column). False if none was pending.
pub async fn adopt_pending_puk(
    conn: &mut AnyConnection,
    guid: &CardGuid,
    sealed: &[u8],
) -> Result<bool, StoreError> {
    let adopted = sqlx::query(
        "UPDATE cards SET puk_enc = $1, puk_next_enc = NULL \
         WHERE guid = $2 AND puk_next_enc IS NOT NULL",
    )
    .bind(sealed.to_vec())
    .bind(guid.to_hex())
    .execute(conn)
    .await?;
    Ok(adopted.rows_affected() > 0)
}

/// Every card's sealed values, for a KEK rotation.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Card>, StoreError> {
    sqlx::query_as::<_, CardRow>(&format!("SELECT {COLUMNS} FROM cards ORDER BY guid"))
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Card::try_from)
        .collect()
}

/// A card's sealed values, as written back by a KEK rotation.
pub struct Sealed<'a> {
    pub puk_enc: &'a [u8],
    pub puk_next_enc: Option<&'a [u8]>,
    pub scp03_keys_enc: Option<&'a [u8]>,
}

/// Replaces a card's sealed values if they are still `before` (compare-and-set).
pub async fn reseal(
    conn: &mut AnyConnection,
    before: &Card,
    after: &Sealed<'_>,
) -> Result<bool, StoreError> {
    let swapped = sqlx::query(
        "UPDATE cards SET puk_enc = $1, puk_next_enc = $2, scp03_keys_enc = $3 \
         WHERE guid = $4 AND puk_enc = $5 \
         AND (puk_next_enc = $6 OR (puk_next_enc IS NULL AND $7 = 0)) \
         AND (scp03_keys_enc = $8 OR (scp03_keys_enc IS NULL AND $9 = 0))",
    )
    .bind(after.puk_enc.to_vec())
    .bind(after.puk_next_enc.map(<[u8]>::to_vec))
    .bind(after.scp03_keys_enc.map(<[u8]>::to_vec))
    .bind(before.guid.to_hex())
    .bind(before.puk_enc.clone())
    .bind(before.puk_next_enc.clone().unwrap_or_default())
    .bind(i64::from(before.puk_next_enc.is_some()))
    .bind(before.scp03_keys_enc.clone().unwrap_or_default())
    .bind(i64::from(before.scp03_keys_enc.is_some()))
    .execute(conn)
    .await?;
    Ok(swapped.rows_affected() == 1)
}

/// The card kept its PUK: forget the pending one.
/// CERT-1: the card generated a new card-authentication key (9E) at issuance.
pub async fn set_card_auth_key(
    conn: &mut AnyConnection,
    guid: &CardGuid,
    public_key_sec1: &[u8],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cards SET card_auth_public_key = $1 WHERE guid = $2")
        .bind(public_key_sec1.to_vec())
        .bind(guid.to_hex())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn drop_pending_puk(conn: &mut AnyConnection, guid: &CardGuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE cards SET puk_next_enc = NULL WHERE guid = $1")
        .bind(guid.to_hex())
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewCard<'a> {
    pub guid: &'a CardGuid,
    pub user_uuid: &'a UserUuid,
    pub card_auth_public_key: &'a [u8],
    pub puk_enc: &'a [u8],
    pub scp03_keys_enc: &'a [u8],
    pub scp03_key_version: u8,
    pub created_at: i64,
}

pub async fn insert(conn: &mut AnyConnection, card: &NewCard<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO cards (guid, user_uuid, card_auth_public_key, puk_enc, scp03_keys_enc, \
         scp03_key_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(card.guid.to_hex())
    .bind(card.user_uuid.as_str())
    .bind(card.card_auth_public_key.to_vec())
    .bind(card.puk_enc.to_vec())
    .bind(card.scp03_keys_enc.to_vec())
    .bind(i64::from(card.scp03_key_version))
    .bind(card.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a card, and every card of a user (re-enrolment).
pub async fn delete(
    conn: &mut AnyConnection,
    guid: &CardGuid,
    user_uuid: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM cards WHERE guid = $1 OR user_uuid = $2")
        .bind(guid.to_hex())
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
