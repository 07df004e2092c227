//! GlobalPlatform SCP03 (Card Specification v2.3 Amendment D), written once for both ends
//! of the channel and with no I/O: the off-card entity (our server, [`HostHandshake`] then
//! [`HostSession`]) and the card (our virtual card, [`CardScp03`], [`CardHandshake`], then
//! [`CardSession`]).
//!
//! It serves CARD-3: admin operations (unblock, PUK rotation, key generation, certificate
//! writing) run inside a channel from the server to the card that authenticates both sides
//! from per-card AES keys and then MACs and encrypts every command and response, so the
//! bridge and the page only relay sealed APDUs. Refusals are typed ([`Scp03Error`], ALL-2);
//! keys are wiped on drop and never printed (ALL-7).
//!
//! What is implemented: S8 mode; AES-128/192/256 static keys; security levels `01`, `03`,
//! `11`, `13` and `33` (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION); random or pseudo-random
//! card challenges; the basic logical channel. Rules kept from the spec: the first MAC
//! chaining value is 16 bytes `00`; the encryption counter starts at 1 with the first
//! command after EXTERNAL AUTHENTICATE and advances for every command, with data or not;
//! a response carrying an error status word (anything but `9000`, `62xx`, `63xx`) has no
//! R-MAC and no data. Le is not protected by the spec's C-MAC; it only bounds the response.
//! When a protected data field is longer than 255 bytes, the C-MAC covers Lc in its
//! extended form (`00 hi lo`); Amendment D only shows short Lc, and both ends here agree.
//! After any integrity failure (bad MAC, bad padding, wrong length, plain command inside
//! the session) the session is closed and refuses all further use.

mod card;
mod channel;
mod crypto;
mod host;

#[cfg(test)]
mod tests;

pub use card::{CardHandshake, CardScp03, CardSession, MAX_SEQUENCE_COUNTER};
pub use host::{HostHandshake, HostSession};

use crate::sw::StatusWord;
use crypto::AesKey;
use std::fmt;
use thiserror::Error;

/// The SCP identifier in the key information of INITIALIZE UPDATE's response.
pub const SCP_ID: u8 = 0x03;

/// Bits of the "i" parameter (Amendment D §5.1): pseudo-random card challenge, R-MAC
/// support, R-ENCRYPTION support. Bit 1 (S16 mode) and the others are not supported here.
pub(crate) const I_PSEUDO_RANDOM: u8 = 0x10;
pub(crate) const I_RMAC: u8 = 0x20;
pub(crate) const I_RENC: u8 = 0x40;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Scp03Error {
    #[error("SCP03 keys must be 16, 24 or 32 bytes, all the same length (got {0})")]
    KeyLength(usize),
    #[error("the card answered {0}")]
    Refused(StatusWord),
    #[error("wrong length ({0} bytes)")]
    WrongLength(usize),
    #[error("command data too long to protect ({0} bytes)")]
    DataTooLong(usize),
    #[error("the card speaks SCP {0:02X}, not SCP03")]
    NotScp03(u8),
    #[error("SCP03 parameter i = {0:02X} is not supported")]
    UnsupportedParameter(u8),
    #[error("security level {0:02X} is not allowed here")]
    UnsupportedLevel(u8),
    #[error("key version {requested:02X} asked for, {card:02X} held")]
    KeyVersionMismatch { requested: u8, card: u8 },
    #[error("CLA {0:02X} cannot be used in this secure channel")]
    UnsupportedClass(u8),
    #[error("INS {0:02X} was not expected at this step of the handshake")]
    UnexpectedCommand(u8),
    #[error("wrong P1 P2 ({0:02X} {1:02X})")]
    WrongParameters(u8, u8),
    #[error("authentication cryptogram did not match")]
    BadCryptogram,
    #[error("MAC did not match")]
    BadMac,
    #[error("bad padding in decrypted data")]
    BadPadding,
    #[error("a command without secure messaging arrived inside the secure channel")]
    NotSecured,
    #[error("a response arrived that no protected command is waiting for, or it is malformed")]
    UnexpectedResponse,
    #[error("the card has not yet accepted EXTERNAL AUTHENTICATE")]
    NotAuthenticated,
    #[error("a counter of the secure channel is exhausted")]
    CounterExhausted,
    #[error("the secure channel session is closed")]
    SessionClosed,
    #[error("these commands were not sent in this session")]
    NotThisSession,
}

impl Scp03Error {
    /// The status word a card answers with when it refuses a command for this reason.
    pub fn status_word(&self) -> StatusWord {
        match self {
            Self::WrongLength(_) | Self::DataTooLong(_) => StatusWord::WRONG_LENGTH,
            Self::KeyVersionMismatch { .. } => StatusWord::REF_DATA_NOT_FOUND,
            Self::WrongParameters(..) | Self::UnsupportedLevel(_) => StatusWord::INCORRECT_P1P2,
            Self::UnsupportedClass(_) => StatusWord::CLA_NOT_SUPPORTED,
            Self::UnexpectedCommand(_) => StatusWord::INS_NOT_SUPPORTED,
            // GP: "authentication of host cryptogram failed".
            Self::BadCryptogram => StatusWord(0x6300),
            Self::BadMac
            | Self::BadPadding
            | Self::NotSecured
            | Self::NotAuthenticated
            | Self::SessionClosed => StatusWord::SECURITY_STATUS_NOT_SATISFIED,
            Self::Refused(sw) => *sw,
            Self::KeyLength(_)
            | Self::NotScp03(_)
            | Self::UnsupportedParameter(_)
            | Self::UnexpectedResponse
            | Self::CounterExhausted
            | Self::NotThisSession => StatusWord::CONDITIONS_NOT_SATISFIED,
        }
    }
}

