//! `--simulate`: an in-process virtual card in a virtual reader, for machines with no
//! reader or no PC/SC service (BRG-3). The card keeps its state in its file (CARD-4).
//!
//! It behaves as a PC/SC reader does where the bridge relies on it: the card's presence
//! is the reader's insertion count ([`SharedCard::insertion`]); a job talks only to the
//! card that was in the reader when it began (after a removal its commands fail, as an
//! invalid PC/SC handle would); [`Leave::Reset`] power-cycles the card.

use api_types::bridge::ReaderInfo;
use card_protocol::client::{CardTransport, TransportError};
use virtual_card::SharedCard;

use crate::worker::{CardInReader, Leave, Presence};
use crate::{BridgeError, CardAccess};

pub const SIMULATED_READER: &str = "Simulated Reader 0";

pub struct SimulatedAccess {
    card: SharedCard,
}

impl SimulatedAccess {
    pub fn new(card: SharedCard) -> Self {
        Self { card }
    }
}

/// The card of one insertion.
struct InsertedCard<'a> {
    card: &'a SharedCard,
    insertion: u64,
}

impl CardTransport for InsertedCard<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.card.transmit_to(self.insertion, command)
    }
}

impl CardAccess for SimulatedAccess {
    fn backend_name(&self) -> &'static str {
        "simulated"
    }

    fn readers(&mut self) -> Result<Vec<ReaderInfo>, BridgeError> {
        Ok(vec![ReaderInfo {
            name: SIMULATED_READER.to_owned(),
            card_present: self.card.is_inserted(),
        }])
    }

    fn with_card(
        &mut self,
        leave: Leave,
        operation: &mut dyn FnMut(CardInReader<'_>) -> Result<(), BridgeError>,
    ) -> Result<(), BridgeError> {
        let insertion = self.card.insertion().ok_or(BridgeError::NoCard)?;
        let mut transport = InsertedCard {
            card: &self.card,
            insertion,
        };
        let result = operation(CardInReader {
            presence: Presence {
                reader: SIMULATED_READER.to_owned(),
                events: insertion,
            },
            transport: &mut transport,
        });
        // A card pulled meanwhile was powered off anyway; never reset a newcomer.
        if leave == Leave::Reset && self.card.insertion() == Some(insertion) {
            self.card.with_card(|card| card.reset());
        }
        result
    }
}
