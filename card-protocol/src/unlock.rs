//! The unlock in the card's language, written once (CARD-3, UNL-7): the admin script the
//! server builds — select PIV, RESET RETRY COUNTER with the card's PUK to a one-time PIN,
//! CHANGE REFERENCE DATA to the next PUK — and what the card's answers to it mean. The
//! server, the tests and (once the script travels sealed) the secure channel all use this
//! one description; nobody else spells out these commands or judges their status words.

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::pin::{Pin, Puk};
use crate::piv;

/// The script, in order. The bridge runs it in one card transaction and stops at the
/// first answer that is not a success.
pub fn script(puk: &Puk, one_time_pin: &Pin, next_puk: &Puk) -> [CommandApdu; 3] {
    [
        piv::select(),
        piv::reset_retry_counter(puk, one_time_pin),
        piv::change_puk(puk, next_puk),
    ]
}

/// What the card's answers to [`script`] say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// PIN reset and PUK rotated: the card now has the next PUK.
    Done,
    /// PIN reset, but the PUK change did not happen: the card keeps the old PUK.
    ResetOnlyPukKept,
    /// The PUK was refused: the card must already have a PUK sent earlier.
    WrongPuk,
    /// Nothing conclusive (card pulled, other error): nothing known changed.
    Unknown,
}

/// Judges the answers as the bridge returned them, raw (data + status word each).
pub fn judge(responses: &[&[u8]]) -> Outcome {
    let sw = |i: usize| {
        responses
            .get(i)
            .and_then(|r| ResponseApdu::parse(r).ok())
            .map(|r| r.sw)
    };
    match (sw(0), sw(1), sw(2)) {
        (Some(select), Some(reset), change) if select.is_success() && reset.is_success() => {
            match change {
                Some(change) if change.is_success() => Outcome::Done,
                Some(change) if change.tries_left().is_some() || change.is_blocked() => {
                    Outcome::ResetOnlyPukKept
                }
                _ => Outcome::Unknown,
            }
        }
        (Some(select), Some(reset), _)
            if select.is_success() && (reset.tries_left().is_some() || reset.is_blocked()) =>
        {
            Outcome::WrongPuk
        }
        _ => Outcome::Unknown,
    }
}

/// Whether every command of the script succeeded, as the page needs to know before it
/// asks the bridge for the local PIN change.
pub fn all_succeeded(responses: &[&[u8]]) -> bool {
    judge(responses) == Outcome::Done
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pin::generate_one_time_pin;
    use proptest::prelude::*;

    const OK: &[u8] = &[0x90, 0x00];
    const WRONG: &[u8] = &[0x63, 0xC2];

    #[test]
    fn card_3_the_script_resets_the_pin_with_the_puk_then_rotates_the_puk() {
        let (puk, next) = (
            Puk::parse("12345678").unwrap(),
            Puk::parse("87654321").unwrap(),
        );
        let otp = generate_one_time_pin(&mut rand::rngs::OsRng);
        let [select, reset, change] = script(&puk, &otp, &next);
        assert_eq!(select.ins, 0xA4);
        assert_eq!((reset.ins, reset.p2), (0x2C, 0x80));
        assert_eq!((change.ins, change.p2), (0x24, 0x81));
        assert_eq!(&reset.data[..8], b"12345678");
        assert_eq!(&change.data[8..], b"87654321");
    }

    #[test]
    fn card_3_unl_7_what_the_answers_mean() {
        assert_eq!(judge(&[OK, OK, OK]), Outcome::Done);
        assert_eq!(judge(&[OK, OK, WRONG]), Outcome::ResetOnlyPukKept);
        assert_eq!(judge(&[OK, WRONG]), Outcome::WrongPuk);
        assert_eq!(judge(&[OK, &[0x69, 0x83]]), Outcome::WrongPuk);
        assert_eq!(judge(&[OK, OK]), Outcome::Unknown);
        assert_eq!(judge(&[]), Outcome::Unknown);
        assert_eq!(judge(&[&[0x01]]), Outcome::Unknown);
        assert!(all_succeeded(&[OK, OK, OK]));
        assert!(!all_succeeded(&[OK, OK, WRONG]));
    }

    proptest! {
        // ALL-2: any answers from a card (or a page) are judged, never a panic; only
        // three successes mean done.
        #[test]
        fn all_2_any_answers_are_judged(answers in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..6), 0..5)) {
            let refs: Vec<&[u8]> = answers.iter().map(Vec::as_slice).collect();
            let outcome = judge(&refs);
            if outcome == Outcome::Done {
                prop_assert!(refs.len() >= 3);
            }
        }
    }
}
