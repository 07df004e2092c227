//! `renewals` (CERT-3, CERT-4): one certificate renewal on the card, its secure channel's
//! state, and the certificates issued for the card's new keys until the card confirms
//! them; and the per-card count of self-service renewals since the RA last renewed it.
//! Revoking what a renewal replaced is `certificates::revoke_slot`'s (CERT-5).

use api_types::auth::LoginId;
use api_types::ra::UserUuid;
use api_types::values::RenewalId;
use api_types::CardGuid;
use card_protocol::KeySlot;
use sqlx::AnyConnection;

use super::attempts::HexBytes;
use super::certificates::CardCertificate;
use super::{corrupt, user_uuid, Backend, StoreError};

const TABLE: &str = "renewals";
const COLUMNS: &str = "id, card_guid, user_uuid, state, channel, created_at, expires_at, \
                       finished_at, by_ra, recovery";

/// Where a renewal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalState {
    /// Begun; the card still holds (and the server still trusts) the old certificates.
    Open,
    /// The card holds the new certificates; the old ones are revoked.
    Done,
    /// Closed unfinished: replaced by a newer renewal of the card, or stopped by the RA
    /// (RA-6). The old certificates stay in force.
    Ended,
}

impl RenewalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Done => "done",
            Self::Ended => "ended",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Done, Self::Ended]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// A renewal's secure channel: what a stateless host keeps between round trips
/// ([`card_protocol::scp03::HostSession::resume`]), and what the card answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalChannel {
    #[serde(with = "hex::serde")]
    pub host_challenge: [u8; 8],
    /// The card's answer to the opening (INITIALIZE UPDATE), once keys were asked for.
    #[serde(default)]
    pub card_answer: Option<HexBytes>,
    /// Every command sealed and sent on this channel, EXTERNAL AUTHENTICATE first.
    #[serde(default)]
    pub sent: Vec<HexBytes>,
    /// The card's sealed answers to the key generation, once certificates were issued.
    #[serde(default)]
    pub key_answers: Vec<HexBytes>,
    /// The certificates issued for the card's new keys, not yet the card's.
    #[serde(default)]
    pub issued: Vec<PendingCertificate>,
    /// The new 9E public key, SEC1 (CARD-6 checks the card's signatures with it).
    #[serde(default)]
    pub card_auth_key: Option<HexBytes>,
    /// This channel reads the keys the card holds (GET METADATA) instead of making new
    /// ones: it finishes a renewal cut off after the card made them.
    #[serde(default)]
    pub reading: bool,
}

/// A sign-in the server could not check because the card's 9A key is (it seems) the
/// renewal's new one: its challenge and signature, checked against the key the card
/// reports on a sealed channel, prove the passcode was entered on this card (CERT-3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryClaim {
    /// The login whose id the page presents to drive the recovery.
    pub login_id: LoginId,
    #[serde(with = "hex::serde")]
    pub challenge: [u8; 32],
    pub signature: HexBytes,
    pub claimed_at: i64,
}

/// A certificate issued for a new key and sent to the card, not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingCertificate {
    pub slot: String,
    pub serial: String,
    pub der: HexBytes,
    pub issued_at: i64,
    pub not_after: i64,
}

