//! The server's end of the secure channel to a card (CARD-3): each card's SCP03 static
//! keys, sealed with the KEK at enrolment and opened only to start or judge a channel;
//! and the grants that let the page's bridge relay exactly what the server built
//! (BRG-5), for the unlock and for a renewal (opened by the cardholder or at the RA
//! desk). The commands and the meaning of the card's answers are `card_protocol`'s; this
//! module only fetches keys and signs.

use api_types::bridge::{RelayCommands, SignedGrant, SignedRelay};
use api_types::ra::UserUuid;
use api_types::renewal::RenewalOpened;
use api_types::values::CommandHex;
use api_types::values::RenewalId;
use bridge_grant::{GrantRequest, Operation};
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::scp03::{HostHandshake, StaticKeys};
use rand::RngCore;

use crate::secrets::{random_bytes, Kek, SealPurpose};
use crate::store::cards::Card;
use crate::store::corrupt;
use crate::store::renewals::{Renewal, RenewalChannel, RenewalState};
use crate::{AppError, AppState};

/// How long a renewal may take, from its start to the card's last answer (the
/// cardholder's own, or one at the RA desk).
const RENEWAL_LIFETIME_SECS: i64 = 15 * 60;

/// How long a grant lets the bridge act: the page uses it at once.
const GRANT_LIFETIME_SECS: i64 = 120;

/// A fresh host challenge for a new channel.
pub fn fresh_challenge() -> [u8; 8] {
    let mut challenge = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    challenge
}

/// The handshake with this card's keys and `host_challenge`.
pub fn handshake(
    kek: &Kek,
    card: &Card,
    host_challenge: [u8; 8],
) -> Result<HostHandshake, AppError> {
    let bad = |column| corrupt("cards", column);
    let guid = card.guid;
    let sealed = card
        .scp03_keys_enc
        .as_deref()
        .ok_or_else(|| bad("scp03_keys_enc"))?;
    let version = card
        .scp03_key_version
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| bad("scp03_key_version"))?;
    let bytes = kek.open(sealed, &guid, SealPurpose::ChannelKeys)?;
    let keys = StaticKeys::from_bytes(&bytes).map_err(|_| bad("scp03_keys_enc"))?;
    Ok(HostHandshake::new(keys, version, host_challenge))
}

/// Card answers as the bridge relayed them (hex already checked at the boundary).
pub fn parse_answers<'a>(
    answers: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<ResponseApdu>, AppError> {
    answers
        .into_iter()
        .map(|raw| ResponseApdu::parse(raw).map_err(|_| AppError::ChannelFailed))
        .collect()
}

impl AppState {
    /// A grant for one bridge operation on this attempt's (or renewal's) card, for the
    /// configured origin.
    pub(crate) fn grant(
        &self,
        attempt: &str,
        card_guid: [u8; 16],
        operation: Operation,
        apdus: Option<&[Vec<u8>]>,
        now: i64,
    ) -> SignedGrant {
        self.grants.grant(&GrantRequest {
            origin: &self.settings.public_origin,
            card_guid,
            attempt,
            operation,
            apdus,
            now,
            lifetime_secs: GRANT_LIFETIME_SECS,
        })
    }

    /// Commands for the bridge to relay, with the grant covering exactly them.
    pub(crate) fn relay(
        &self,
        attempt: &str,
        card_guid: [u8; 16],
        operation: Operation,
        commands: &[CommandApdu],
        now: i64,
    ) -> Result<SignedRelay, AppError> {
        let bytes: Vec<Vec<u8>> = commands.iter().map(CommandApdu::to_bytes).collect();
        // Our scripts are a few short commands; one the bridge would refuse is our bug.
        let apdus = bytes
            .iter()
            .map(|command| CommandHex::from_bytes(command.clone()))
            .collect::<Result<Vec<_>, _>>()
            .and_then(RelayCommands::new)
            .map_err(|_| AppError::Invariant("a script the bridge would refuse"))?;
        let grant = self.grant(attempt, card_guid, operation, Some(&bytes), now);
        Ok(SignedRelay { apdus, grant })
    }

    /// A new renewal of `card` (by the RA at their desk, or by its holder) and its first
    /// channel.
    pub(crate) fn renewal_begun(
        &self,
        card: &Card,
        by_ra: Option<UserUuid>,
        now: i64,
    ) -> Result<(Renewal, RenewalOpened), AppError> {
        let renewal = Renewal {
            id: RenewalId::from_bytes(random_bytes()),
            card_guid: card.guid,
            user_uuid: card.user_uuid.clone(),
            state: RenewalState::Open,
            channel: None,
            created_at: now,
            expires_at: now + RENEWAL_LIFETIME_SECS,
            finished_at: None,
            by_ra,
            recovery: None,
        };
        self.renewal_opening(renewal, card, false, now)
    }

    /// A fresh channel for `renewal`: INITIALIZE UPDATE with a new host challenge, under
    /// an `open_channel` grant for this renewal; whatever the old channel held is gone.
    /// `reading`: the channel reads the card's keys rather than making new ones.
    pub(crate) fn renewal_opening(
        &self,
        renewal: Renewal,
        card: &Card,
        reading: bool,
        now: i64,
    ) -> Result<(Renewal, RenewalOpened), AppError> {
        let host_challenge = fresh_challenge();
        let opening = card_protocol::unlock::opening(&handshake(&self.kek, card, host_challenge)?);
        let guid = *renewal.card_guid.as_bytes();
        let relay = self.relay(
            renewal.id.as_str(),
            guid,
            Operation::OpenChannel,
            &opening,
            now,
        )?;
        let opened = RenewalOpened {
            renewal_id: renewal.id.clone(),
            card_guid: renewal.card_guid,
            relay,
        };
        let channel = RenewalChannel {
            host_challenge,
            card_answer: None,
            sent: Vec::new(),
            key_answers: Vec::new(),
            issued: Vec::new(),
            card_auth_key: None,
            reading,
        };
        Ok((
            Renewal {
                channel: Some(channel),
                ..renewal
            },
            opened,
        ))
    }
}
