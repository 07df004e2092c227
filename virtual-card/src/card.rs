//! The card itself: PIV command processing (CARD-1, CARD-2, CARD-5, CARD-6) over state
//! that is saved before each answer when file-backed (CARD-4). This file routes commands
//! (plain, or opened from the SCP03 channel) and answers SELECT and GET DATA; the rest
//! lives in its parts: [`pin`] (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER),
//! [`keys`] (GENERATE, PUT DATA, GENERAL AUTHENTICATE: issuance and signing), [`chaining`]
//! (ISO command chaining, `61xx` answers) and [`persist`] (create, load, save).

mod chaining;
mod keys;
mod persist;
mod pin;
mod signing;

use crate::objects::{application_property_template, discovery_object, TAG_DISCOVERY};
use crate::pin_history::PinHistory;
use crate::secure_channel::{Scp03KeySet, SecureChannel, Step};
use crate::state::CardError;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::piv::{self, Chuid};
use card_protocol::scp03::StaticKeys;
use card_protocol::{tlv, Ins, KeySlot, Pin, Puk, StatusWord};
use keys::Keys;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use std::path::{Path, PathBuf};

/// Answer-to-reset: T=1; the historical bytes are a compact-TLV application identifier
/// (`80`, then `FB` + the 11-byte PIV AID), as PIV cards may announce themselves. OpenSC
/// then takes it for a standard PIV card with no quirks (its type "PIV-II with AID in
/// historical bytes"). The bare ATR `3B 80 80 01 01` used before is in OpenSC's list of
/// PIVKey tokens, for which it turns EC off, so it would not sign with our P-256 keys.
pub const ATR: &[u8] = &[
    0x3B, 0x8D, 0x80, 0x01, // TS, T0 (13 historical bytes), TD1, TD2 (T=1)
    0x80, 0xFB, // compact-TLV, then the application identifier: 11 bytes
    0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, // the PIV AID
    0xCD, // TCK: XOR of T0 … the last historical byte
];

/// SW for a failed write of the state file: the card fails closed until reloaded.
const MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
/// Default tries for PIN and PUK (CARD-2).
const DEFAULT_MAX_TRIES: u8 = 3;

/// Version reported to yubico-piv-tool's GET VERSION.
const YK_VERSION: [u8; 3] = [5, 1, 2];

/// How to make a new card.
#[derive(Clone)]
pub struct CreateOptions {
    pub pin: String,
    pub puk: String,
    /// Random when `None`.
    pub guid: Option<[u8; 16]>,
    /// Create with the PIN blocked (0 tries left), for demos of unlock.
    pub locked: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self {
            pin: "123456".into(),
            puk: "12345678".into(),
            guid: None,
            locked: false,
        }
    }
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateOptions")
            .field("guid", &self.guid.map(hex::encode))
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

/// A software PIV card.
pub struct VirtualCard {
    serial: u32,
    guid: [u8; 16],
    fasc_n: Vec<u8>,
    expiration: String,
    pin: Pin,
    pin_tries_left: u8,
    pin_max_tries: u8,
    puk: Puk,
    puk_tries_left: u8,
    puk_max_tries: u8,
    pin_history: PinHistory,
    pin_reset_pending: bool,
    /// The 9A and 9E key pairs and their certificate objects.
    keys: Keys,
    /// SCP03 keys (persistent) and session (volatile).
    scp03: SecureChannel,
    path: Option<PathBuf>,
    /// A state write failed: answer MEMORY_FAILURE to everything until reloaded.
    failed: bool,
    /// Log each command header and status word to stderr (never data: it holds PINs).
    trace: bool,
    // Volatile security state, cleared by a power cycle.
    selected: bool,
    pin_verified: bool,
    pending: Vec<u8>,
    chain: Option<([u8; 3], Vec<u8>)>,
}

impl std::fmt::Debug for VirtualCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualCard")
            .field("guid", &hex::encode(self.guid))
            .field("pin_tries_left", &self.pin_tries_left)
            .field("puk_tries_left", &self.puk_tries_left)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

type Reply = Result<Vec<u8>, StatusWord>;

impl VirtualCard {
    pub fn guid(&self) -> [u8; 16] {
        self.guid
    }

    pub fn serial(&self) -> u32 {
        self.serial
    }

    pub fn chuid(&self) -> Chuid {
        Chuid {
            guid: self.guid,
            fasc_n: self.fasc_n.clone(),
            expiration: self.expiration.clone(),
        }
    }

    pub fn state_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The 9E card authentication key's public half (every card has one, CARD-6).
    pub fn card_auth_public_key(&self) -> p256::PublicKey {
        p256::PublicKey::from(self.keys.card_auth().verifying_key())
    }

