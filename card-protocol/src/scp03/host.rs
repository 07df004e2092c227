//! The off-card entity's side (our server): INITIALIZE UPDATE, checking the card's
//! cryptogram, EXTERNAL AUTHENTICATE, then wrapping commands and unwrapping responses.
//!
//! Usage: `HostHandshake::random` → send [`HostHandshake::initialize_update`] →
//! [`HostHandshake::authenticate`] with the card's answer → send the EXTERNAL AUTHENTICATE
//! it returns → [`HostSession::confirm_external_authenticate`] with the card's answer.
//! Commands may be wrapped before that confirmation (so a whole script can be built at
//! once); responses are unwrapped in the order their commands were wrapped.

use super::channel::{Channel, Exchange, MAC_LEN};
use super::crypto::{self, constant, SessionKeys};
use super::{Scp03Error, SecurityLevel, StaticKeys, I_PSEUDO_RANDOM, I_RENC, I_RMAC, SCP_ID};
use crate::apdu::{CommandApdu, ResponseApdu};
use crate::ins::Ins;
use crate::sw::StatusWord;
use rand_core::CryptoRngCore;
use std::collections::VecDeque;
use subtle::ConstantTimeEq;

/// Before the card has answered INITIALIZE UPDATE.
#[derive(Debug)]
pub struct HostHandshake {
    keys: StaticKeys,
    key_version: u8,
    host_challenge: [u8; 8],
}

impl HostHandshake {
    /// `key_version` 0 lets the card pick its first available key set.
    pub fn new(keys: StaticKeys, key_version: u8, host_challenge: [u8; 8]) -> Self {
        Self {
            keys,
            key_version,
            host_challenge,
        }
    }

    /// With a fresh host challenge from `rng`.
    pub fn random<R: CryptoRngCore>(keys: StaticKeys, key_version: u8, rng: &mut R) -> Self {
        let mut host_challenge = [0u8; 8];
        rng.fill_bytes(&mut host_challenge);
        Self::new(keys, key_version, host_challenge)
    }

    /// `80 50 <key version> 00 08 <host challenge> 00`.
    pub fn initialize_update(&self) -> CommandApdu {
        CommandApdu::new(0x80, Ins::InitializeUpdate, self.key_version, 0)
            .with_data(self.host_challenge.to_vec())
            .with_le(256)
    }

    /// Checks the card's answer to INITIALIZE UPDATE (its cryptogram proves it holds the
    /// keys) and returns EXTERNAL AUTHENTICATE for `level` and the session.
    pub fn authenticate(
        self,
        response: &ResponseApdu,
        level: SecurityLevel,
    ) -> Result<(CommandApdu, HostSession), Scp03Error> {
        if !response.sw.is_success() {
            return Err(Scp03Error::Refused(response.sw));
        }
        let card = CardAnswer::parse(&response.data)?;
        if self.key_version != 0 && card.key_version != self.key_version {
            return Err(Scp03Error::KeyVersionMismatch {
                requested: self.key_version,
                card: card.key_version,
            });
        }
        if !level.allowed_by(card.i) {
            return Err(Scp03Error::UnsupportedLevel(level.byte()));
        }

        let mut context = [0u8; 16];
        let (host_half, card_half) = context.split_at_mut(8);
        host_half.copy_from_slice(&self.host_challenge);
        card_half.copy_from_slice(&card.challenge);
        let keys = SessionKeys::derive(&self.keys, &context);
        let expected = crypto::cryptogram(&keys.mac, constant::CARD_CRYPTOGRAM, &context);
        if !bool::from(expected.ct_eq(&card.cryptogram)) {
            return Err(Scp03Error::BadCryptogram);
        }
        let host_cryptogram = crypto::cryptogram(&keys.mac, constant::HOST_CRYPTOGRAM, &context);

        let mut channel = Channel::new(keys, level);
        let mut command = CommandApdu::new(0x84, Ins::ExternalAuthenticate, level.byte(), 0);
        let header = [command.cla, command.ins, command.p1, command.p2];
        let mac = channel.command_mac(header, &host_cryptogram);
        let mut data = Vec::with_capacity(8 + MAC_LEN);
        data.extend_from_slice(&host_cryptogram);
        data.extend_from_slice(&mac);
        command.data = data;
        let session = HostSession {
            channel,
            confirmed: false,
            pending: VecDeque::new(),
            key_diversification_data: card.key_diversification_data,
            key_version: card.key_version,
            sequence_counter: card.sequence_counter,
        };
        Ok((command, session))
    }
}

/// INITIALIZE UPDATE's response data (Amendment D §7.1.1.6, S8 mode).
struct CardAnswer {
    key_diversification_data: [u8; 10],
    key_version: u8,
    i: u8,
    challenge: [u8; 8],
    cryptogram: [u8; 8],
    sequence_counter: Option<u32>,
}

