//! The card's key slots, named once (CARD-1, CARD-6, AUTH-1, CERT-1): the PIV key
//! reference a command names, the object that holds the slot's certificate, and the short
//! text (`"9a"`, `"9e"`) the server keeps beside each certificate it issued. Everyone who
//! speaks of a slot — the builders here, the virtual card, the bridge, the server's CA
//! and store — holds a [`KeySlot`], never a byte or a string.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The key slots this product uses (SP 800-73-4 part 1, table 4b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySlot {
    /// 9A, PIV authentication: signs only after the PIN is verified (AUTH-1); its
    /// certificate names the holder.
    PivAuth,
    /// 9E, card authentication: signs without the PIN (CARD-6); its certificate names
    /// the card.
    CardAuth,
}

/// Text that names no slot of ours.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a key slot (\"9a\" or \"9e\")")]
pub struct NotAKeySlot;

impl KeySlot {
    pub const ALL: [KeySlot; 2] = [KeySlot::PivAuth, KeySlot::CardAuth];

    /// The key reference: P2 of GENERATE ASYMMETRIC KEY PAIR and GENERAL AUTHENTICATE.
    pub const fn key_ref(self) -> u8 {
        match self {
            KeySlot::PivAuth => 0x9A,
            KeySlot::CardAuth => 0x9E,
        }
    }

    /// The tag of the data object holding the slot's X.509 certificate.
    pub const fn certificate_tag(self) -> u32 {
        match self {
            KeySlot::PivAuth => 0x5F_C1_05,
            KeySlot::CardAuth => 0x5F_C1_01,
        }
    }

    /// The key reference as two lowercase hex digits: what the database keeps
    /// (`card_certificates.slot`) and tools like `yubico-piv-tool -s` take. Stable.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeySlot::PivAuth => "9a",
            KeySlot::CardAuth => "9e",
        }
    }

    /// The slot [`Self::as_str`] names; exactly `"9a"` or `"9e"`.
    pub fn parse(text: &str) -> Result<KeySlot, NotAKeySlot> {
        KeySlot::ALL
            .into_iter()
            .find(|slot| slot.as_str() == text)
            .ok_or(NotAKeySlot)
    }

    /// The slot a command's key reference names, if it is one of ours.
    pub fn from_key_ref(key_ref: u8) -> Option<KeySlot> {
        KeySlot::ALL.into_iter().find(|s| s.key_ref() == key_ref)
    }

    /// The slot whose certificate object has this tag, if any.
    pub fn from_certificate_tag(tag: u32) -> Option<KeySlot> {
        KeySlot::ALL
            .into_iter()
            .find(|s| s.certificate_tag() == tag)
    }
}

impl fmt::Display for KeySlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeySlot {
    type Err = NotAKeySlot;
    fn from_str(text: &str) -> Result<KeySlot, NotAKeySlot> {
        KeySlot::parse(text)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn card_1_every_slot_round_trips_through_its_byte_tag_and_text() {
        for slot in KeySlot::ALL {
            assert_eq!(KeySlot::from_key_ref(slot.key_ref()), Some(slot));
            assert_eq!(
                KeySlot::from_certificate_tag(slot.certificate_tag()),
                Some(slot)
            );
            assert_eq!(KeySlot::parse(slot.as_str()), Ok(slot));
            assert_eq!(slot.to_string().parse::<KeySlot>(), Ok(slot));
        }
    }

    #[test]
    fn cert_1_the_stored_text_and_the_card_values_are_the_standards() {
        assert_eq!(
            (
                KeySlot::PivAuth.as_str(),
                KeySlot::PivAuth.key_ref(),
                KeySlot::PivAuth.certificate_tag()
            ),
            ("9a", 0x9A, 0x5FC105)
        );
        assert_eq!(
            (
                KeySlot::CardAuth.as_str(),
                KeySlot::CardAuth.key_ref(),
                KeySlot::CardAuth.certificate_tag()
            ),
            ("9e", 0x9E, 0x5FC101)
        );
    }

    #[test]
    fn cert_1_other_slots_and_spellings_are_refused() {
        for text in ["", "9A", "9E", "9b", "9c", " 9a", "9a ", "0x9a", "piv_auth"] {
            assert_eq!(KeySlot::parse(text), Err(NotAKeySlot), "{text:?}");
        }
        assert_eq!(KeySlot::from_key_ref(0x9C), None);
        assert_eq!(KeySlot::from_key_ref(0x9B), None);
        assert_eq!(KeySlot::from_certificate_tag(0x5FC10A), None);
    }

    proptest! {
        #[test]
        fn cert_1_text_parses_only_to_a_slot_that_prints_it_back(text in "\\PC{0,4}") {
            if let Ok(slot) = KeySlot::parse(&text) {
                prop_assert_eq!(slot.as_str(), text.as_str());
            }
        }
    }
}
