//! `--simulate`: an in-process virtual card in a virtual reader, for machines with no
//! reader or no PC/SC service (BRG-3). The card keeps its state in its file (CARD-4).

use api_types::bridge::ReaderInfo;
use card_protocol::client::CardTransport;
use virtual_card::SharedCard;

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
        operation: &mut dyn FnMut(&str, &mut dyn CardTransport) -> Result<(), BridgeError>,
    ) -> Result<(), BridgeError> {
        if !self.card.is_inserted() {
            return Err(BridgeError::NoCard);
        }
        let mut transport = self.card.clone();
        operation(SIMULATED_READER, &mut transport)
    }
}
