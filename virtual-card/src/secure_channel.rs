//! The card's end of the GlobalPlatform SCP03 secure channel (CARD-3): the server opens it,
//! the bridge and the page only relay its sealed APDUs, and this card terminates it.
//!
//! With the PIV application selected, INITIALIZE UPDATE (`80 50`) and EXTERNAL
//! AUTHENTICATE (`84 82`) open a session at level `33` (C-MAC, C-DECRYPTION, R-MAC,
//! R-ENCRYPTION). Then every command with the secure-messaging CLA bit (`04`) is checked
//! and opened, run as the plain PIV command inside, and its answer sealed. Rules:
//! - Any SCP03 failure (bad MAC, replay, bad cryptogram, …) is answered with
//!   [`Scp03Error::status_word`] and ends the session; the command inside is not run.
//! - A SELECT (plain, or sealed — that one is refused with `6985`), a power cycle and a new
//!   INITIALIZE UPDATE end the session; so does any command between INITIALIZE UPDATE and
//!   EXTERNAL AUTHENTICATE.
//! - A plain command ends the session too, and is then answered exactly as without one,
//!   so PIV tools sharing the reader are never refused; nothing can be slipped into the
//!   server's sealed script unnoticed, because its next sealed command then fails.
//! - A sealed command with no session is refused with `6982`.
//! - GET RESPONSE (`00 C0`) stays plain: it fetches the rest of a long sealed answer.
//!
//! Card challenges are random (from the OS), so nothing is persisted per session; only
//! the static keys are, in the state file. Each card gets its own random AES-128 keys when
//! made; the server learns them at enrollment (the issuer's key ceremony, ALL-7: it keeps
//! them sealed).

use crate::state::{CardError, Scp03State};
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::scp03::{CardHandshake, CardScp03, CardSession, Scp03Error, StaticKeys};
use card_protocol::{Ins, StatusWord};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

/// The key version number of every card's SCP03 key set (P1 of INITIALIZE UPDATE may be
/// this or `00`).
pub const SCP03_KEY_VERSION: u8 = 0x30;
/// Length of the keys a new card gets (AES-128).
const NEW_KEY_LEN: usize = 16;
/// CLA of INITIALIZE UPDATE (GlobalPlatform proprietary, no secure messaging).
const CLA_GP: u8 = 0x80;
/// CLA of EXTERNAL AUTHENTICATE (GlobalPlatform proprietary, secure messaging).
const CLA_GP_SM: u8 = 0x84;
/// The CLA bit that marks a command as sealed.
const CLA_SM: u8 = 0x04;

/// A card's SCP03 static keys as bytes (K-ENC, K-MAC, K-DEK), for the state file and for
/// telling the server at enrollment. Wiped on drop; `Debug` never shows them.
#[derive(Clone)]
pub struct Scp03KeySet {
    enc: Zeroizing<Vec<u8>>,
    mac: Zeroizing<Vec<u8>>,
    dek: Zeroizing<Vec<u8>>,
    keys: StaticKeys,
}

impl Scp03KeySet {
    /// Three AES keys of 16, 24 or 32 bytes, all the same length.
    pub fn new(enc: &[u8], mac: &[u8], dek: &[u8]) -> Result<Self, Scp03Error> {
        Ok(Self {
            keys: StaticKeys::new(enc, mac, dek)?,
            enc: Zeroizing::new(enc.to_vec()),
            mac: Zeroizing::new(mac.to_vec()),
            dek: Zeroizing::new(dek.to_vec()),
        })
    }

    /// Three fresh AES-128 keys from the OS CSPRNG.
    pub fn generate() -> Result<Self, Scp03Error> {
        let mut bytes = Zeroizing::new([0u8; 3 * NEW_KEY_LEN]);
        OsRng.fill_bytes(bytes.as_mut_slice());
        let (enc, rest) = bytes.split_at(NEW_KEY_LEN);
        let (mac, dek) = rest.split_at(NEW_KEY_LEN);
        Self::new(enc, mac, dek)
    }