impl CardAnswer {
    fn parse(data: &[u8]) -> Result<Self, Scp03Error> {
        let short = || Scp03Error::WrongLength(data.len());
        let (kdd, rest) = data.split_first_chunk::<10>().ok_or_else(short)?;
        let (&[key_version, scp, i], rest) = rest.split_first_chunk::<3>().ok_or_else(short)?;
        let (challenge, rest) = rest.split_first_chunk::<8>().ok_or_else(short)?;
        let (cryptogram, rest) = rest.split_first_chunk::<8>().ok_or_else(short)?;
        if scp != SCP_ID {
            return Err(Scp03Error::NotScp03(scp));
        }
        // Only S8 mode; R-ENC support needs R-MAC support.
        if i & !(I_PSEUDO_RANDOM | I_RMAC | I_RENC) != 0 || i & (I_RMAC | I_RENC) == I_RENC {
            return Err(Scp03Error::UnsupportedParameter(i));
        }
        let sequence_counter = match (i & I_PSEUDO_RANDOM != 0, rest) {
            (true, &[a, b, c]) => Some(u32::from_be_bytes([0, a, b, c])),
            (false, []) => None,
            _ => return Err(short()),
        };
        Ok(Self {
            key_diversification_data: *kdd,
            key_version,
            i,
            challenge: *challenge,
            cryptogram: *cryptogram,
            sequence_counter,
        })
    }
}

/// An authenticated session, host side.
pub struct HostSession {
    pub(super) channel: Channel,
    confirmed: bool,
    pending: VecDeque<Exchange>,
    key_diversification_data: [u8; 10],
    key_version: u8,
    sequence_counter: Option<u32>,
}

impl std::fmt::Debug for HostSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSession")
            .field("level", &self.channel.level())
            .field("open", &self.channel.is_open())
            .field("confirmed", &self.confirmed)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl HostSession {
    /// The session that sent `sealed` (its EXTERNAL AUTHENTICATE first, then the commands
    /// it wrapped), rebuilt from what a stateless host keeps between round trips: the
    /// static keys, its host challenge and the card's answer to INITIALIZE UPDATE. No
    /// session key is stored anywhere; commands that this session did not send are
    /// refused ([`Scp03Error::NotThisSession`]). Responses are then unwrapped as usual,
    /// starting with [`HostSession::confirm_external_authenticate`].
    pub fn resume(
        handshake: HostHandshake,
        card_answer: &ResponseApdu,
        level: SecurityLevel,
        sealed: &[CommandApdu],
    ) -> Result<HostSession, Scp03Error> {
        let (external_authenticate, mut session) = handshake.authenticate(card_answer, level)?;
        let Some((first, wrapped)) = sealed.split_first() else {
            return Err(Scp03Error::NotThisSession);
        };
        if first.to_bytes() != external_authenticate.to_bytes() {
            return Err(Scp03Error::NotThisSession);
        }
        for command in wrapped {
            let exchange = session.channel.replay_command(command)?;
            session.pending.push_back(exchange);
        }
        Ok(session)
    }

    /// The card's answer to EXTERNAL AUTHENTICATE: `9000` opens the session for responses;
    /// anything else closes it.
    pub fn confirm_external_authenticate(
        &mut self,
        response: &ResponseApdu,
    ) -> Result<(), Scp03Error> {
        self.channel.ensure_open()?;
        if response.sw != StatusWord::SUCCESS {
            return self.channel.fail(Scp03Error::Refused(response.sw));
        }
        if !response.data.is_empty() {
            return self.channel.fail(Scp03Error::UnexpectedResponse);
        }
        self.confirmed = true;
        Ok(())
    }

    /// Protects a command: C-MAC always, its data encrypted under C-DECRYPTION. The
    /// plaintext data is wiped.
    pub fn wrap(&mut self, command: CommandApdu) -> Result<CommandApdu, Scp03Error> {
        let (sealed, exchange) = self.channel.protect_command(command)?;
        self.pending.push_back(exchange);
        Ok(sealed)
    }

    /// Checks and opens the response to the oldest wrapped command not yet unwrapped.
    pub fn unwrap(&mut self, response: ResponseApdu) -> Result<ResponseApdu, Scp03Error> {
        self.channel.ensure_open()?;
        if !self.confirmed {
            return Err(Scp03Error::NotAuthenticated);
        }
        let Some(exchange) = self.pending.pop_front() else {
            return self.channel.fail(Scp03Error::UnexpectedResponse);
        };
        self.channel.open_response(&exchange, response)
    }

    pub fn security_level(&self) -> SecurityLevel {
        self.channel.level()
    }

    /// False once any failure has closed the session.
    pub fn is_open(&self) -> bool {
        self.channel.is_open()
    }

    /// Bytes 1–10 of the card's INITIALIZE UPDATE answer (card-specific key lookup).
    pub fn key_diversification_data(&self) -> &[u8; 10] {
        &self.key_diversification_data
    }

    /// The key version the card used.
    pub fn key_version(&self) -> u8 {
        self.key_version
    }

    /// The card's sequence counter, when it uses pseudo-random challenges.
    pub fn sequence_counter(&self) -> Option<u32> {
        self.sequence_counter
    }
}
