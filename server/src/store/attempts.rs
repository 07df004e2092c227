//! `unlock_attempts`: one row per unlock, moved one step per call (UNL-1…UNL-7).

use api_types::ra::UserUuid;
use api_types::recovery::{Delivery, UnlockRoute};
use api_types::{AttemptId, CardGuid};
use sqlx::AnyConnection;

use super::{corrupt, flag, user_uuid, Backend, StoreError};

/// An unlock attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: AttemptId,
    pub card_guid: CardGuid,
    pub user_uuid: UserUuid,
    pub state: AttemptState,
    pub challenge: [u8; 32],
    pub created_at: i64,
    pub expires_at: i64,
    pub question_ids: Vec<i64>,
    pub code: Option<StoredCode>,
    pub code_failures: i64,
    pub card_updated: bool,
    pub completed_at: Option<i64>,
    /// SHA-256 of the flow cookie's secret (ALL-6); `None` never matches.
    pub flow_hash: Option<Vec<u8>>,
    /// The secure channel to the card between the page's round trips (CARD-3).
    pub channel: Option<ChannelState>,
    /// POL-1: the questions, the SCSC route or the NHS's 2023 route.
    pub route: UnlockRoute,
    /// SCSC-2 / POL-3: how the one-time code was sent, once it was.
    pub delivery: Option<Delivery>,
}

/// What the server keeps of a secure channel it opened: its host challenge, then the
/// card's answer and the sealed script. Nothing here is secret (the script is encrypted
/// under session keys derived from the card's sealed static keys); the session is rebuilt
/// from it to judge the card's answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelState {
    #[serde(with = "hex::serde")]
    pub host_challenge: [u8; 8],
    /// The card's answer to the opening, once the script was built.
    #[serde(default)]
    pub sent: Option<SealedSent>,
}

/// The sealed script sent, and the card answer it was built on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedSent {
    #[serde(with = "hex::serde")]
    pub card_answer: Vec<u8>,
    pub script: Vec<HexBytes>,
}

/// Bytes stored as hex in the channel's JSON.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HexBytes(#[serde(with = "hex::serde")] pub Vec<u8>);

/// Where an unlock attempt stands (UNL-1…UNL-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    Started,
    CardProven,
    /// RA-3: the card proved itself but self-service may not go on (not registered,
    /// closed): only a phone code from the RA can.
    RaOnly,
    /// SCSC-1 / POL-3: the holder is known (their Account Recovery details, or the card
    /// alone under `nhs-2023`); the code's way is to be chosen.
    Identified,
    CodeSent,
    CodeVerified,
    Completed,
    Failed,
}

impl AttemptState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Started => "started",
            AttemptState::CardProven => "card_proven",
            AttemptState::RaOnly => "ra_only",
            AttemptState::Identified => "identified",
            AttemptState::CodeSent => "code_sent",
            AttemptState::CodeVerified => "code_verified",
            AttemptState::Completed => "completed",
            AttemptState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "started" => AttemptState::Started,
            "card_proven" => AttemptState::CardProven,
            "ra_only" => AttemptState::RaOnly,
            "identified" => AttemptState::Identified,
            "code_sent" => AttemptState::CodeSent,
            "code_verified" => AttemptState::CodeVerified,
            "completed" => AttemptState::Completed,
            "failed" => AttemptState::Failed,
            _ => return None,
        })
    }
}

/// A one-time code, as a salted keyed hash (ALL-1, [`crate::flow::codes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub hash: Vec<u8>,
    pub salt: Vec<u8>,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    card_guid: String,
    user_uuid: String,
    state: String,
    challenge: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    question_ids: String,
    code_hash: Option<Vec<u8>>,
    code_salt: Option<Vec<u8>>,
    code_expires_at: Option<i64>,
    code_failures: i64,
    card_updated: i64,
    completed_at: Option<i64>,
    flow_secret_hash: Option<Vec<u8>>,
    channel_state: Option<String>,
    route: String,
    delivery: Option<String>,
}

const TABLE: &str = "unlock_attempts";

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;

    fn try_from(row: AttemptRow) -> Result<Self, StoreError> {
        let code = match (row.code_hash, row.code_salt, row.code_expires_at) {
            (Some(hash), Some(salt), Some(expires_at)) => Some(StoredCode {
                hash,
                salt,
                expires_at,
            }),
            _ => None,
        };
        Ok(Attempt {
            id: AttemptId::parse(&row.id).map_err(|_| corrupt(TABLE, "id"))?,
            card_guid: CardGuid::parse(&row.card_guid).map_err(|_| corrupt(TABLE, "card_guid"))?,
            user_uuid: user_uuid(TABLE, "user_uuid", &row.user_uuid)?,
            state: AttemptState::parse(&row.state).ok_or_else(|| corrupt(TABLE, "state"))?,
            challenge: row
                .challenge
                .try_into()
                .map_err(|_| corrupt(TABLE, "challenge"))?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            question_ids: super::parse_ids(&row.question_ids)
                .ok_or_else(|| corrupt(TABLE, "question_ids"))?,
            code,
            code_failures: row.code_failures,
            card_updated: flag(row.card_updated),
            completed_at: row.completed_at,
            flow_hash: row.flow_secret_hash,
            channel: row
                .channel_state
                .map(|json| serde_json::from_str(&json))
                .transpose()
                .map_err(|_| corrupt(TABLE, "channel_state"))?,
            route: UnlockRoute::parse(&row.route).ok_or_else(|| corrupt(TABLE, "route"))?,
            delivery: match row.delivery.as_deref() {
                None => None,
                Some("email") => Some(Delivery::Email),
                Some("sms") => Some(Delivery::Sms),
                Some(_) => return Err(corrupt(TABLE, "delivery")),
            },
        })
    }
}

