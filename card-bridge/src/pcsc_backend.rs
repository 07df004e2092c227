//! Real readers through the OS PC/SC service (pcscd), BRG-3.
//!
//! [`PcscAccess`] lives on the card worker thread and owns its `pcsc::Context`.
//! [`spawn_event_watcher`] runs a second thread that blocks in `get_status_change` (on
//! the readers and on the PnP pseudo-reader) and turns state changes into
//! [`CardEvent`]s: no polling loop.
//!
//! A card job's [`Presence`] is the reader's PC/SC event counter (upper 16 bits of its
//! event state, counting insertions and removals), read once the job's transaction has
//! begun: a card taken out after that invalidates the handle, so the counter read
//! belongs to the card the job talks to. [`Leave::Reset`] ends the transaction with
//! `SCARD_RESET_CARD`, so no PIN stays verified (BRG-6).

use std::ffi::{CStr, CString};
use std::time::Duration;

use api_types::bridge::{CardEvent, ReaderInfo};
use card_protocol::client::{CardTransport, TransportError};
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use tokio::sync::broadcast;

use crate::worker::{CardInReader, Leave, Presence};
use crate::{BridgeError, CardAccess};

fn map_pcsc(e: pcsc::Error) -> BridgeError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => BridgeError::PcscUnavailable,
        pcsc::Error::NoReadersAvailable
        | pcsc::Error::UnknownReader
        | pcsc::Error::ReaderUnavailable => BridgeError::NoReader,
        pcsc::Error::NoSmartcard => BridgeError::NoCard,
        // NotTransacted: pcscd dropped our transaction because the card went away.
        pcsc::Error::RemovedCard
        | pcsc::Error::ResetCard
        | pcsc::Error::UnpoweredCard
        | pcsc::Error::NotTransacted => BridgeError::CardRemoved,
        pcsc::Error::SharingViolation | pcsc::Error::Timeout => BridgeError::CardBusy,
        other => BridgeError::CardError(other.to_string()),
    }
}

fn map_transport(e: pcsc::Error) -> TransportError {
    match e {
        pcsc::Error::RemovedCard
        | pcsc::Error::ResetCard
        | pcsc::Error::UnpoweredCard
        | pcsc::Error::NoSmartcard
        | pcsc::Error::NotTransacted
        | pcsc::Error::ReaderUnavailable => TransportError::CardRemoved,
        pcsc::Error::Timeout => TransportError::Timeout,
        other => TransportError::Other(other.to_string()),
    }
}

/// APDUs sent through an open PC/SC transaction.
struct PcscTransport<'a> {
    card: &'a pcsc::Card,
}

impl CardTransport for PcscTransport<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buffer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let answer = self
            .card
            .transmit(command, &mut buffer)
            .map_err(map_transport)?;
        // Not even a status word: the card left mid-exchange, before PC/SC noticed (seen
        // with vpcd when a card is pulled under load). Not a card error (BRG-4).
        if answer.is_empty() {
            return Err(TransportError::CardRemoved);
        }
        Ok(answer.to_vec())
    }
}

pub struct PcscAccess {
    context: Option<Context>,
    /// Only readers whose name contains this are used (e.g. one vpcd slot in tests).
    reader_filter: Option<String>,
}

impl PcscAccess {
    pub fn new(reader_filter: Option<String>) -> Self {
        Self {
            context: None,
            reader_filter,
        }
    }

    /// The context, (re-)established if pcscd was (re)started since.
    fn context(&mut self) -> Result<Context, BridgeError> {
        if let Some(context) = &self.context {
            if context.is_valid().is_ok() {
                return Ok(context.clone());
            }
        }
        let context = Context::establish(Scope::User).map_err(map_pcsc)?;
        self.context = Some(context.clone());
        Ok(context)
    }

    fn reader_states(&mut self) -> Result<(Context, Vec<ReaderState>), BridgeError> {
        let context = self.context()?;
        let names = match context.list_readers_owned() {
            Ok(names) => names,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => {
                self.context = None;
                return Err(map_pcsc(e));
            }
        };
        let mut states: Vec<ReaderState> = names
            .into_iter()
            .filter(|name| reader_wanted(name, self.reader_filter.as_deref()))
            .map(|name| ReaderState::new(name, State::UNAWARE))
            .collect();
        if !states.is_empty() {
            context
                .get_status_change(Duration::ZERO, &mut states)
                .map_err(map_pcsc)?;
        }
        Ok((context, states))
    }
}

