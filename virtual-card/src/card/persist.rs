//! Making, loading and saving a card (CARD-4): every field of the state file is checked
//! on load, and each change is saved before the card answers.

use super::keys::Keys;
use super::{CreateOptions, VirtualCard, DEFAULT_MAX_TRIES, MEMORY_FAILURE};
use crate::objects::{expiry_in_years, TEST_FASC_N};
use crate::pin_history::PinHistory;
use crate::secure_channel::{Scp03KeySet, SecureChannel};
use crate::state::{CardError, CardState, STATE_VERSION};
use card_protocol::{Pin, Puk, StatusWord};
use rand::rngs::OsRng;
use rand::RngCore;
use std::path::Path;
use zeroize::Zeroizing;

impl VirtualCard {
    /// A new in-memory card with a fresh 9E key.
    pub fn create(opts: &CreateOptions) -> Result<VirtualCard, CardError> {
        let pin = Pin::parse(&opts.pin)?;
        let puk = Puk::parse(&opts.puk)?;
        let guid = opts.guid.unwrap_or_else(|| {
            let mut g = [0u8; 16];
            OsRng.fill_bytes(&mut g);
            g
        });
        let serial = OsRng.next_u32() & 0x7FFF_FFFF;
        let scp03 = Scp03KeySet::from_state_or_new(None)?;
        Ok(VirtualCard {
            serial,
            guid,
            fasc_n: TEST_FASC_N.to_vec(),
            expiration: expiry_in_years(5),
            pin_history: PinHistory::new(&pin),
            pin,
            pin_tries_left: if opts.locked { 0 } else { DEFAULT_MAX_TRIES },
            pin_max_tries: DEFAULT_MAX_TRIES,
            puk,
            puk_tries_left: DEFAULT_MAX_TRIES,
            puk_max_tries: DEFAULT_MAX_TRIES,
            pin_reset_pending: false,
            keys: Keys::new(),
            scp03: SecureChannel::new(scp03, serial, &guid),
            path: None,
            failed: false,
            trace: false,
            selected: false,
            pin_verified: false,
            pending: Vec::new(),
            chain: None,
        })
    }

    /// A new card saved to `path` (replacing any card there); later changes are saved too.
    pub fn create_file(path: &Path, opts: &CreateOptions) -> Result<VirtualCard, CardError> {
        let mut card = Self::create(opts)?;
        card.path = Some(path.to_path_buf());
        card.save()?;
        Ok(card)
    }

    /// Load a card saved by [`Self::create_file`]; later changes are saved back.
    pub fn load(path: &Path) -> Result<VirtualCard, CardError> {
        let state = CardState::read(path)?;
        let mut card = Self::from_state(&state)?;
        card.path = Some(path.to_path_buf());
        if state.scp03.is_none() {
            card.save()?; // keys just generated for a file from before SCP03
        }
        Ok(card)
    }

    /// Rebuild a card from its state, checking every field.
    pub fn from_state(state: &CardState) -> Result<VirtualCard, CardError> {
        if state.version != STATE_VERSION {
            return Err(CardError::UnsupportedVersion(state.version));
        }
        let bytes = |name: &str, value: &str| {
            hex::decode(value)
                .map(Zeroizing::new)
                .map_err(|e| CardError::Invalid(format!("{name}: {e}")))
        };
        let guid: [u8; 16] = bytes("guid", &state.guid)?
            .as_slice()
            .try_into()
            .map_err(|_| CardError::Invalid("guid must be 16 bytes".into()))?;
        let tries = |name: &str, left: u8, max: u8| {
            if (1..=15).contains(&max) && left <= max {
                Ok(())
            } else {
                Err(CardError::Invalid(format!("{name} tries {left}/{max}")))
            }
        };
        tries("pin", state.pin_tries_left, state.pin_max_tries)?;
        tries("puk", state.puk_tries_left, state.puk_max_tries)?;
        if state.expiration.len() != 8 || !state.expiration.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Invalid("expiration must be YYYYMMDD".into()));
        }
        let pin_history =
            PinHistory::from_state(state.pin_history_salt.as_deref(), &state.pin_history)?;
        let scp03 = Scp03KeySet::from_state_or_new(state.scp03.as_ref())?;
        Ok(VirtualCard {
            serial: state.serial,
            guid,
            fasc_n: bytes("fasc_n", &state.fasc_n)?.to_vec(),
            expiration: state.expiration.clone(),
            pin: Pin::from_padded(&bytes("pin", &state.pin)?)?,
            pin_tries_left: state.pin_tries_left,
            pin_max_tries: state.pin_max_tries,
            puk: Puk::from_bytes(&bytes("puk", &state.puk)?)?,
            puk_tries_left: state.puk_tries_left,
            puk_max_tries: state.puk_max_tries,
            pin_history,
            pin_reset_pending: state.pin_reset_pending,
            keys: Keys::from_state(state)?,
            scp03: SecureChannel::new(scp03, state.serial, &guid),
            path: None,
            failed: false,
            trace: false,
            selected: false,
            pin_verified: false,
            pending: Vec::new(),
            chain: None,
        })
    }

    /// The persistent state (contains secrets; handle with care).
    pub fn state(&self) -> CardState {
        let (pin_history_salt, pin_history) = self.pin_history.to_state();
        let mut state = CardState {
            version: STATE_VERSION,
            serial: self.serial,
            guid: hex::encode(self.guid),
            fasc_n: hex::encode(&self.fasc_n),
            expiration: self.expiration.clone(),
            pin: hex::encode(self.pin.padded()),
            pin_tries_left: self.pin_tries_left,
            pin_max_tries: self.pin_max_tries,
            puk: hex::encode(self.puk.as_bytes()),
            puk_tries_left: self.puk_tries_left,
            puk_max_tries: self.puk_max_tries,
            pin_history,
            pin_history_salt: Some(pin_history_salt),
            pin_reset_pending: self.pin_reset_pending,
            card_auth_key: String::new(),
            piv_auth_key: None,
            piv_auth_certificate: None,
            card_auth_certificate: None,
            scp03: Some(self.scp03.keys().to_state()),
        };
        self.keys.to_state(&mut state);
        state
    }

    pub(super) fn save(&self) -> Result<(), CardError> {
        match &self.path {
            Some(path) => self.state().write_atomic(path),
            None => Ok(()),
        }
    }

    /// Save, or fail closed: a card that cannot record a spent try must not go on.
    pub(super) fn commit(&mut self) -> Result<(), StatusWord> {
        self.save().map_err(|_| {
            self.failed = true;
            MEMORY_FAILURE
        })
    }
}
