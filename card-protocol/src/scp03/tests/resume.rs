//! A host that keeps nothing but its challenge, the card's answer and the sealed commands
//! between round trips (the server across page requests) checks the card's answers as
//! well as one that kept the session in memory.

use super::*;

const CHALLENGE: [u8; 8] = [0x5A; 8];

fn handshake() -> HostHandshake {
    HostHandshake::new(test_keys(), 0x30, CHALLENGE)
}

/// Opens a channel, seals two commands and has the card answer them; returns the card's
/// answer to INITIALIZE UPDATE, the sealed commands (EXTERNAL AUTHENTICATE first) and the
/// card's answers to them.
fn round_trip() -> (ResponseApdu, Vec<CommandApdu>, Vec<ResponseApdu>) {
    let mut card = CardScp03::new(test_keys(), 0x30, KDD);
    let (iu_answer, card_handshake) = card
        .initialize_update(&handshake().initialize_update(), &mut OsRng)
        .unwrap();
    let (external_authenticate, mut host) = handshake()
        .authenticate(&iu_answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    let (ea_answer, mut card) = card_handshake
        .external_authenticate(&external_authenticate)
        .unwrap();
    let commands = [
        CommandApdu::new(0x00, Ins::ResetRetryCounter, 0x00, 0x80)
            .with_data(b"12345678ABCDEFGH".to_vec()),
        CommandApdu::new(0x00, Ins::ChangeReferenceData, 0x00, 0x81)
            .with_data(b"1234567887654321".to_vec()),
    ];
    let mut sealed = vec![external_authenticate];
    let mut answers = vec![ea_answer];
    for (command, sw) in commands.into_iter().zip([0x9000, 0x63C2]) {
        let wrapped = host.wrap(command).unwrap();
        card.unwrap_command(wrapped.clone()).unwrap();
        answers.push(
            card.wrap_response(ResponseApdu::status(StatusWord(sw)))
                .unwrap(),
        );
        sealed.push(wrapped);
    }
    (iu_answer, sealed, answers)
}

#[test]
fn card_3_scp03_a_resumed_host_session_checks_the_cards_answers() {
    let (iu_answer, sealed, answers) = round_trip();
    let mut host = HostSession::resume(
        handshake(),
        &iu_answer,
        SecurityLevel::CMacCDecRMacREnc,
        &sealed,
    )
    .unwrap();
    host.confirm_external_authenticate(&answers[0]).unwrap();
    assert_eq!(
        host.unwrap(answers[1].clone()).unwrap().sw,
        StatusWord::SUCCESS
    );
    assert_eq!(
        host.unwrap(answers[2].clone()).unwrap().sw,
        StatusWord(0x63C2)
    );
}

#[test]
fn card_3_scp03_a_resumed_session_refuses_forged_and_reordered_answers() {
    let (iu_answer, sealed, answers) = round_trip();
    let resume = || {
        let mut host = HostSession::resume(
            handshake(),
            &iu_answer,
            SecurityLevel::CMacCDecRMacREnc,
            &sealed,
        )
        .unwrap();
        host.confirm_external_authenticate(&answers[0]).unwrap();
        host
    };
    // A bare 9000 where the card MACs its answer.
    let mut host = resume();
    assert_eq!(
        host.unwrap(ResponseApdu::status(StatusWord::SUCCESS)),
        Err(Scp03Error::WrongLength(0))
    );
    // The second answer in the first one's place.
    let mut host = resume();
    assert_eq!(host.unwrap(answers[2].clone()), Err(Scp03Error::BadMac));
    // The same answers from another session (fresh card challenge).
    let (_, _, other) = round_trip();
    let mut host = resume();
    assert_eq!(host.unwrap(other[1].clone()), Err(Scp03Error::BadMac));
}

#[test]
fn card_3_scp03_resume_refuses_commands_this_session_did_not_send() {
    let (iu_answer, sealed, _) = round_trip();
    let (_, other, _) = round_trip();
    let level = SecurityLevel::CMacCDecRMacREnc;
    let resume = |sealed: &[CommandApdu]| {
        HostSession::resume(handshake(), &iu_answer, level, sealed).map(|_| ())
    };
    assert_eq!(resume(&[]), Err(Scp03Error::NotThisSession));
    // Another session's EXTERNAL AUTHENTICATE, or its commands.
    assert_eq!(resume(&other), Err(Scp03Error::NotThisSession));
    let mixed = [sealed[0].clone(), other[1].clone()];
    assert_eq!(resume(&mixed), Err(Scp03Error::NotThisSession));
    // Commands reordered, or one dropped from the middle.
    let reordered = [sealed[0].clone(), sealed[2].clone(), sealed[1].clone()];
    assert_eq!(resume(&reordered), Err(Scp03Error::NotThisSession));
    // A plain command.
    let plain = [
        sealed[0].clone(),
        CommandApdu::new(0x00, Ins::Select, 0x04, 0x00),
    ];
    assert_eq!(resume(&plain), Err(Scp03Error::NotThisSession));
    // A different challenge than the one the card answered.
    let other_host = HostHandshake::new(test_keys(), 0x30, [0xA5; 8]);
    assert_eq!(
        HostSession::resume(other_host, &iu_answer, level, &sealed).map(|_| ()),
        Err(Scp03Error::BadCryptogram)
    );
}
