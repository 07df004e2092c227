//! The card itself: PIV command processing (CARD-1, CARD-2, CARD-5, CARD-6) over state
//! that is saved before each answer when file-backed (CARD-4).

use crate::objects::{
    application_property_template, discovery_object, expiry_in_years, TAG_DISCOVERY, TEST_FASC_N,
};
use crate::pin_history::PinHistory;
use crate::secure_channel::{Scp03KeySet, SecureChannel, Step};
use crate::state::{CardError, CardState, STATE_VERSION};
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::piv::{self, Chuid};
use card_protocol::scp03::StaticKeys;
use card_protocol::{tlv, Pin, Puk, StatusWord};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::rngs::OsRng;
use rand::RngCore;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Answer-to-reset: T=1, no historical bytes.
pub const ATR: &[u8] = &[0x3B, 0x80, 0x80, 0x01, 0x01];

/// SW for a failed write of the state file: the card fails closed until reloaded.
const MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
/// Default tries for PIN and PUK (CARD-2).
const DEFAULT_MAX_TRIES: u8 = 3;
/// Cap on command-chained data, so a client cannot grow the card's buffer forever.
const MAX_CHAINED: usize = 8 * 1024;
/// Largest response sent without 61xx chaining (short Le).
const SHORT_MAX: usize = 256;