fn reader_wanted(name: &CStr, filter: Option<&str>) -> bool {
    match filter {
        None => true,
        Some(filter) => name.to_string_lossy().contains(filter),
    }
}

fn card_present(state: &ReaderState) -> bool {
    state.event_state().contains(State::PRESENT) && !state.event_state().contains(State::MUTE)
}

/// The reader's event counter now, without sending the card anything.
fn presence(context: &Context, reader: &CStr) -> Result<Presence, BridgeError> {
    let mut states = [ReaderState::new(reader.to_owned(), State::UNAWARE)];
    context
        .get_status_change(Duration::ZERO, &mut states)
        .map_err(map_pcsc)?;
    let [state] = &states;
    if !card_present(state) {
        return Err(BridgeError::CardRemoved);
    }
    Ok(Presence {
        reader: reader.to_string_lossy().into_owned(),
        events: u64::from(state.event_count()),
    })
}

fn disposition(leave: Leave) -> Disposition {
    match leave {
        Leave::AsIs => Disposition::LeaveCard,
        Leave::Reset => Disposition::ResetCard,
    }
}

impl CardAccess for PcscAccess {
    fn backend_name(&self) -> &'static str {
        "pcsc"
    }

    fn readers(&mut self) -> Result<Vec<ReaderInfo>, BridgeError> {
        let (_, states) = self.reader_states()?;
        Ok(states
            .iter()
            .map(|state| ReaderInfo {
                name: state.name().to_string_lossy().into_owned(),
                card_present: card_present(state),
            })
            .collect())
    }

    fn with_card(
        &mut self,
        leave: Leave,
        operation: &mut dyn FnMut(CardInReader<'_>) -> Result<(), BridgeError>,
    ) -> Result<(), BridgeError> {
        let (context, states) = self.reader_states()?;
        if states.is_empty() {
            return Err(BridgeError::NoReader);
        }
        let reader: CString = states
            .iter()
            .find(|state| card_present(state))
            .map(|state| state.name().to_owned())
            .ok_or(BridgeError::NoCard)?;
        let mut card = context
            .connect(&reader, ShareMode::Shared, Protocols::ANY)
            .map_err(map_pcsc)?;
        let result = {
            let transaction = card.transaction().map_err(map_pcsc)?;
            let mut transport = PcscTransport { card: &transaction };
            let result = presence(&context, &reader).and_then(|presence| {
                operation(CardInReader {
                    presence,
                    transport: &mut transport,
                })
            });
            // A failed end means the card went away; the operation's own error says more.
            let _ = transaction.end(disposition(leave));
            result
        };
        let _ = card.disconnect(Disposition::LeaveCard);
        result
    }
}

/// Watches readers and cards and broadcasts insert/remove events until the process ends.
pub fn spawn_event_watcher(
    reader_filter: Option<String>,
    events: broadcast::Sender<CardEvent>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("pcsc-events".into())
        .spawn(move || loop {
            if let Err(e) = watch(reader_filter.as_deref(), &events) {
                tracing::warn!(error = %e, "PC/SC event watcher restarting");
            }
            // pcscd is down or restarting: try again shortly rather than spin.
            std::thread::sleep(Duration::from_secs(1));
        })?;
    Ok(())
}

fn watch(filter: Option<&str>, events: &broadcast::Sender<CardEvent>) -> Result<(), pcsc::Error> {
    let context = Context::establish(Scope::User)?;
    let mut states = vec![ReaderState::new(pcsc::PNP_NOTIFICATION(), State::UNAWARE)];
    loop {
        // Drop readers that went away, add new ones.
        states.retain(|s| !s.event_state().intersects(State::UNKNOWN | State::IGNORE));
        let names = match context.list_readers_owned() {
            Ok(names) => names,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        for name in names {
            if reader_wanted(&name, filter) && !states.iter().any(|s| s.name() == name.as_c_str()) {
                states.push(ReaderState::new(name, State::UNAWARE));
            }
        }
        for state in &mut states {
            state.sync_current_state();
        }
        context.get_status_change(None, &mut states)?;
        for state in &states {
            if state.name() == pcsc::PNP_NOTIFICATION() {
                continue;
            }
            let was = state.current_state().contains(State::PRESENT);
            let is = card_present(state);
            let reader = state.name().to_string_lossy().into_owned();
            let event = match (was, is) {
                (false, true) => Some(CardEvent::Inserted { reader }),
                (true, false) => Some(CardEvent::Removed { reader }),
                _ => None,
            };
            if let Some(event) = event {
                tracing::info!(?event, "card event");
                // No subscribers is fine.
                let _ = events.send(event);
            }
        }
    }
}
