//! CARD-3 tests of the SCP03 channel: published known-answer vectors, host↔card round
//! trips in process, refusals, and property tests.

use super::*;
use crate::apdu::{CommandApdu, ResponseApdu};
use crate::ins::Ins;
use crate::sw::StatusWord;
use rand_core::{CryptoRng, OsRng, RngCore};

mod handshake;
mod props;
mod resume;
mod session;
mod vectors;

pub(super) fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

pub(super) fn cmd(s: &str) -> CommandApdu {
    CommandApdu::parse(&hex(s)).unwrap()
}

pub(super) fn ok(data: Vec<u8>) -> ResponseApdu {
    ResponseApdu::new(data, StatusWord::SUCCESS)
}

/// Hands out fixed bytes, so a "random" card challenge can be a published one.
pub(super) struct FixedRng(pub Vec<u8>);

impl RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_be_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_be_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let take = dest.len().min(self.0.len());
        dest[..take].copy_from_slice(&self.0[..take]);
        self.0.drain(..take);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for FixedRng {}

pub(super) fn test_keys() -> StaticKeys {
    StaticKeys::new(&[0x11; 16], &[0x22; 16], &[0x33; 16]).unwrap()
}

pub(super) const KDD: [u8; 10] = [0x0A; 10];

/// Both ends in process, through INITIALIZE UPDATE and EXTERNAL AUTHENTICATE at `level`.
pub(super) fn open(level: SecurityLevel) -> (HostSession, CardSession) {
    open_with(test_keys(), test_keys(), level).unwrap()
}

pub(super) fn open_with(
    host_keys: StaticKeys,
    card_keys: StaticKeys,
    level: SecurityLevel,
) -> Result<(HostSession, CardSession), Scp03Error> {
    let mut card = CardScp03::new(card_keys, 0x30, KDD).with_minimum_level(SecurityLevel::CMac);
    let host = HostHandshake::random(host_keys, 0x30, &mut OsRng);
    let (answer, handshake) = card.initialize_update(&host.initialize_update(), &mut OsRng)?;
    let (external_authenticate, mut host) = host.authenticate(&answer, level)?;
    let (answer, card) = handshake.external_authenticate(&external_authenticate)?;
    host.confirm_external_authenticate(&answer)?;
    Ok((host, card))
}

pub(super) const LEVELS: [SecurityLevel; 5] = [
    SecurityLevel::CMac,
    SecurityLevel::CMacCDec,
    SecurityLevel::CMacRMac,
    SecurityLevel::CMacCDecRMac,
    SecurityLevel::CMacCDecRMacREnc,
];