    /// The public key in `slot`; `None` while 9A has not been generated.
    pub fn public_key(&self, slot: KeySlot) -> Option<p256::PublicKey> {
        self.keys
            .key(slot)
            .map(|key| p256::PublicKey::from(key.verifying_key()))
    }

    /// The DER certificate written for `slot`, if any (certificates are public).
    pub fn certificate(&self, slot: KeySlot) -> Option<Vec<u8>> {
        let object = self.keys.certificate_object(slot)?;
        card_protocol::issue::parse_certificate_object(object).ok()
    }

    /// SEC1 uncompressed point, 65 bytes.
    pub fn card_auth_public_key_sec1(&self) -> Vec<u8> {
        self.card_auth_public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    pub fn pin_tries_left(&self) -> u8 {
        self.pin_tries_left
    }

    pub fn puk_tries_left(&self) -> u8 {
        self.puk_tries_left
    }

    pub fn pin_blocked(&self) -> bool {
        self.pin_tries_left == 0
    }

    pub fn puk_blocked(&self) -> bool {
        self.puk_tries_left == 0
    }

    /// Whether `pin` is the card's PIN. For tests and `show`; spends no try.
    pub fn pin_matches(&self, pin: &str) -> bool {
        Pin::parse(pin).is_ok_and(|p| p == self.pin)
    }

    /// Whether `puk` is the card's PUK. For tests; spends no try.
    pub fn puk_matches(&self, puk: &str) -> bool {
        Puk::parse(puk).is_ok_and(|p| p == self.puk)
    }

    /// The card's SCP03 static keys, for tests and for telling the server at enrollment.
    pub fn scp03_keys(&self) -> StaticKeys {
        self.scp03.keys().static_keys()
    }

    /// The same keys as bytes, for the server to seal and keep (CARD-3, ALL-7).
    pub fn scp03_key_set(&self) -> &Scp03KeySet {
        self.scp03.keys()
    }

    /// Replace the SCP03 keys (e.g. ones the issuer chose) and save; any session ends.
    pub fn set_scp03_keys(&mut self, keys: Scp03KeySet) -> Result<(), CardError> {
        self.scp03 = SecureChannel::new(keys, self.serial, &self.guid);
        self.save()
    }

    /// Block the PIN (0 tries left) and save, for demos of unlock.
    pub fn lock_pin(&mut self) -> Result<(), CardError> {
        self.pin_tries_left = 0;
        self.pin_verified = false;
        self.save()
    }

    /// Power cycle: forget the verified PIN, the selected application, pending data and
    /// any secure channel session.
    pub fn reset(&mut self) {
        self.scp03.end();
        self.selected = false;
        self.pin_verified = false;
        self.pending.clear();
        self.chain = None;
    }

    /// Log command headers and status words (no data) to stderr, for debugging tools.
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    /// Process one command APDU and return the full response APDU (data + SW).
    /// Never panics; anything unexpected gets an ISO status word.
    pub fn process(&mut self, command: &[u8]) -> Vec<u8> {
        let response = self.respond(command);
        if self.trace {
            let header = hex::encode_upper(command.get(..4).unwrap_or(command));
            eprintln!(
                "virtual-card: {header} +{}B -> {} +{}B",
                command.len().saturating_sub(4),
                response.sw,
                response.data.len()
            );
        }
        response.to_bytes()
    }

    fn respond(&mut self, raw: &[u8]) -> ResponseApdu {
        if self.failed {
            return ResponseApdu::status(MEMORY_FAILURE);
        }
        let Ok(cmd) = CommandApdu::parse(raw) else {
            self.pending.clear();
            self.chain = None;
            return ResponseApdu::status(StatusWord::WRONG_LENGTH);
        };
        if cmd.is(Ins::GetResponse) && cmd.cla == 0 {
            return self.get_response(&cmd);
        }
        self.pending.clear();
        let le = cmd.le;
        let response = match self.scp03.step(cmd, self.selected) {
            Step::Plain { command, ended } => {
                if ended {
                    self.chain = None;
                }
                self.answer(command, false)
            }
            Step::Answer(response) => {
                self.chain = None;
                response
            }
            Step::Inner(command) => {
                let response = self.answer(command, true);
                self.scp03.seal(response)
            }
        };
        self.deliver(response, le)
    }

    /// The full answer to a plain PIV command, or (`sealed`) one opened from the secure
    /// channel. Admin commands are refused plain at once, even a first chained part.
    fn answer(&mut self, cmd: CommandApdu, sealed: bool) -> ResponseApdu {
        if cmd.cla & !piv::CLA_CHAINING != 0 {
            self.chain = None;
            return ResponseApdu::status(StatusWord::CLA_NOT_SUPPORTED);
        }
        if cmd.instruction().is_some_and(keys::is_admin) && !sealed {
            self.chain = None;
            return ResponseApdu::status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
        }
        let cmd = match self.unchain(cmd) {
            Ok(Some(cmd)) => cmd,
            Ok(None) => return ResponseApdu::status(StatusWord::SUCCESS),
            Err(sw) => return ResponseApdu::status(sw),
        };
        match self.dispatch(&cmd) {
            Ok(data) => ResponseApdu::new(data, StatusWord::SUCCESS),
            Err(sw) => ResponseApdu::status(sw),
        }
    }

    /// One whole command. An INS no [`Ins`] names, and one that has no meaning here (the
    /// secure channel's handshake and GET RESPONSE are answered before this), is `6D00`
    /// whether or not PIV is selected.
    fn dispatch(&mut self, cmd: &CommandApdu) -> Reply {
        let handler: fn(&mut Self, &CommandApdu) -> Reply = match cmd.instruction() {
            Some(Ins::Select) => return self.select(cmd),
            Some(Ins::GetData) => Self::get_data,
            Some(Ins::Verify) => Self::verify,
            Some(Ins::ChangeReferenceData) => Self::change_reference_data,
            Some(Ins::ResetRetryCounter) => Self::reset_retry_counter,
            Some(Ins::GeneralAuthenticate) => Self::general_authenticate,
            Some(Ins::GenerateAsymmetricKeyPair) => Self::generate_key_pair,
            Some(Ins::PutData) => Self::put_data,
            Some(Ins::GetMetadata) => Self::get_metadata,
            Some(Ins::GetVersion) => |_, _| Ok(YK_VERSION.to_vec()),
            Some(Ins::GetSerial) => |card, _| Ok(card.serial.to_be_bytes().to_vec()),
            None | Some(Ins::GetResponse | Ins::InitializeUpdate | Ins::ExternalAuthenticate) => {
                return Err(StatusWord::INS_NOT_SUPPORTED)
            }
        };
        if !self.selected {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        handler(self, cmd)
    }

    /// SELECT by AID: any prefix (5 bytes or more) of the full PIV AID. A failed SELECT
    /// leaves the current selection as it was.
    fn select(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0x04 {
            return Err(StatusWord::FILE_NOT_FOUND);
        }
        if cmd.data.len() < piv::PIV_AID.len() || !piv::PIV_AID_FULL.starts_with(&cmd.data) {
            return Err(StatusWord::FILE_NOT_FOUND);
        }
        self.selected = true;
        Ok(application_property_template())
    }

    fn get_data(&mut self, cmd: &CommandApdu) -> Reply {
        if (cmd.p1, cmd.p2) != (0x3F, 0xFF) {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let tag = match tlv::find(&cmd.data, piv::TAG_OBJECT_ID) {
            Ok(Some(t)) => keys::tag_value(t)?,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        match tag {
            piv::TAG_CHUID => Ok(self.chuid().encode()),
            TAG_DISCOVERY => Ok(discovery_object()),
            _ => self.certificate_object(tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_4_the_atr_has_a_right_checksum_and_names_the_piv_aid() {
        let (tck, body) = ATR.split_last().unwrap_or((&0, &[]));
        assert_eq!(body.iter().skip(1).fold(0, |acc, b| acc ^ b), *tck);
        assert_eq!(body.get(6..), Some(piv::PIV_AID_FULL));
        assert_ne!(
            ATR,
            [0x3B, 0x80, 0x80, 0x01, 0x01],
            "OpenSC's PIVKey ATR: no EC"
        );
    }

    #[test]
    fn card_1_an_ins_no_instruction_names_is_answered_6d00_selected_or_not() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let unknown: Vec<u8> = (0..=u8::MAX).filter(|&b| Ins::parse(b).is_none()).collect();
        assert_eq!(unknown.len(), 256 - Ins::ALL.len());
        for selected in [false, true] {
            if selected {
                let answer = card.process(&piv::select().to_bytes());
                assert!(answer.ends_with(&[0x90, 0x00]));
            }
            for &ins in &unknown {
                let answer = card.process(&CommandApdu::raw(0, ins, 0, 0).to_bytes());
                assert_eq!(answer, [0x6D, 0x00], "INS {ins:02X}, selected {selected}");
            }
        }
        // The handshake's instructions mean nothing outside GlobalPlatform's class.
        for ins in [Ins::InitializeUpdate, Ins::ExternalAuthenticate] {
            let answer = card.process(&CommandApdu::new(0, ins, 0, 0).to_bytes());
            assert_eq!(answer, [0x6D, 0x00], "{ins}");
        }
        // Nothing was spent or changed by any of it.
        assert_eq!(card.pin_tries_left(), 3);
    }
}
