//! `POST /v1/card/relay`: the page passes on APDUs the server built and sealed for the
//! card (CARD-3), with the server's grant for exactly those bytes (BRG-5). Two kinds:
//!
//! - `open_channel`: in one card transaction the bridge selects PIV, reads the CHUID,
//!   refuses unless the card is the grant's (`grant_wrong_card`), sends the commands (the
//!   channel's INITIALIZE UPDATE) and remembers which card that reader's channel was
//!   opened to, by the card's [`Presence`];
//! - `sealed_script`: the bridge sends nothing of its own — a plain SELECT would end the
//!   card's secure channel — so the card is known only through its presence: if it has
//!   left the reader since the opening (or no opening was relayed for it), the answer is
//!   `card_changed`; if the card the channel was opened to is not the grant's,
//!   `grant_wrong_card`.
//!
//! Both leave the card as it is ([`Leave::AsIs`]), so the channel lives on between relays.
//! Commands run in order and stop at the first status word that is not `9000`. Serde has
//! already refused a list that is empty, too long or not hex ([`RelayCommands`]); here each
//! command must also be a well-formed APDU.

use std::collections::HashMap;
use std::sync::Mutex;

pub use api_types::bridge::MAX_RELAY_COMMANDS;

use api_types::bridge::{RelayCommands, RelayRequest, RelayResponse};
use api_types::values::ResponseHex;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use bridge_grant::{Claims, GrantError, Operation};
use card_protocol::apdu::CommandApdu;
use card_protocol::client::PivClient;

use super::card::open_card;
use super::{lock, request_origin, ApiJson, AppState};
use crate::grants::Asked;
use crate::worker::{CardInReader, DynTransport, Leave, Presence};
use crate::BridgeError;

/// Which card each reader's secure channel was opened to, by the reader's insertion count
/// at the opening.
#[derive(Debug, Default)]
pub struct OpenedChannels {
    by_reader: HashMap<String, Opened>,
}

/// A channel opened: to which insertion of which card, for which unlock (the grant's
/// binding, BRG-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    events: u64,
    pub guid: [u8; 16],
    pub attempt: String,
}

impl OpenedChannels {
    pub fn remember(&mut self, presence: &Presence, guid: [u8; 16], attempt: &str) {
        let opened = Opened {
            events: presence.events,
            guid,
            attempt: attempt.to_owned(),
        };
        self.by_reader.insert(presence.reader.clone(), opened);
    }

    /// The channel opened to the card in this reader, if that card has stayed in the
    /// reader since.
    pub fn card_at(&self, presence: &Presence) -> Option<&Opened> {
        self.by_reader
            .get(&presence.reader)
            .filter(|opened| opened.events == presence.events)
    }
}

/// The commands as bytes, each a well-formed command APDU.
fn parse_apdus(commands: &RelayCommands) -> Result<Vec<Vec<u8>>, BridgeError> {
    commands
        .as_slice()
        .iter()
        .map(|command| {
            let bytes = command.as_bytes();
            CommandApdu::parse(bytes)
                .map_err(|e| BridgeError::BadRequest(format!("bad APDU: {e}")))?;
            Ok(bytes.to_vec())
        })
        .collect()
}

pub(super) async fn relay(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RelayRequest>,
) -> Result<Json<RelayResponse>, BridgeError> {
    let apdus = parse_apdus(&request.apdus)?;
    let claims = state.grants.admit(
        request.grant.as_ref(),
        &Asked {
            origin: request_origin(&headers)?,
            operations: &[Operation::OpenChannel, Operation::SealedScript],
            apdus: Some(&apdus),
        },
    )?;
    let channels = state.channels.clone();
    let responses = state
        .worker
        .with_card(Leave::AsIs, move |card| match claims.operation {
            Operation::OpenChannel => open_channel(card, &claims, &apdus, &channels),
            Operation::SealedScript => sealed_script(card, &claims, &apdus, &channels),
            Operation::ChangePin => Err(GrantError::WrongOperation.into()),
        })
        .await?;
    let responses = responses
        .into_iter()
        .map(|response| {
            ResponseHex::from_bytes(response)
                .map_err(|_| BridgeError::CardError("the card's answer is too long".into()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Json(RelayResponse { responses }))
}

fn open_channel(
    card: CardInReader<'_>,
    claims: &Claims,
    apdus: &[Vec<u8>],
    channels: &Mutex<OpenedChannels>,
) -> Result<Vec<Vec<u8>>, BridgeError> {
    let CardInReader {
        presence,
        transport,
    } = card;
    let (mut piv, guid) = open_card(transport, None)?;
    claims.check_card(&guid)?;
    lock(channels).remember(&presence, guid, &claims.attempt);
    Ok(piv.run_script(apdus)?)
}

fn sealed_script(
    card: CardInReader<'_>,
    claims: &Claims,
    apdus: &[Vec<u8>],
    channels: &Mutex<OpenedChannels>,
) -> Result<Vec<Vec<u8>>, BridgeError> {
    let CardInReader {
        presence,
        transport,
    } = card;
    let opened = lock(channels)
        .card_at(&presence)
        .cloned()
        .ok_or(BridgeError::CardChanged)?;
    claims.check_card(&opened.guid)?;
    // BRG-5: the script is for the unlock whose channel this card has open, not another.
    if claims.attempt != opened.attempt {
        return Err(GrantError::WrongAttempt.into());
    }
    Ok(PivClient::new(DynTransport(transport)).run_script(apdus)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(reader: &str, events: u64) -> Presence {
        Presence {
            reader: reader.to_owned(),
            events,
        }
    }

    #[test]
    fn brg_5_a_channel_belongs_to_one_insertion_of_one_reader_and_one_unlock() {
        let mut opened = OpenedChannels::default();
        let guid = |p: &Presence, o: &OpenedChannels| o.card_at(p).map(|c| c.guid);
        assert_eq!(guid(&presence("r0", 1), &opened), None);
        opened.remember(&presence("r0", 1), [7; 16], "attempt-a");
        assert_eq!(guid(&presence("r0", 1), &opened), Some([7; 16]));
        let attempt = opened
            .card_at(&presence("r0", 1))
            .map(|c| c.attempt.clone());
        assert_eq!(attempt.as_deref(), Some("attempt-a"));
        assert_eq!(guid(&presence("r0", 3), &opened), None, "reinserted");
        assert_eq!(guid(&presence("r1", 1), &opened), None, "another reader");
        opened.remember(&presence("r0", 3), [8; 16], "attempt-b");
        assert_eq!(guid(&presence("r0", 1), &opened), None, "forgotten");
    }

    #[test]
    fn brg_5_only_well_formed_commands_are_relayed() {
        let commands = |texts: &[&str]| -> RelayCommands {
            let texts: Vec<&str> = texts.to_vec();
            serde_json::from_value(serde_json::json!(texts)).unwrap()
        };
        let ok = "80500000080102030405060708";
        assert!(parse_apdus(&commands(&[ok])).is_ok());
        for bad in [[ok, "005000000201"], [ok, "8050000008010203"]] {
            assert!(
                matches!(
                    parse_apdus(&commands(&bad)),
                    Err(BridgeError::BadRequest(_))
                ),
                "{bad:?}"
            );
        }
    }
}