    pub fn enc(&self) -> &[u8] {
        &self.enc
    }

    pub fn mac(&self) -> &[u8] {
        &self.mac
    }

    pub fn dek(&self) -> &[u8] {
        &self.dek
    }

    /// The keys as `card_protocol`'s host and card ends take them.
    pub fn static_keys(&self) -> StaticKeys {
        self.keys.clone()
    }

    pub(crate) fn to_state(&self) -> Scp03State {
        Scp03State {
            enc: hex::encode(self.enc()),
            mac: hex::encode(self.mac()),
            dek: hex::encode(self.dek()),
        }
    }

    /// The keys in a state file, or fresh ones for a new card or a file from before SCP03.
    pub(crate) fn from_state_or_new(state: Option<&Scp03State>) -> Result<Self, CardError> {
        match state {
            Some(state) => Self::from_state(state),
            None => Self::generate().map_err(|e| CardError::Invalid(format!("scp03 keys: {e}"))),
        }
    }

    fn from_state(state: &Scp03State) -> Result<Self, CardError> {
        let bytes = |name: &str, value: &str| {
            hex::decode(value)
                .map(Zeroizing::new)
                .map_err(|e| CardError::Invalid(format!("scp03 {name}: {e}")))
        };
        let (enc, mac, dek) = (
            bytes("enc", &state.enc)?,
            bytes("mac", &state.mac)?,
            bytes("dek", &state.dek)?,
        );
        Self::new(&enc, &mac, &dek).map_err(|e| CardError::Invalid(format!("scp03 keys: {e}")))
    }
}

impl std::fmt::Debug for Scp03KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scp03KeySet({:?})", self.keys)
    }
}

/// Key diversification data the card announces: its serial (4 bytes) then the first six
/// bytes of its GUID, so the server can tell which card's keys to use.
fn diversification_data(serial: u32, guid: &[u8; 16]) -> [u8; 10] {
    let mut data = [0u8; 10];
    let (head, tail) = data.split_at_mut(4);
    head.copy_from_slice(&serial.to_be_bytes());
    tail.iter_mut().zip(guid).for_each(|(d, s)| *d = *s);
    data
}

/// Where the channel stands; volatile, so a power cycle closes it.
#[derive(Default)]
enum State {
    #[default]
    Closed,
    /// INITIALIZE UPDATE answered; only EXTERNAL AUTHENTICATE may follow.
    Handshake(CardHandshake),
    Open(CardSession),
}

/// What [`SecureChannel::step`] made of a command.
pub(crate) enum Step {
    /// A plain command: answer it as a plain PIV card would. `ended` when this closed a
    /// session or handshake (so nothing begun inside it may be continued outside).
    Plain { command: CommandApdu, ended: bool },
    /// The channel's own complete answer (handshake, or a refusal).
    Answer(ResponseApdu),
    /// A sealed command, opened: run it, then [`SecureChannel::seal`] the answer.
    Inner(CommandApdu),
}

/// The card's SCP03 end: its keys, its GlobalPlatform configuration and the session.
pub(crate) struct SecureChannel {
    keys: Scp03KeySet,
    card: CardScp03,
    state: State,
}

impl SecureChannel {
    /// Random card challenges; only level `33` is accepted (CARD-3: C-MAC and C-ENC, and
    /// sealed answers).
    pub(crate) fn new(keys: Scp03KeySet, serial: u32, guid: &[u8; 16]) -> Self {
        let data = diversification_data(serial, guid);
        let card = CardScp03::new(keys.static_keys(), SCP03_KEY_VERSION, data);
        Self {
            keys,
            card,
            state: State::Closed,
        }
    }

    pub(crate) fn keys(&self) -> &Scp03KeySet {
        &self.keys
    }

    /// Forget any session or handshake (power cycle).
    pub(crate) fn end(&mut self) {
        self.state = State::Closed;
    }

