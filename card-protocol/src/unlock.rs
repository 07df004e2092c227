//! The unlock in the card's language, written once (CARD-3, UNL-7): how the server opens a
//! secure channel to the card, the sealed script it sends through it — RESET RETRY
//! COUNTER with the card's PUK to a one-time PIN, then CHANGE REFERENCE DATA to the next
//! PUK — and what the card's answers mean. Only answers that carry the card's R-MAC for
//! this very channel count: a page (or anyone between) cannot report an outcome the card
//! did not give. The server, the virtual card's tests and the bridge's tests all use this
//! one description; nobody else spells out these commands or judges their answers.
//!
//! Two round trips through the page and the bridge, because the card's challenge is only
//! known after the first:
//! 1. [`opening`]: INITIALIZE UPDATE with a fresh host challenge (the bridge selects PIV
//!    and checks the card first).
//! 2. [`sealed_script`]: EXTERNAL AUTHENTICATE at level `33`, then the two commands,
//!    encrypted and MACed. [`judge`] rebuilds the session from what the server kept (its
//!    challenge, the card's first answer and these sealed commands: no session key is
//!    stored) and reads the card's answers.

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::pin::{Pin, Puk};
use crate::piv;
use crate::scp03::{HostHandshake, HostSession, Scp03Error, SecurityLevel};
use crate::sw::StatusWord;

/// C-MAC, C-DECRYPTION, R-MAC and R-ENCRYPTION: the PUKs travel encrypted and every
/// answer the server judges is MACed.
pub const LEVEL: SecurityLevel = SecurityLevel::CMacCDecRMacREnc;

/// The two admin commands, in order, before sealing.
pub fn commands(puk: &Puk, one_time_pin: &Pin, next_puk: &Puk) -> [CommandApdu; 2] {
    [
        piv::reset_retry_counter(puk, one_time_pin),
        piv::change_puk(puk, next_puk),
    ]
}

/// Round trip 1: the channel's opening.
pub fn opening(handshake: &HostHandshake) -> Vec<CommandApdu> {
    vec![handshake.initialize_update()]
}

/// Round trip 2: checks the card's answer to [`opening`] (its cryptogram proves it holds
/// the keys) and returns EXTERNAL AUTHENTICATE followed by the sealed commands.
pub fn sealed_script(
    handshake: HostHandshake,
    card_answers: &[ResponseApdu],
    puk: &Puk,
    one_time_pin: &Pin,
    next_puk: &Puk,
) -> Result<Vec<CommandApdu>, Scp03Error> {
    let [answer] = card_answers else {
        return Err(Scp03Error::UnexpectedResponse);
    };
    let (external_authenticate, mut session) = handshake.authenticate(answer, LEVEL)?;
    let mut script = vec![external_authenticate];
    for command in commands(puk, one_time_pin, next_puk) {
        script.push(session.wrap(command)?);
    }
    Ok(script)
}

/// What the card's answers to [`sealed_script`] say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// PIN reset and PUK rotated: the card now has the next PUK.
    Done,
    /// PIN reset, and the card refused the PUK change: it keeps the old PUK.
    ResetOnlyPukKept,
    /// PIN reset; whether the PUK changed is not known (no authentic answer to it).
    ResetPukUnknown,
    /// The card refused the PUK (a MACed `63Cx`): it must have a PUK sent earlier.
    WrongPuk,
    /// No authentic answer to the reset: nothing is known to have changed.
    Unknown,
}

/// What the server kept between the round trips, to judge the answers with.
#[derive(Debug)]
pub struct Sent<'a> {
    /// The handshake with the same keys and host challenge as the opening.
    pub handshake: HostHandshake,
    /// The card's answer to the opening.
    pub card_answer: &'a ResponseApdu,
    /// What [`sealed_script`] returned.
    pub script: &'a [CommandApdu],
}

/// Judges the card's answers (as relayed, raw) to the sealed script. Answers that are not
/// MACed for this channel count as missing; so does anything after the first of them.
pub fn judge(sent: Sent<'_>, answers: &[ResponseApdu]) -> Outcome {
    let Ok(mut session) = HostSession::resume(sent.handshake, sent.card_answer, LEVEL, sent.script)
    else {
        return Outcome::Unknown;
    };
    let mut answers = answers.iter().cloned();
    let confirmed = answers
        .next()
        .is_some_and(|answer| session.confirm_external_authenticate(&answer).is_ok());
    if !confirmed {
        return Outcome::Unknown;
    }
    // Error status words travel without an R-MAC (Amendment D §6.2.5), so only success
    // and the `63Cx` warning are authentic; anything else is as good as no answer.
    let mut authentic = || -> Option<StatusWord> {
        let answer = session.unwrap(answers.next()?).ok()?;
        (answer.sw.is_success() || answer.sw.sw1() == 0x63).then_some(answer.sw)
    };
    match authentic() {
        Some(sw) if sw.is_success() => match authentic() {
            Some(sw) if sw.is_success() => Outcome::Done,
            Some(_) => Outcome::ResetOnlyPukKept,
            None => Outcome::ResetPukUnknown,
        },
        Some(_) => Outcome::WrongPuk,
        None => Outcome::Unknown,
    }
}

#[cfg(test)]
mod tests;
