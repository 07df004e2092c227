//! CARD-5: the card refuses a new PIN equal to any of its last five, and remembers them
//! only as salted SHA-256 hashes (a per-card salt), so its state file never holds an old
//! passcode. Older state files that kept the padded PINs are converted on load.

use card_protocol::Pin;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::state::CardError;

/// How many earlier PINs a new one must differ from.
pub const PIN_HISTORY: usize = 5;

pub struct PinHistory {
    salt: [u8; 16],
    hashes: Vec<[u8; 32]>,
}

impl PinHistory {
    /// A history that starts with the card's first PIN.
    pub fn new(first: &Pin) -> Self {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut history = Self {
            salt,
            hashes: Vec::new(),
        };
        history.push(first);
        history
    }

    fn hash(&self, pin: &Pin) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        hasher.update(pin.padded());
        hasher.finalize().into()
    }

    pub fn contains(&self, pin: &Pin) -> bool {
        let hash = self.hash(pin);
        self.hashes.contains(&hash)
    }

    /// Remembers a new PIN, forgetting all but the last [`PIN_HISTORY`].
    pub fn push(&mut self, pin: &Pin) {
        let hash = self.hash(pin);
        self.hashes.push(hash);
        let excess = self.hashes.len().saturating_sub(PIN_HISTORY);
        self.hashes.drain(..excess);
    }

    /// From the state file: the salt (absent in files written before hashing) and the
    /// entries (hashes; or padded PINs in such older files, hashed now).
    pub fn from_state(salt: Option<&str>, entries: &[String]) -> Result<Self, CardError> {
        let invalid = |what: &str| CardError::Invalid(format!("pin_history: {what}"));
        let mut history = match salt {
            Some(salt) => Self {
                salt: hex::decode(salt)
                    .ok()
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| invalid("bad salt"))?,
                hashes: Vec::new(),
            },
            None => {
                let mut salt = [0u8; 16];
                OsRng.fill_bytes(&mut salt);
                Self {
                    salt,
                    hashes: Vec::new(),
                }
            }
        };
        for entry in entries {
            let bytes = hex::decode(entry).map_err(|_| invalid("not hex"))?;
            match (bytes.len(), salt) {
                (32, Some(_)) => history
                    .hashes
                    .push(bytes.try_into().map_err(|_| invalid("bad hash"))?),
                (8, None) => {
                    let pin = Pin::from_padded(&bytes).map_err(|_| invalid("bad PIN"))?;
                    history.push(&pin);
                }
                _ => return Err(invalid("unexpected entry")),
            }
        }
        Ok(history)
    }

    /// The salt and the hashes, hex, for the state file.
    pub fn to_state(&self) -> (String, Vec<String>) {
        (
            hex::encode(self.salt),
            self.hashes.iter().map(hex::encode).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pin(text: &str) -> Pin {
        Pin::parse(text).unwrap()
    }

    #[test]
    fn card_5_the_last_five_pins_are_refused_and_kept_only_as_salted_hashes() {
        let mut history = PinHistory::new(&pin("1111"));
        for p in ["2222", "3333", "4444", "5555"] {
            history.push(&pin(p));
        }
        assert!(history.contains(&pin("1111")));
        history.push(&pin("6666"));
        assert!(!history.contains(&pin("1111")), "only the last five count");
        assert!(history.contains(&pin("2222")) && history.contains(&pin("6666")));
        let (salt, entries) = history.to_state();
        let text = format!("{salt}{}", entries.join(""));
        assert!(!text.contains(&hex::encode(pin("6666").padded())));
        let back = PinHistory::from_state(Some(&salt), &entries).unwrap();
        assert!(back.contains(&pin("6666")) && !back.contains(&pin("1111")));
        // Another card's salt: the same PINs hash differently.
        let other = PinHistory::new(&pin("6666"));
        assert_ne!(other.to_state().1, vec![entries[4].clone()]);
    }

    #[test]
    fn card_5_an_older_state_with_padded_pins_is_converted() {
        let old = vec![
            hex::encode(pin("1234").padded()),
            hex::encode(pin("9999").padded()),
        ];
        let history = PinHistory::from_state(None, &old).unwrap();
        assert!(history.contains(&pin("1234")) && history.contains(&pin("9999")));
        let (_, entries) = history.to_state();
        assert!(entries.iter().all(|e| e.len() == 64));
        assert!(PinHistory::from_state(Some("00"), &old).is_err());
    }
}