const INS_GET_VERSION: u8 = 0xFD;
const INS_GET_SERIAL: u8 = 0xF8;
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
    card_auth_key: SigningKey,
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
            card_auth_key: SigningKey::random(&mut OsRng),
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
        let card_auth_key = SigningKey::from_slice(&bytes("card_auth_key", &state.card_auth_key)?)
            .map_err(|_| CardError::Invalid("card_auth_key is not a P-256 private key".into()))?;
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
            card_auth_key,
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
        CardState {
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
            card_auth_key: hex::encode(Zeroizing::new(self.card_auth_key.to_bytes().to_vec())),
            scp03: Some(self.scp03.keys().to_state()),
        }
    }

    fn save(&self) -> Result<(), CardError> {
        match &self.path {
            Some(path) => self.state().write_atomic(path),
            None => Ok(()),
        }
    }

    /// Save, or fail closed: a card that cannot record a spent try must not go on.
    fn commit(&mut self) -> Result<(), StatusWord> {
        self.save().map_err(|_| {
            self.failed = true;
            MEMORY_FAILURE
        })
    }

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

    pub fn card_auth_public_key(&self) -> p256::PublicKey {
        p256::PublicKey::from(self.card_auth_key.verifying_key())
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
        if cmd.ins == piv::INS_GET_RESPONSE && cmd.cla == 0 {
            return self.get_response(&cmd);
        }
        self.pending.clear();
        let le = cmd.le;
        let response = match self.scp03.step(cmd, self.selected) {
            Step::Plain { command, ended } => {
                if ended {
                    self.chain = None;
                }
                self.answer(command)
            }
            Step::Answer(response) => {
                self.chain = None;
                response
            }
            Step::Inner(command) => {
                let response = self.answer(command);
                self.scp03.seal(response)
            }
        };
        self.deliver(response, le)
    }

    /// The full answer to a plain PIV command (or one opened from the secure channel).
    fn answer(&mut self, cmd: CommandApdu) -> ResponseApdu {
        if cmd.cla & !0x10 != 0 {
            self.chain = None;
            return ResponseApdu::status(StatusWord::CLA_NOT_SUPPORTED);
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

    /// ISO command chaining (CLA bit 0x10): collect data until the last command.
    /// `Ok(None)`: more parts to come.
    fn unchain(&mut self, mut cmd: CommandApdu) -> Result<Option<CommandApdu>, StatusWord> {
        let key = [cmd.ins, cmd.p1, cmd.p2];
        let mut data = match self.chain.take() {
            Some((k, data)) if k == key => data,
            _ => Vec::new(),
        };
        data.extend_from_slice(&cmd.data);
        if data.len() > MAX_CHAINED {
            return Err(StatusWord::WRONG_LENGTH);
        }
        if cmd.cla & 0x10 != 0 {
            self.chain = Some((key, data));
            return Ok(None);
        }
        cmd.data = data;
        Ok(Some(cmd))
    }

    /// A successful answer longer than Le allows goes out in parts (61xx, GET RESPONSE).
    fn deliver(&mut self, mut response: ResponseApdu, le: Option<usize>) -> ResponseApdu {
        let limit = le.filter(|&l| l > SHORT_MAX).unwrap_or(SHORT_MAX);
        if response.sw != StatusWord::SUCCESS || response.data.len() <= limit {
            return response;
        }
        self.pending = response.data.split_off(SHORT_MAX);
        ResponseApdu::new(response.data, more_data(self.pending.len()))
    }

    fn get_response(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        if self.pending.is_empty() {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        if cmd.p1 != 0 || cmd.p2 != 0 {
            self.pending.clear();
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        let want = cmd.le.unwrap_or(SHORT_MAX).min(self.pending.len());
        let rest = self.pending.split_off(want);
        let chunk = std::mem::replace(&mut self.pending, rest);
        let sw = if self.pending.is_empty() {
            StatusWord::SUCCESS
        } else {
            more_data(self.pending.len())
        };
        ResponseApdu::new(chunk, sw)
    }

    fn dispatch(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.ins == piv::INS_SELECT {
            return self.select(cmd);
        }
        let known = [
            piv::INS_GET_DATA,
            piv::INS_VERIFY,
            piv::INS_CHANGE_REFERENCE_DATA,
            piv::INS_RESET_RETRY_COUNTER,
            piv::INS_GENERAL_AUTHENTICATE,
            INS_GET_VERSION,
            INS_GET_SERIAL,
        ];
        if !known.contains(&cmd.ins) {
            return Err(StatusWord::INS_NOT_SUPPORTED);
        }
        if !self.selected {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        match cmd.ins {
            piv::INS_GET_DATA => self.get_data(cmd),
            piv::INS_VERIFY => self.verify(cmd),
            piv::INS_CHANGE_REFERENCE_DATA => self.change_reference_data(cmd),
            piv::INS_RESET_RETRY_COUNTER => self.reset_retry_counter(cmd),
            piv::INS_GENERAL_AUTHENTICATE => self.general_authenticate(cmd),
            INS_GET_VERSION => Ok(YK_VERSION.to_vec()),
            INS_GET_SERIAL => Ok(self.serial.to_be_bytes().to_vec()),
            _ => Err(StatusWord::INS_NOT_SUPPORTED),
        }
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
        let tag_bytes = match tlv::find(&cmd.data, 0x5C) {
            Ok(Some(t)) if (1..=3).contains(&t.len()) => t,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let tag = tag_bytes
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        match tag {
            piv::TAG_CHUID => Ok(self.chuid().encode()),
            TAG_DISCOVERY => Ok(discovery_object()),
            _ => Err(StatusWord::FILE_NOT_FOUND),
        }
    }

    fn pin_status(&self) -> StatusWord {
        if self.pin_verified {
            StatusWord::SUCCESS
        } else if self.pin_tries_left == 0 {
            StatusWord::AUTH_METHOD_BLOCKED
        } else {
            StatusWord::tries(self.pin_tries_left)
        }
    }

    fn verify(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p2 != piv::KEY_REF_PIN {
            return Err(StatusWord::REF_DATA_NOT_FOUND);
        }
        match cmd.p1 {
            // P1=FF: reset the PIN's security status.
            0xFF if cmd.data.is_empty() => {
                self.pin_verified = false;
                return Ok(Vec::new());
            }
            0xFF => return Err(StatusWord::WRONG_DATA),
            0x00 => {}
            _ => return Err(StatusWord::INCORRECT_P1P2),
        }
        if cmd.data.is_empty() {
            // BRG-6: status only, costs no try.
            let sw = self.pin_status();
            return if sw.is_success() {
                Ok(Vec::new())
            } else {
                Err(sw)
            };
        }
        let candidate = Pin::from_padded(&cmd.data).map_err(|_| StatusWord::WRONG_DATA)?;
        self.check_pin(&candidate)?;
        Ok(Vec::new())
    }

    fn check_pin(&mut self, candidate: &Pin) -> Result<(), StatusWord> {
        self.pin_verified = false;
        let right = *candidate == self.pin;
        self.spend_try(Secret::Pin, right)?;
        self.pin_verified = true;
        Ok(())
    }

    fn check_puk(&mut self, candidate: &Puk) -> Result<(), StatusWord> {
        let right = *candidate == self.puk;
        self.spend_try(Secret::Puk, right)
    }

    /// The one try-counter rule for PIN and PUK: spend a try first and save it, then
    /// judge, so pulling the card mid-check can never give a free guess; a right value
    /// restores the tries (CARD-2).
    fn spend_try(&mut self, secret: Secret, right: bool) -> Result<(), StatusWord> {
        let (tries_left, max_tries) = match secret {
            Secret::Pin => (&mut self.pin_tries_left, self.pin_max_tries),
            Secret::Puk => (&mut self.puk_tries_left, self.puk_max_tries),
        };
        if *tries_left == 0 {
            return Err(StatusWord::AUTH_METHOD_BLOCKED);
        }
        *tries_left -= 1;
        let left = *tries_left;
        self.commit()?;
        if !right {
            return Err(tries_or_blocked(left));
        }
        match secret {
            Secret::Pin => self.pin_tries_left = max_tries,
            Secret::Puk => self.puk_tries_left = max_tries,
        }
        self.commit()
    }

    fn change_reference_data(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let (old, new) = split_16(&cmd.data)?;
        match cmd.p2 {
            piv::KEY_REF_PIN => {
                let old = Pin::from_padded(old).map_err(|_| StatusWord::WRONG_DATA)?;
                let new = Pin::from_padded(new).map_err(|_| StatusWord::WRONG_DATA)?;
                self.check_pin(&old)?;
                // CARD-5, except right after an unlock (UNL-6 allows the old passcode).
                if !self.pin_reset_pending && self.pin_history.contains(&new) {
                    return Err(StatusWord::PIN_REUSED);
                }
                self.pin_history.push(&new);
                self.pin = new;
                self.pin_reset_pending = false;
                self.commit()?;
                Ok(Vec::new())
            }
            piv::KEY_REF_PUK => {
                let old = Puk::from_bytes(old).map_err(|_| StatusWord::WRONG_DATA)?;
                let new = Puk::from_bytes(new).map_err(|_| StatusWord::WRONG_DATA)?;
                self.check_puk(&old)?;
                self.puk = new;
                self.commit()?;
                Ok(Vec::new())
            }
            _ => Err(StatusWord::REF_DATA_NOT_FOUND),
        }
    }

    /// PUK || new PIN: unblocks and sets the PIN. The new (one-time) PIN is not added to
    /// the CARD-5 history, and the next change may reuse an old PIN (UNL-6).
    fn reset_retry_counter(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        if cmd.p2 != piv::KEY_REF_PIN {
            return Err(StatusWord::REF_DATA_NOT_FOUND);
        }
        let (puk, pin) = split_16(&cmd.data)?;
        let puk = Puk::from_bytes(puk).map_err(|_| StatusWord::WRONG_DATA)?;
        let pin = Pin::from_padded(pin).map_err(|_| StatusWord::WRONG_DATA)?;
        self.check_puk(&puk)?;
        self.pin = pin;
        self.pin_tries_left = self.pin_max_tries;
        self.pin_verified = false;
        self.pin_reset_pending = true;
        self.commit()?;
        Ok(Vec::new())
    }

    /// Sign a 32-byte digest with the 9E key; no PIN needed (CARD-6).
    fn general_authenticate(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != piv::ALG_ECC_P256 || cmd.p2 != piv::SLOT_CARD_AUTH {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let template = match tlv::parse_all(&cmd.data).as_deref() {
            Ok([t]) if t.tag == piv::TAG_DYN_AUTH => t.value,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let items = tlv::parse_all(template).map_err(|_| StatusWord::WRONG_DATA)?;
        let asks_response = items
            .iter()
            .any(|t| t.tag == piv::TAG_DYN_AUTH_RESPONSE && t.value.is_empty());
        let challenges: Vec<_> = items
            .iter()
            .filter(|t| t.tag == piv::TAG_DYN_AUTH_CHALLENGE)
            .collect();
        let digest = match challenges.as_slice() {
            [c] if asks_response && items.len() == 2 && c.value.len() == 32 => c.value,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let signature: Signature = self
            .card_auth_key
            .sign_prehash(digest)
            .map_err(|_| StatusWord::WRONG_DATA)?;
        let der = signature.to_der();
        Ok(tlv::encode(
            piv::TAG_DYN_AUTH,
            &tlv::encode(piv::TAG_DYN_AUTH_RESPONSE, der.as_bytes()),
        ))
    }
}

fn split_16(data: &[u8]) -> Result<(&[u8], &[u8]), StatusWord> {
    if data.len() != 16 {
        return Err(StatusWord::WRONG_DATA);
    }
    Ok(data.split_at(8))
}

fn tries_or_blocked(left: u8) -> StatusWord {
    if left == 0 {
        StatusWord::AUTH_METHOD_BLOCKED
    } else {
        StatusWord::tries(left)
    }
}

fn more_data(remaining: usize) -> StatusWord {
    // 61 00 means 256 or more.
    StatusWord::more_data(u8::try_from(remaining).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success(data: Vec<u8>) -> ResponseApdu {
        ResponseApdu::new(data, StatusWord::SUCCESS)
    }

    #[test]
    fn card_1_long_responses_chain_with_61xx_and_get_response() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let data: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
        let first = card.deliver(success(data.clone()), Some(256));
        assert_eq!(first.data.len(), 256);
        assert_eq!(first.sw, StatusWord(0x6100)); // 344 left: "256 or more"
        let get = |le: usize| CommandApdu::new(0, 0xC0, 0, 0).with_le(le).to_bytes();
        let second = ResponseApdu::parse(&card.process(&get(256))).unwrap();
        assert_eq!(second.sw, StatusWord(0x6158)); // 88 left
        let third = ResponseApdu::parse(&card.process(&get(0x58))).unwrap();
        assert_eq!(third.sw, StatusWord::SUCCESS);
        let all: Vec<u8> = [first.data, second.data, third.data].concat();
        assert_eq!(all, data);
        // Nothing left: GET RESPONSE is refused.
        assert_eq!(card.process(&get(256)), vec![0x69, 0x85]);
    }

    #[test]
    fn card_1_extended_le_gets_everything_at_once() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let r = card.deliver(success(vec![7; 600]), Some(65536));
        assert_eq!((r.data.len(), r.sw), (600, StatusWord::SUCCESS));
    }

    #[test]
    fn card_1_any_other_command_drops_pending_data() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let _ = card.deliver(success(vec![7; 600]), None);
        card.process(&piv::select().to_bytes());
        let get = CommandApdu::new(0, 0xC0, 0, 0).with_le(256).to_bytes();
        assert_eq!(card.process(&get), vec![0x69, 0x85]);
    }

    #[test]
    fn card_1_chained_data_is_capped() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        card.process(&piv::select().to_bytes());
        let part = CommandApdu::new(0x10, 0xCB, 0x3F, 0xFF).with_data(vec![0; 255]);
        let answers: Vec<Vec<u8>> = (0..33).map(|_| card.process(&part.to_bytes())).collect();
        // 32 × 255 = 8160 bytes fit; the 33rd part goes over 8 KiB.
        assert!(answers[..32].iter().all(|a| a == &[0x90, 0x00]));
        assert_eq!(answers[32], vec![0x67, 0x00]);
        // The chain was dropped; the card answers normally again.
        let chuid = card.process(&piv::get_data(piv::TAG_CHUID).to_bytes());
        assert_eq!(chuid.get(chuid.len() - 2..), Some(&[0x90, 0x00][..]));
    }
}

/// Which try counter [`VirtualCard::spend_try`] works on.
#[derive(Clone, Copy)]
enum Secret {
    Pin,
    Puk,
}