    /// Routes one command. `selected`: the PIV application is selected.
    pub(crate) fn step(&mut self, command: CommandApdu, selected: bool) -> Step {
        // Whatever happens next, the previous state is used up unless put back.
        let previous = std::mem::take(&mut self.state);
        if command.cla == CLA_GP && command.is(Ins::InitializeUpdate) {
            if !selected {
                return refuse(StatusWord::CONDITIONS_NOT_SATISFIED);
            }
            return match self.card.initialize_update(&command, &mut OsRng) {
                Ok((answer, handshake)) => {
                    self.state = State::Handshake(handshake);
                    Step::Answer(answer)
                }
                Err(e) => refuse(e.status_word()),
            };
        }
        let sealed = command.cla & CLA_SM != 0;
        match previous {
            State::Handshake(handshake)
                if command.cla == CLA_GP_SM && command.is(Ins::ExternalAuthenticate) =>
            {
                match handshake.external_authenticate(&command) {
                    Ok((answer, session)) => {
                        self.state = State::Open(session);
                        Step::Answer(answer)
                    }
                    Err(e) => refuse(e.status_word()),
                }
            }
            State::Open(mut session) if sealed => match session.unwrap_command(command) {
                // Selecting ends the session; a sealed SELECT is not run at all.
                Ok(inner) if inner.is(Ins::Select) => refuse(StatusWord::CONDITIONS_NOT_SATISFIED),
                Ok(inner) => {
                    self.state = State::Open(session);
                    Step::Inner(inner)
                }
                Err(e) => refuse(e.status_word()),
            },
            _ if sealed => refuse(Scp03Error::NotAuthenticated.status_word()),
            State::Closed => Step::Plain {
                command,
                ended: false,
            },
            State::Handshake(_) | State::Open(_) => Step::Plain {
                command,
                ended: true,
            },
        }
    }

    /// Seals the answer to the command [`Self::step`] just opened. If that fails, the
    /// session ends and the answer is the failure's status word.
    pub(crate) fn seal(&mut self, response: ResponseApdu) -> ResponseApdu {
        let State::Open(session) = &mut self.state else {
            return ResponseApdu::status(Scp03Error::SessionClosed.status_word());
        };
        match session.wrap_response(response) {
            Ok(sealed) => sealed,
            Err(e) => {
                self.state = State::Closed;
                ResponseApdu::status(e.status_word())
            }
        }
    }
}

fn refuse(sw: StatusWord) -> Step {
    Step::Answer(ResponseApdu::status(sw))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn card_3_key_sets_round_trip_through_the_state_and_never_print() {
        let keys = Scp03KeySet::new(&[0xAB; 16], &[0xCD; 16], &[0xEF; 16]).unwrap();
        let state = keys.to_state();
        let back = Scp03KeySet::from_state(&state).unwrap();
        assert_eq!(
            (back.enc(), back.mac(), back.dek()),
            (&[0xAB; 16][..], &[0xCD; 16][..], &[0xEF; 16][..])
        );
        let shown = format!("{keys:?} {state:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
        let mut bad = state.clone();
        bad.enc = "00".into();
        let err = Scp03KeySet::from_state(&bad).unwrap_err().to_string();
        assert!(err.contains("scp03 keys"), "{err}");
    }

    #[test]
    fn card_3_new_key_sets_are_random_aes_128() {
        let (a, b) = (
            Scp03KeySet::generate().unwrap(),
            Scp03KeySet::generate().unwrap(),
        );
        assert_eq!(a.static_keys().key_len(), 16);
        assert_ne!(a.enc(), b.enc());
        assert_ne!(a.enc(), a.mac());
    }

    #[test]
    fn card_3_diversification_data_is_serial_then_guid() {
        let guid: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(
            diversification_data(0x0102_0304, &guid),
            [1, 2, 3, 4, 0, 1, 2, 3, 4, 5]
        );
    }
}