impl PendingCertificate {
    pub fn key_slot(&self) -> Result<KeySlot, StoreError> {
        KeySlot::parse(&self.slot).map_err(|_| corrupt(TABLE, "channel"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub id: RenewalId,
    pub card_guid: CardGuid,
    pub user_uuid: UserUuid,
    pub state: RenewalState,
    pub channel: Option<RenewalChannel>,
    pub created_at: i64,
    pub expires_at: i64,
    pub finished_at: Option<i64>,
    /// RA-3: the RA renewing it at their desk (the third renewal in a row, or an ended
    /// certificate); none when the cardholder renews.
    pub by_ra: Option<UserUuid>,
    /// CERT-3: the latest sign-in that may finish it (see [`RecoveryClaim`]).
    pub recovery: Option<RecoveryClaim>,
}

#[derive(sqlx::FromRow)]
struct RenewalRow {
    id: String,
    card_guid: String,
    user_uuid: String,
    state: String,
    channel: Option<String>,
    created_at: i64,
    expires_at: i64,
    finished_at: Option<i64>,
    by_ra: Option<String>,
    recovery: Option<String>,
}

impl TryFrom<RenewalRow> for Renewal {
    type Error = StoreError;

    fn try_from(row: RenewalRow) -> Result<Self, StoreError> {
        Ok(Renewal {
            id: RenewalId::parse(&row.id).map_err(|_| corrupt(TABLE, "id"))?,
            card_guid: CardGuid::parse(&row.card_guid).map_err(|_| corrupt(TABLE, "card_guid"))?,
            user_uuid: user_uuid(TABLE, "user_uuid", &row.user_uuid)?,
            state: RenewalState::parse(&row.state).ok_or_else(|| corrupt(TABLE, "state"))?,
            channel: row
                .channel
                .map(|json| serde_json::from_str(&json))
                .transpose()
                .map_err(|_| corrupt(TABLE, "channel"))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            finished_at: row.finished_at,
            by_ra: row
                .by_ra
                .map(|uuid| user_uuid(TABLE, "by_ra", &uuid))
                .transpose()?,
            recovery: row
                .recovery
                .map(|json| serde_json::from_str(&json))
                .transpose()
                .map_err(|_| corrupt(TABLE, "recovery"))?,
        })
    }
}

/// Loads a renewal and locks it for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &RenewalId,
) -> Result<Option<Renewal>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM renewals WHERE id = $1{}",
        backend.for_update()
    );
    sqlx::query_as::<_, RenewalRow>(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(Renewal::try_from)
        .transpose()
}

/// CERT-3: the card's own renewal still open (there is at most one), locked; none when
/// the RA is renewing it at their desk.
pub async fn open_self_service_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    card_guid: &CardGuid,
) -> Result<Option<Renewal>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM renewals WHERE card_guid = $1 AND state = 'open' \
         AND by_ra IS NULL ORDER BY created_at DESC LIMIT 1{}",
        backend.for_update()
    );
    sqlx::query_as::<_, RenewalRow>(&sql)
        .bind(card_guid.to_hex())
        .fetch_optional(conn)
        .await?
        .map(Renewal::try_from)
        .transpose()
}

pub async fn insert(conn: &mut AnyConnection, renewal: &Renewal) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO renewals (id, card_guid, user_uuid, state, channel, created_at, \
         expires_at, finished_at, by_ra) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(renewal.id.as_str())
    .bind(renewal.card_guid.to_hex())
    .bind(renewal.user_uuid.as_str())
    .bind(renewal.state.as_str())
    .bind(channel_json(renewal.channel.as_ref())?)
    .bind(renewal.created_at)
    .bind(renewal.expires_at)
    .bind(renewal.finished_at)
    .bind(renewal.by_ra.as_ref().map(UserUuid::as_str))
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every column a step may change.
pub async fn save(conn: &mut AnyConnection, renewal: &Renewal) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE renewals SET state = $1, channel = $2, expires_at = $3, finished_at = $4, \
         recovery = $5 WHERE id = $6",
    )
    .bind(renewal.state.as_str())
    .bind(channel_json(renewal.channel.as_ref())?)
    .bind(renewal.expires_at)
    .bind(renewal.finished_at)
    .bind(
        renewal
            .recovery
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| corrupt(TABLE, "recovery"))?,
    )
    .bind(renewal.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

fn channel_json(channel: Option<&RenewalChannel>) -> Result<Option<String>, StoreError> {
    channel
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| corrupt(TABLE, "channel"))
}

/// The certificates the open renewals' channels sent to the card, unconfirmed: ending
/// them drops the channels, and CERT-5 has the caller record these revoked.
async fn pending_in_open(
    conn: &mut AnyConnection,
    filter: &str,
    bound: &str,
) -> Result<Vec<(CardGuid, PendingCertificate)>, StoreError> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT card_guid, channel FROM renewals WHERE state = 'open' AND {filter}"
    ))
    .bind(bound)
    .fetch_all(&mut *conn)
    .await?;
    let mut pending = Vec::new();
    for (card_guid, channel) in rows {
        let card = CardGuid::parse(&card_guid).map_err(|_| corrupt(TABLE, "card_guid"))?;
        if let Some(json) = channel {
            let channel: RenewalChannel =
                serde_json::from_str(&json).map_err(|_| corrupt(TABLE, "channel"))?;
            pending.extend(channel.issued.into_iter().map(|issued| (card, issued)));
        }
    }
    Ok(pending)
}

