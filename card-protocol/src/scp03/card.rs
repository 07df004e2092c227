//! The card's side (our virtual card): answers INITIALIZE UPDATE, verifies EXTERNAL
//! AUTHENTICATE, then unwraps commands and wraps responses.
//!
//! Usage: [`CardScp03::initialize_update`] (persist [`CardScp03::sequence_counter`] before
//! answering when challenges are pseudo-random) → [`CardHandshake::external_authenticate`]
//! → for each command [`CardSession::unwrap_command`], run it, then
//! [`CardSession::wrap_response`]. On any error the card answers
//! [`Scp03Error::status_word`] bare; a new INITIALIZE UPDATE or SELECT drops the session.

use super::channel::{Channel, Exchange, MAC_LEN};
use super::crypto::{self, constant, SessionKeys};
use super::{Scp03Error, SecurityLevel, StaticKeys, I_PSEUDO_RANDOM, I_RENC, I_RMAC, SCP_ID};
use crate::apdu::{CommandApdu, ResponseApdu};
use crate::ins::Ins;
use crate::sw::StatusWord;
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;

/// Largest sequence counter (it is 3 bytes on the wire).
pub const MAX_SEQUENCE_COUNTER: u32 = 0x00FF_FFFF;

#[derive(Debug)]
enum Challenge {
    Random,
    /// Derived from K-ENC, the next sequence counter and the AID (§6.2.2.1).
    PseudoRandom {
        aid: Vec<u8>,
        next: u32,
    },
}

/// A card's SCP03 configuration and state: static keys, key version, key diversification
/// data, how it makes challenges, and the lowest security level it accepts. Not `Clone`:
/// two copies would hand out the same sequence counter, so the same card challenge.
#[derive(Debug)]
pub struct CardScp03 {
    keys: StaticKeys,
    key_version: u8,
    key_diversification_data: [u8; 10],
    challenge: Challenge,
    minimum: SecurityLevel,
}

impl CardScp03 {
    /// Random card challenges; accepts only level `33` unless [`Self::with_minimum_level`].
    pub fn new(keys: StaticKeys, key_version: u8, key_diversification_data: [u8; 10]) -> Self {
        Self {
            keys,
            key_version,
            key_diversification_data,
            challenge: Challenge::Random,
            minimum: SecurityLevel::CMacCDecRMacREnc,
        }
    }

    /// Pseudo-random card challenges from the sequence counter (the next value to use) and
    /// the AID of the application the channel is opened with.
    pub fn with_pseudo_random_challenge(mut self, aid: &[u8], sequence_counter: u32) -> Self {
        self.challenge = Challenge::PseudoRandom {
            aid: aid.to_vec(),
            next: sequence_counter,
        };
        self
    }

    pub fn with_minimum_level(mut self, minimum: SecurityLevel) -> Self {
        self.minimum = minimum;
        self
    }

    /// The next sequence counter value (pseudo-random challenges only); the card keeps it
    /// across restarts so a challenge is never reused.
    pub fn sequence_counter(&self) -> Option<u32> {
        match &self.challenge {
            Challenge::Random => None,
            Challenge::PseudoRandom { next, .. } => Some(*next),
        }
    }

    /// The "i" parameter the card announces: R-MAC and R-ENC supported, and whether the
    /// challenge is pseudo-random.
    fn i(&self) -> u8 {
        match self.challenge {
            Challenge::Random => I_RMAC | I_RENC,
            Challenge::PseudoRandom { .. } => I_PSEUDO_RANDOM | I_RMAC | I_RENC,
        }
    }

    /// Answers INITIALIZE UPDATE: key diversification data, key information, card
    /// challenge, card cryptogram (and sequence counter), with `9000`.
    pub fn initialize_update<R: CryptoRngCore>(
        &mut self,
        command: &CommandApdu,
        rng: &mut R,
    ) -> Result<(ResponseApdu, CardHandshake), Scp03Error> {
        if command.cla != 0x80 {
            return Err(Scp03Error::UnsupportedClass(command.cla));
        }
        if !command.is(Ins::InitializeUpdate) {
            return Err(Scp03Error::UnexpectedCommand(command.ins));
        }
        if command.p1 != 0 && command.p1 != self.key_version {
            return Err(Scp03Error::KeyVersionMismatch {
                requested: command.p1,
                card: self.key_version,
            });
        }
        if command.p2 != 0 {
            return Err(Scp03Error::WrongParameters(command.p1, command.p2));
        }
        let host_challenge: [u8; 8] = command
            .data
            .as_slice()
            .try_into()
            .map_err(|_| Scp03Error::WrongLength(command.data.len()))?;

        let i = self.i();
        let (card_challenge, sequence) = match &mut self.challenge {
            Challenge::Random => {
                let mut challenge = [0u8; 8];
                rng.fill_bytes(&mut challenge);
                (challenge, None)
            }
            Challenge::PseudoRandom { aid, next } => {
                if *next > MAX_SEQUENCE_COUNTER {
                    return Err(Scp03Error::CounterExhausted);
                }
                let [_, a, b, c] = next.to_be_bytes();
                let challenge = crypto::pseudo_random_challenge(&self.keys.enc, [a, b, c], aid);
                *next += 1;
                (challenge, Some([a, b, c]))
            }
        };

        let mut context = [0u8; 16];
        let (host_half, card_half) = context.split_at_mut(8);
        host_half.copy_from_slice(&host_challenge);
        card_half.copy_from_slice(&card_challenge);
        let keys = SessionKeys::derive(&self.keys, &context);
        let card_cryptogram = crypto::cryptogram(&keys.mac, constant::CARD_CRYPTOGRAM, &context);
        let host_cryptogram = crypto::cryptogram(&keys.mac, constant::HOST_CRYPTOGRAM, &context);

        let mut data = Vec::with_capacity(32);
        data.extend_from_slice(&self.key_diversification_data);
        data.extend_from_slice(&[self.key_version, SCP_ID, i]);
        data.extend_from_slice(&card_challenge);
        data.extend_from_slice(&card_cryptogram);
        if let Some(sequence) = sequence {
            data.extend_from_slice(&sequence);
        }
        let handshake = CardHandshake {
            keys,
            host_cryptogram,
            i,
            minimum: self.minimum,
        };
        Ok((ResponseApdu::new(data, StatusWord::SUCCESS), handshake))
    }
}

