//! Certificate renewal in the card's language (CERT-3, CARD-3): the same GENERATE and
//! PUT DATA as issuance ([`crate::issue`]), over one SCP03 session that spans three round
//! trips through the page and the bridge, so the server keeps no session between them
//! ([`HostSession::resume`] rebuilds it from what was sent):
//! 1. [`crate::unlock::opening`]: INITIALIZE UPDATE.
//! 2. [`key_generation`]: EXTERNAL AUTHENTICATE, then GENERATE for 9A and 9E, sealed.
//!    [`new_keys`] reads the new public keys from the card's MACed answers.
//! 3. [`certificate_writes`]: PUT DATA of each new certificate, sealed on the same
//!    session. [`all_written`] judges the card's MACed answers.
//!
//! A renewal cut off after the card made its keys but before the server heard them is
//! finished by a channel that reads the keys instead of making them: [`key_reading`]
//! (GET METADATA of both slots, sealed) in round trip 2 and [`keys_read`] for its
//! answers; round trip 3 is the same.

use p256::PublicKey;

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::client::PivError;
use crate::issue::{self, KeySlot};
use crate::metadata;
use crate::scp03::{HostHandshake, HostSession, Scp03Error};
use crate::unlock::LEVEL;

/// Why a renewal's card answers could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    #[error("the secure channel: {0}")]
    Channel(#[from] Scp03Error),
    #[error("the card: {0}")]
    Card(#[from] PivError),
    #[error("the card's answers do not match what was sent")]
    Answers,
}

/// What the server kept of the channel between round trips.
#[derive(Debug)]
pub struct Kept<'a> {
    /// The handshake with the same keys and host challenge as the opening.
    pub handshake: HostHandshake,
    /// The card's answer to the opening.
    pub card_answer: &'a ResponseApdu,
    /// Every command sealed on the channel so far, EXTERNAL AUTHENTICATE first.
    pub sent: &'a [CommandApdu],
}

/// Round trip 2: checks the card's answer to the opening (its cryptogram proves it holds
/// the keys) and returns EXTERNAL AUTHENTICATE and the sealed key generation for both
/// slots, in [`KeySlot::ALL`] order.
pub fn key_generation(
    handshake: HostHandshake,
    card_answer: &ResponseApdu,
) -> Result<Vec<CommandApdu>, RenewError> {
    for_both_slots(handshake, card_answer, issue::generate_key_pair)
}

/// Round trip 2 of a channel that finishes an interrupted renewal: as [`key_generation`],
/// but GET METADATA of both slots, so the card says which keys it holds now.
pub fn key_reading(
    handshake: HostHandshake,
    card_answer: &ResponseApdu,
) -> Result<Vec<CommandApdu>, RenewError> {
    for_both_slots(handshake, card_answer, metadata::read_key)
}

fn for_both_slots(
    handshake: HostHandshake,
    card_answer: &ResponseApdu,
    command: fn(KeySlot) -> CommandApdu,
) -> Result<Vec<CommandApdu>, RenewError> {
    let (external_authenticate, mut session) = handshake.authenticate(card_answer, LEVEL)?;
    let mut sent = vec![external_authenticate];
    for slot in KeySlot::ALL {
        sent.push(session.wrap(command(slot))?);
    }
    Ok(sent)
}

/// The session that sent `kept.sent`, with EXTERNAL AUTHENTICATE confirmed by the first
/// of `answers` and the rest unwrapped in order.
fn resumed(
    kept: Kept<'_>,
    answers: &[ResponseApdu],
) -> Result<(HostSession, Vec<ResponseApdu>), RenewError> {
    let mut session = HostSession::resume(kept.handshake, kept.card_answer, LEVEL, kept.sent)?;
    let Some((confirmation, rest)) = answers.split_first() else {
        return Err(RenewError::Answers);
    };
    session.confirm_external_authenticate(confirmation)?;
    let opened = rest
        .iter()
        .map(|answer| session.unwrap(answer.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((session, opened))
}

/// The new public keys, in [`KeySlot::ALL`] order, from the card's answers to
/// [`key_generation`] (as relayed, raw).
pub fn new_keys(kept: Kept<'_>, answers: &[ResponseApdu]) -> Result<Vec<PublicKey>, RenewError> {
    keys_in(kept, answers, issue::public_key)
}

/// The keys the card holds, in [`KeySlot::ALL`] order, from its answers to
/// [`key_reading`] (as relayed, raw).
pub fn keys_read(kept: Kept<'_>, answers: &[ResponseApdu]) -> Result<Vec<PublicKey>, RenewError> {
    keys_in(kept, answers, metadata::public_key)
}

fn keys_in(
    kept: Kept<'_>,
    answers: &[ResponseApdu],
    key: fn(&ResponseApdu) -> Result<PublicKey, PivError>,
) -> Result<Vec<PublicKey>, RenewError> {
    if answers.len() != kept.sent.len() {
        return Err(RenewError::Answers);
    }
    let (_, opened) = resumed(kept, answers)?;
    Ok(opened.iter().map(key).collect::<Result<Vec<_>, _>>()?)
}

/// Round trip 3: PUT DATA of each certificate, sealed on the same session after the key
/// generation's `key_answers`; also how many commands each certificate took.
pub fn certificate_writes(
    kept: Kept<'_>,
    key_answers: &[ResponseApdu],
    certificates: &[(KeySlot, &[u8])],
) -> Result<Vec<CommandApdu>, RenewError> {
    let (mut session, _) = resumed(kept, key_answers)?;
    let mut writes = Vec::new();
    for (slot, der) in certificates {
        for part in issue::put_certificate(*slot, der)? {
            writes.push(session.wrap(part)?);
        }
    }
    Ok(writes)
}

/// Whether the card took every certificate: `kept.sent` is everything sealed (the key
/// generation and then [`certificate_writes`]), `answers` the card's raw answers to all
/// of it — only answers MACed for this channel count.
pub fn all_written(kept: Kept<'_>, answers: &[ResponseApdu]) -> Result<(), RenewError> {
    if answers.len() != kept.sent.len() {
        return Err(RenewError::Answers);
    }
    let generated = KeySlot::ALL.len() + 1;
    let (_, opened) = resumed(kept, answers)?;
    let writes = opened.get(generated - 1..).ok_or(RenewError::Answers)?;
    issue::written(writes.len(), writes)?;
    Ok(())
}