/// The security level of a session (P1 of EXTERNAL AUTHENTICATE). C-MAC is always on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// `01`: C-MAC.
    CMac,
    /// `03`: C-MAC and C-DECRYPTION.
    CMacCDec,
    /// `11`: C-MAC and R-MAC.
    CMacRMac,
    /// `13`: C-MAC, C-DECRYPTION and R-MAC.
    CMacCDecRMac,
    /// `33`: C-MAC, C-DECRYPTION, R-MAC and R-ENCRYPTION — what CARD-3 uses.
    CMacCDecRMacREnc,
}

impl SecurityLevel {
    const C_DEC: u8 = 0x02;
    const R_MAC: u8 = 0x10;
    const R_ENC: u8 = 0x20;

    pub const fn byte(self) -> u8 {
        match self {
            Self::CMac => 0x01,
            Self::CMacCDec => 0x03,
            Self::CMacRMac => 0x11,
            Self::CMacCDecRMac => 0x13,
            Self::CMacCDecRMacREnc => 0x33,
        }
    }

    pub fn from_byte(byte: u8) -> Result<Self, Scp03Error> {
        match byte {
            0x01 => Ok(Self::CMac),
            0x03 => Ok(Self::CMacCDec),
            0x11 => Ok(Self::CMacRMac),
            0x13 => Ok(Self::CMacCDecRMac),
            0x33 => Ok(Self::CMacCDecRMacREnc),
            other => Err(Scp03Error::UnsupportedLevel(other)),
        }
    }

    /// True when this level gives every protection `minimum` gives.
    pub fn covers(self, minimum: SecurityLevel) -> bool {
        self.byte() & minimum.byte() == minimum.byte()
    }

    pub(crate) fn c_dec(self) -> bool {
        self.byte() & Self::C_DEC != 0
    }
    pub(crate) fn r_mac(self) -> bool {
        self.byte() & Self::R_MAC != 0
    }
    pub(crate) fn r_enc(self) -> bool {
        self.byte() & Self::R_ENC != 0
    }

    /// Whether a card announcing parameter `i` supports this level.
    pub(crate) fn allowed_by(self, i: u8) -> bool {
        (!self.r_mac() || i & I_RMAC != 0) && (!self.r_enc() || i & I_RENC != 0)
    }
}

/// A card's static SCP03 key set (K-ENC, K-MAC, K-DEK): AES keys of one length. The bytes
/// are wiped when dropped and `Debug` never shows them.
#[derive(Clone)]
pub struct StaticKeys {
    pub(crate) enc: AesKey,
    pub(crate) mac: AesKey,
    pub(crate) dek: AesKey,
}

impl StaticKeys {
    /// Three AES keys of 16, 24 or 32 bytes, all the same length.
    pub fn new(enc: &[u8], mac: &[u8], dek: &[u8]) -> Result<Self, Scp03Error> {
        let keys = Self {
            enc: AesKey::from_slice(enc)?,
            mac: AesKey::from_slice(mac)?,
            dek: AesKey::from_slice(dek)?,
        };
        if keys.mac.len() != keys.enc.len() {
            return Err(Scp03Error::KeyLength(keys.mac.len()));
        }
        if keys.dek.len() != keys.enc.len() {
            return Err(Scp03Error::KeyLength(keys.dek.len()));
        }
        Ok(keys)
    }

    /// Length of each key in bytes (16, 24 or 32).
    pub fn key_len(&self) -> usize {
        self.enc.len()
    }

    /// K-DEK, for encrypting key values sent in PUT KEY (not used by the channel itself).
    pub fn dek(&self) -> &[u8] {
        self.dek.as_bytes()
    }

    /// K-ENC ‖ K-MAC ‖ K-DEK, for sealing the set where it is kept (the server seals it
    /// with its KEK). Wiped when dropped.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(
            [
                self.enc.as_bytes(),
                self.mac.as_bytes(),
                self.dek.as_bytes(),
            ]
            .concat(),
        )
    }

    /// The inverse of [`StaticKeys::to_bytes`]: 48, 72 or 96 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Scp03Error> {
        if !bytes.len().is_multiple_of(3) {
            return Err(Scp03Error::KeyLength(bytes.len()));
        }
        let n = bytes.len() / 3;
        let (enc, rest) = bytes.split_at(n);
        let (mac, dek) = rest.split_at(n);
        Self::new(enc, mac, dek)
    }
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticKeys(AES-{}, redacted)", self.key_len() * 8)
    }
}