/// After INITIALIZE UPDATE, waiting for EXTERNAL AUTHENTICATE. Used once.
pub struct CardHandshake {
    keys: SessionKeys,
    host_cryptogram: [u8; 8],
    i: u8,
    minimum: SecurityLevel,
}

impl std::fmt::Debug for CardHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardHandshake")
            .field("minimum", &self.minimum)
            .finish_non_exhaustive()
    }
}

impl CardHandshake {
    /// Verifies the host cryptogram and the C-MAC of EXTERNAL AUTHENTICATE (both compared
    /// in constant time) and opens the session at the level in P1.
    pub fn external_authenticate(
        self,
        command: &CommandApdu,
    ) -> Result<(ResponseApdu, CardSession), Scp03Error> {
        if command.cla != 0x84 {
            return Err(Scp03Error::UnsupportedClass(command.cla));
        }
        if !command.is(Ins::ExternalAuthenticate) {
            return Err(Scp03Error::UnexpectedCommand(command.ins));
        }
        let level = SecurityLevel::from_byte(command.p1)?;
        if !level.allowed_by(self.i) || !level.covers(self.minimum) {
            return Err(Scp03Error::UnsupportedLevel(command.p1));
        }
        if command.p2 != 0 {
            return Err(Scp03Error::WrongParameters(command.p1, command.p2));
        }
        let (cryptogram, mac) = match command.data.split_first_chunk::<8>() {
            Some((cryptogram, mac)) if mac.len() == MAC_LEN => (cryptogram, mac),
            _ => return Err(Scp03Error::WrongLength(command.data.len())),
        };
        let mut channel = Channel::new(self.keys, level);
        let header = [command.cla, command.ins, command.p1, command.p2];
        let expected_mac = channel.command_mac(header, cryptogram);
        let cryptogram_ok = self.host_cryptogram.ct_eq(cryptogram);
        let mac_ok = expected_mac.ct_eq(mac);
        if !bool::from(cryptogram_ok) {
            return Err(Scp03Error::BadCryptogram);
        }
        if !bool::from(mac_ok) {
            return Err(Scp03Error::BadMac);
        }
        let session = CardSession {
            channel,
            pending: None,
        };
        Ok((ResponseApdu::status(StatusWord::SUCCESS), session))
    }
}

/// An authenticated session, card side.
pub struct CardSession {
    pub(super) channel: Channel,
    pending: Option<Exchange>,
}

impl std::fmt::Debug for CardSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSession")
            .field("level", &self.channel.level())
            .field("open", &self.channel.is_open())
            .finish_non_exhaustive()
    }
}

impl CardSession {
    /// Checks the C-MAC (against the chaining value, so a replayed or reordered command
    /// fails) and decrypts the data. Any failure closes the session.
    pub fn unwrap_command(&mut self, command: CommandApdu) -> Result<CommandApdu, Scp03Error> {
        self.pending = None;
        let (plain, exchange) = self.channel.open_command(command)?;
        self.pending = Some(exchange);
        Ok(plain)
    }

    /// Protects the response to the command just unwrapped (R-MAC, R-ENCRYPTION as the
    /// level says; error status words go bare). The plaintext is wiped.
    pub fn wrap_response(&mut self, response: ResponseApdu) -> Result<ResponseApdu, Scp03Error> {
        self.channel.ensure_open()?;
        let Some(exchange) = self.pending.take() else {
            return Err(Scp03Error::UnexpectedResponse);
        };
        self.channel.protect_response(&exchange, response)
    }

    pub fn security_level(&self) -> SecurityLevel {
        self.channel.level()
    }

    /// False once any failure has closed the session.
    pub fn is_open(&self) -> bool {
        self.channel.is_open()
    }
}