/// One renewal of a card at a time: the others still open end (its channel and keys are
/// the card's only while it is the one), so two tabs cannot interleave key generation.
/// Returns what their channels had sent to the card unconfirmed.
pub async fn end_others_for_card(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    except: &RenewalId,
    now: i64,
) -> Result<Vec<(CardGuid, PendingCertificate)>, StoreError> {
    let pending = pending_in_open(conn, "card_guid = $1", &card_guid.to_hex()).await?;
    sqlx::query(
        "UPDATE renewals SET state = 'ended', channel = NULL, finished_at = $1 \
         WHERE card_guid = $2 AND id <> $3 AND state = 'open'",
    )
    .bind(now)
    .bind(card_guid.to_hex())
    .bind(except.as_str())
    .execute(conn)
    .await?;
    // The new renewal has no channel with certificates yet: all of these are the others'.
    Ok(pending)
}

/// RA-6: the incident stop ends every renewal of the user's still open; returns what
/// their channels had sent to the card unconfirmed.
pub async fn end_open_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
    now: i64,
) -> Result<Vec<(CardGuid, PendingCertificate)>, StoreError> {
    let pending = pending_in_open(conn, "user_uuid = $1", user_uuid.as_str()).await?;
    sqlx::query(
        "UPDATE renewals SET state = 'ended', channel = NULL, finished_at = $1 \
         WHERE user_uuid = $2 AND state = 'open'",
    )
    .bind(now)
    .bind(user_uuid.as_str())
    .execute(conn)
    .await?;
    Ok(pending)
}

/// Re-enrolment: the user's renewals go with their cards (also any of the card's own).
pub async fn delete_for_user(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    user_uuid: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM renewals WHERE card_guid = $1 OR user_uuid = $2")
        .bind(card_guid.to_hex())
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// CERT-2 / CERT-4: what decides whether a card's renewal is due — when its login (9A)
/// certificate in force ends, and its self-service renewals since the RA last renewed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginCertificate {
    pub not_after: Option<i64>,
    pub renewals_in_a_row: i64,
}

impl LoginCertificate {
    /// What [`login_certificate`] reads, from the card's certificates already loaded and
    /// its renewals in a row: a sign-in has both, and need not read the card again.
    pub fn of(certificates: &[CardCertificate], renewals_in_a_row: i64) -> Self {
        let not_after = certificates
            .iter()
            .filter(|c| c.slot == KeySlot::PivAuth && c.revoked_at.is_none())
            .map(|c| c.not_after)
            .max();
        Self {
            not_after,
            renewals_in_a_row,
        }
    }
}

pub async fn login_certificate(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
) -> Result<LoginCertificate, StoreError> {
    let found: Option<LoginCertificate> = sqlx::query_as(
        "SELECT (SELECT MAX(k.not_after) FROM card_certificates k WHERE k.card_guid = c.guid \
         AND k.slot = '9a' AND k.revoked_at IS NULL) AS not_after, c.renewals_in_a_row \
         FROM cards c WHERE c.guid = $1",
    )
    .bind(card_guid.to_hex())
    .fetch_optional(conn)
    .await?;
    found.ok_or_else(|| corrupt("cards", "guid"))
}

pub async fn set_renewals_in_a_row(
    conn: &mut AnyConnection,
    card_guid: &CardGuid,
    count: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE cards SET renewals_in_a_row = $1 WHERE guid = $2")
        .bind(count)
        .bind(card_guid.to_hex())
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(slot: KeySlot, not_after: i64, revoked_at: Option<i64>) -> CardCertificate {
        CardCertificate {
            serial: format!("{slot:?}-{not_after}"),
            slot,
            certificate: Vec::new(),
            issued_at: 0,
            not_after,
            revoked_at,
        }
    }

    #[test]
    fn cert_2_the_login_certificate_in_force_is_the_latest_unrevoked_9a() {
        let certificates = [
            certificate(KeySlot::PivAuth, 100, None),
            certificate(KeySlot::PivAuth, 300, Some(50)),
            certificate(KeySlot::CardAuth, 400, None),
            certificate(KeySlot::PivAuth, 200, None),
        ];
        assert_eq!(
            LoginCertificate::of(&certificates, 2),
            LoginCertificate {
                not_after: Some(200),
                renewals_in_a_row: 2
            }
        );
        assert_eq!(LoginCertificate::of(&certificates[1..3], 0).not_after, None);
    }
}
