//! A card in a reader, shared between threads: insert, remove, swap, and pull it out after
//! a set number of commands (BRG-4 tests). Like a PC/SC reader's event counter, an
//! insertion count changes on every insert and removal, so a program can tell "the same
//! card, never taken out" from "taken out since" without sending the card anything.

use crate::card::VirtualCard;
use card_protocol::{CardTransport, TransportError};
use std::sync::{Arc, Mutex, MutexGuard};

struct Slot {
    card: VirtualCard,
    inserted: bool,
    /// Incremented on every insertion and removal.
    events: u64,
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
                events: 0,
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
            slot.events = slot.events.wrapping_add(1);
        }
    }

    pub fn is_inserted(&self) -> bool {
        self.lock().inserted
    }

    /// The reader's insertion/removal count while a card is in it; `None` when empty.
    /// Equal counts mean the card has not left the reader in between.
    pub fn insertion(&self) -> Option<u64> {
        let slot = self.lock();
        slot.inserted.then_some(slot.events)
    }

    /// [`Self::transmit_apdu`], but only to the card of insertion `insertion`: once that
    /// card has left the reader, [`TransportError::CardRemoved`] — as a PC/SC card handle
    /// is invalid after a removal, even if a card is back.
    pub fn transmit_to(&self, insertion: u64, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut slot = self.lock();
        if !slot.inserted || slot.events != insertion {
            return Err(TransportError::CardRemoved);
        }
        transmit(&mut slot, command)
    }

    /// Put a different card in the reader (the old one is returned), freshly powered.
    pub fn swap(&self, card: VirtualCard) -> VirtualCard {
        let mut slot = self.lock();
        let mut old = std::mem::replace(&mut slot.card, card);
        old.reset();
        slot.card.reset();
        // Taken out (if it was in) and another put in: two events, as a reader counts them.
        slot.events = slot.events.wrapping_add(if slot.inserted { 2 } else { 1 });
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
        transmit(&mut slot, command)
    }
}

fn transmit(slot: &mut Slot, command: &[u8]) -> Result<Vec<u8>, TransportError> {
    let response = slot.card.process(command);
    if let Some(left) = slot.remove_after {
        let left = left.saturating_sub(1);
        slot.remove_after = Some(left);
        if left == 0 {
            pull(slot);
        }
    }
    Ok(response)
}

fn pull(slot: &mut Slot) {
    if slot.inserted {
        slot.events = slot.events.wrapping_add(1);
    }
    slot.inserted = false;
    slot.remove_after = None;
    slot.card.reset();
}

impl CardTransport for SharedCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.transmit_apdu(command)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::card::CreateOptions;

    fn card(guid: u8) -> VirtualCard {
        VirtualCard::create(&CreateOptions {
            pin: "1234".into(),
            puk: "12345678".into(),
            guid: Some([guid; 16]),
            locked: false,
        })
        .unwrap()
    }

    const SELECT: [u8; 11] = [
        0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
    ];

    #[test]
    fn brg_5_the_insertion_count_changes_whenever_the_card_leaves_the_reader() {
        let shared = SharedCard::new(card(1));
        let first = shared.insertion().unwrap();
        assert!(shared.transmit_to(first, &SELECT).is_ok());
        assert_eq!(shared.insertion(), Some(first), "commands change nothing");
        shared.with_card(VirtualCard::reset);
        assert_eq!(shared.insertion(), Some(first), "a reset is not a removal");

        shared.remove();
        assert_eq!(shared.insertion(), None);
        shared.insert();
        let second = shared.insertion().unwrap();
        assert_ne!(second, first, "same card, but it was taken out");
        assert_eq!(
            shared.transmit_to(first, &SELECT),
            Err(TransportError::CardRemoved)
        );

        shared.swap(card(2));
        assert_ne!(shared.insertion(), Some(second));
        shared.remove_after(1);
        let third = shared.insertion().unwrap();
        assert!(shared.transmit_to(third, &SELECT).is_ok());
        assert_eq!(shared.insertion(), None, "pulled after one command");
    }
}
