#![allow(clippy::unwrap_used)]
use super::*;
use crate::ins::Ins;
use crate::scp03::{CardScp03, StaticKeys};
use proptest::prelude::*;
use rand::rngs::OsRng;

const CHALLENGE: [u8; 8] = [0x42; 8];
const OK: StatusWord = StatusWord::SUCCESS;

fn keys() -> StaticKeys {
    StaticKeys::new(&[1; 16], &[2; 16], &[3; 16]).unwrap()
}

fn handshake() -> HostHandshake {
    HostHandshake::new(keys(), 0x30, CHALLENGE)
}

fn secrets() -> (Puk, Pin, Puk) {
    (
        Puk::parse("12345678").unwrap(),
        Pin::generate_one_time(&mut OsRng),
        Puk::parse("87654321").unwrap(),
    )
}

/// The whole exchange with a card that answers the two commands with `sws`; returns
/// what the server keeps and the card's answers.
fn exchange(sws: &[StatusWord]) -> (ResponseApdu, Vec<CommandApdu>, Vec<ResponseApdu>) {
    let mut card = CardScp03::new(keys(), 0x30, [9; 10]);
    let [initialize_update] = opening(&handshake()).try_into().unwrap();
    let (card_answer, card_handshake) = card
        .initialize_update(&initialize_update, &mut OsRng)
        .unwrap();
    let (puk, otp, next) = secrets();
    let script = sealed_script(
        handshake(),
        std::slice::from_ref(&card_answer),
        &puk,
        &otp,
        &next,
    )
    .unwrap();
    let (ea_answer, mut session) = card_handshake.external_authenticate(&script[0]).unwrap();
    let mut answers = vec![ea_answer];
    for (command, sw) in script[1..].iter().zip(sws) {
        let plain = session.unwrap_command(command.clone()).unwrap();
        assert!(plain.is(Ins::ResetRetryCounter) || plain.is(Ins::ChangeReferenceData));
        answers.push(session.wrap_response(ResponseApdu::status(*sw)).unwrap());
    }
    (card_answer, script, answers)
}

fn judged(card_answer: &ResponseApdu, script: &[CommandApdu], answers: &[ResponseApdu]) -> Outcome {
    judge(
        Sent {
            handshake: handshake(),
            card_answer,
            script,
        },
        answers,
    )
}

#[test]
fn card_3_the_puks_and_one_time_pin_travel_only_encrypted() {
    let (_, script, _) = exchange(&[OK, OK]);
    let (puk, _, next) = secrets();
    assert_eq!(script.len(), 3);
    assert_eq!(
        (script[0].cla, script[0].instruction()),
        (0x84, Some(Ins::ExternalAuthenticate))
    );
    for command in &script[1..] {
        assert_eq!(command.cla, 0x04);
        for secret in [puk.as_bytes(), next.as_bytes()] {
            assert!(!command.data.windows(4).any(|w| secret.starts_with(w)));
        }
    }
}

#[test]
fn card_3_unl_7_what_the_cards_macd_answers_mean() {
    let tries = StatusWord::tries(2);
    let (answer, script, answers) = exchange(&[OK, OK]);
    assert_eq!(judged(&answer, &script, &answers), Outcome::Done);
    let (answer, script, answers) = exchange(&[OK, tries]);
    assert_eq!(
        judged(&answer, &script, &answers),
        Outcome::ResetOnlyPukKept
    );
    let (answer, script, answers) = exchange(&[tries]);
    assert_eq!(judged(&answer, &script, &answers), Outcome::WrongPuk);
    let (answer, script, answers) = exchange(&[OK]);
    assert_eq!(judged(&answer, &script, &answers), Outcome::ResetPukUnknown);
    let (answer, script, answers) = exchange(&[]);
    assert_eq!(judged(&answer, &script, &answers), Outcome::Unknown);
}

#[test]
fn card_3_forged_or_replayed_answers_count_as_no_answer() {
    let (answer, script, answers) = exchange(&[OK, OK]);
    let bare = |sw: StatusWord| ResponseApdu::status(sw);
    // What a page could claim: 9000 three times.
    let forged = [bare(OK), bare(OK), bare(OK)];
    assert_eq!(judged(&answer, &script, &forged), Outcome::Unknown);
    // A bare "wrong PUK" or "blocked" carries no MAC: it must not make the server adopt
    // or drop a PUK.
    let claims_wrong_puk = [answers[0].clone(), bare(StatusWord::tries(2))];
    assert_eq!(
        judged(&answer, &script, &claims_wrong_puk),
        Outcome::Unknown
    );
    let claims_blocked = [answers[0].clone(), bare(StatusWord::AUTH_METHOD_BLOCKED)];
    assert_eq!(judged(&answer, &script, &claims_blocked), Outcome::Unknown);
    // The reset's genuine answer, then a forged one for the PUK change.
    let half = [answers[0].clone(), answers[1].clone(), bare(OK)];
    assert_eq!(judged(&answer, &script, &half), Outcome::ResetPukUnknown);
    // Another session's genuine answers (a replay).
    let (_, _, other) = exchange(&[OK, OK]);
    assert_eq!(judged(&answer, &script, &other), Outcome::Unknown);
    // Genuine answers judged against another session's script.
    let (other_answer, other_script, _) = exchange(&[OK, OK]);
    assert_eq!(
        judged(&other_answer, &other_script, &answers),
        Outcome::Unknown
    );
}

#[test]
fn card_3_the_opening_answer_must_be_the_cards() {
    let (puk, otp, next) = secrets();
    let forged = ResponseApdu::new(vec![0; 29], OK);
    assert!(sealed_script(handshake(), &[forged], &puk, &otp, &next).is_err());
    assert!(sealed_script(handshake(), &[], &puk, &otp, &next).is_err());
}

proptest! {
    // ALL-2: any answers are judged, never a panic, and only the card's own make "done".
    #[test]
    fn all_2_any_answers_are_judged(answers in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 2..20), 0..5)) {
        let (answer, script, _) = exchange(&[OK, OK]);
        let answers: Vec<ResponseApdu> = answers
            .iter()
            .filter_map(|raw| ResponseApdu::parse(raw).ok())
            .collect();
        prop_assert_eq!(judged(&answer, &script, &answers), Outcome::Unknown);
    }
}