const SELECT: &str = "SELECT id, card_guid, user_uuid, state, challenge, created_at, \
     expires_at, question_ids, code_hash, code_salt, code_expires_at, code_failures, \
     card_updated, completed_at, flow_secret_hash, channel_state, route, delivery \
     FROM unlock_attempts \
     WHERE id = $1";

async fn select(
    conn: &mut AnyConnection,
    sql: &str,
    id: &AttemptId,
) -> Result<Option<Attempt>, StoreError> {
    sqlx::query_as::<_, AttemptRow>(sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .map(Attempt::try_from)
        .transpose()
}

/// Loads an attempt and locks it for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &AttemptId,
) -> Result<Option<Attempt>, StoreError> {
    select(conn, &format!("{SELECT}{}", backend.for_update()), id).await
}

/// The attempt whose flow cookie hashes to `flow_hash` (ALL-6: only that browser's).
pub async fn find_by_flow(
    conn: &mut AnyConnection,
    flow_hash: &[u8],
) -> Result<Option<Attempt>, StoreError> {
    let sql = SELECT.replace("WHERE id = $1", "WHERE flow_secret_hash = $1");
    sqlx::query_as::<_, AttemptRow>(&sql)
        .bind(flow_hash.to_vec())
        .fetch_optional(conn)
        .await?
        .map(Attempt::try_from)
        .transpose()
}

/// Loads an attempt without a lock, for checks done before the write transaction.
pub async fn find(conn: &mut AnyConnection, id: &AttemptId) -> Result<Option<Attempt>, StoreError> {
    select(conn, SELECT, id).await
}

pub async fn insert(conn: &mut AnyConnection, attempt: &Attempt) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO unlock_attempts (id, card_guid, user_uuid, state, challenge, created_at, \
         expires_at, flow_secret_hash, route) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(attempt.id.as_str())
    .bind(attempt.card_guid.to_hex())
    .bind(attempt.user_uuid.as_str())
    .bind(attempt.state.as_str())
    .bind(attempt.challenge.to_vec())
    .bind(attempt.created_at)
    .bind(attempt.expires_at)
    .bind(attempt.flow_hash.clone())
    .bind(attempt.route.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every column a step may change.
pub async fn save(conn: &mut AnyConnection, attempt: &Attempt) -> Result<(), StoreError> {
    let code = attempt.code.as_ref();
    sqlx::query(
        "UPDATE unlock_attempts SET state = $1, expires_at = $2, question_ids = $3, \
         code_hash = $4, code_salt = $5, code_expires_at = $6, code_failures = $7, \
         card_updated = $8, completed_at = $9, channel_state = $10, delivery = $11 \
         WHERE id = $12",
    )
    .bind(attempt.state.as_str())
    .bind(attempt.expires_at)
    .bind(super::join_ids(&attempt.question_ids))
    .bind(code.map(|c| c.hash.clone()))
    .bind(code.map(|c| c.salt.clone()))
    .bind(code.map(|c| c.expires_at))
    .bind(attempt.code_failures)
    .bind(i64::from(attempt.card_updated))
    .bind(attempt.completed_at)
    .bind(channel_json(attempt.channel.as_ref())?)
    .bind(attempt.delivery.map(Delivery::as_str))
    .bind(attempt.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

fn channel_json(channel: Option<&ChannelState>) -> Result<Option<String>, StoreError> {
    channel
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| corrupt(TABLE, "channel_state"))
}

/// Deletes a user's attempts (re-enrolment).
pub async fn delete_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM unlock_attempts WHERE user_uuid = $1")
        .bind(user_uuid.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// RA-6: every unlock attempt of a user still in progress fails now.
pub async fn fail_open_for_user(
    conn: &mut AnyConnection,
    user_uuid: &UserUuid,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE unlock_attempts SET state = 'failed' WHERE user_uuid = $1 \
         AND state NOT IN ('completed', 'failed')",
    )
    .bind(user_uuid.as_str())
    .execute(conn)
    .await?
    .rows_affected())
}
