//! A card in a reader, shared between threads: insert, remove, and pull it out after a
//! set number of commands (BRG-4 tests).

use crate::card::VirtualCard;
use card_protocol::{CardTransport, TransportError};
use std::sync::{Arc, Mutex, MutexGuard};

struct Slot {
    card: VirtualCard,
    inserted: bool,
    /// Commands left before the card is pulled.
    remove_after: Option<usize>,
}

/// `Clone` shares the same card and reader.
#[derive(Clone)]
pub struct SharedCard {
    slot: Arc<Mutex<Slot>>,
}

impl std::fmt::Debug for SharedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCard")
            .field("inserted", &self.is_inserted())
            .finish_non_exhaustive()
    }
}

impl SharedCard {
    /// The card, inserted.
    pub fn new(card: VirtualCard) -> Self {
        Self {
            slot: Arc::new(Mutex::new(Slot {
                card,
                inserted: true,
                remove_after: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic elsewhere while holding the lock leaves a usable card: every card
        // operation completes its state change before it can fail.
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pull the card out: it loses power, so its volatile state (verified PIN) is gone.
    pub fn remove(&self) {
        let mut slot = self.lock();
        pull(&mut slot);
    }

    /// Put the card (back) in; it powers up fresh.
    pub fn insert(&self) {
        let mut slot = self.lock();
        if !slot.inserted {
            slot.card.reset();
            slot.inserted = true;
        }
    }

    pub fn is_inserted(&self) -> bool {
        self.lock().inserted
    }

    /// Put a different card in the reader (the old one is returned), freshly powered.
    pub fn swap(&self, card: VirtualCard) -> VirtualCard {
        let mut slot = self.lock();
        let mut old = std::mem::replace(&mut slot.card, card);
        old.reset();
        slot.card.reset();
        slot.inserted = true;
        slot.remove_after = None;
        old
    }

    pub fn with_card<R>(&self, f: impl FnOnce(&mut VirtualCard) -> R) -> R {
        f(&mut self.lock().card)
    }

    /// After `n` more APDUs the card is "pulled": those `n` are answered, every later one
    /// fails with [`TransportError::CardRemoved`] (BRG-4). `0` pulls it now.
    pub fn remove_after(&self, n: usize) {
        let mut slot = self.lock();
        if n == 0 {
            pull(&mut slot);
        } else {
            slot.remove_after = Some(n);
        }
    }

    /// Send one APDU to the card, as a reader would.
    pub fn transmit_apdu(&self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut slot = self.lock();
        if !slot.inserted {
            return Err(TransportError::CardRemoved);
        }
        let response = slot.card.process(command);
        if let Some(left) = slot.remove_after {
            let left = left.saturating_sub(1);
            slot.remove_after = Some(left);
            if left == 0 {
                pull(&mut slot);
            }
        }
        Ok(response)
    }
}

fn pull(slot: &mut Slot) {
    slot.inserted = false;
    slot.remove_after = None;
    slot.card.reset();
}

impl CardTransport for SharedCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.transmit_apdu(command)
    }
}
