//! Host and card in process: round trips, and every refusal the channel owes CARD-3.

use super::*;

/// A PIV admin script's shapes: case 1, case 2, case 3 with a secret, case 4, long data.
fn script() -> Vec<(CommandApdu, ResponseApdu)> {
    vec![
        (
            CommandApdu::new(0x00, Ins::Verify, 0x00, 0x80),
            ResponseApdu::status(StatusWord::tries(3)),
        ),
        (
            CommandApdu::new(0x00, Ins::GetData, 0x3F, 0xFF).with_le(256),
            ok(b"CHUID and more".to_vec()),
        ),
        (
            CommandApdu::new(0x00, Ins::ResetRetryCounter, 0x00, 0x80)
                .with_data(b"12345678ABCDEFGH".to_vec()),
            ok(vec![]),
        ),
        (
            CommandApdu::new(0x00, Ins::GenerateAsymmetricKeyPair, 0x00, 0x9A)
                .with_data(hex("AC 03 80 01 11"))
                .with_le(256),
            ok(vec![0x7F; 70]),
        ),
        (
            CommandApdu::new(0x10, Ins::PutData, 0x3F, 0xFF).with_data(vec![0x53; 1200]),
            ResponseApdu::status(StatusWord(0x6A84)),
        ),
        (
            CommandApdu::raw(0x80, 0xCA, 0x00, 0x66).with_le(256),
            ok(vec![0; 16]),
        ),
    ]
}

/// Sends each command through both ends and checks what arrives is what was sent.
fn run(host: &mut HostSession, card: &mut CardSession) {
    for (command, response) in script() {
        let sealed = host.wrap(command.clone()).unwrap();
        assert_eq!(sealed.cla, command.cla | 0x04);
        if host.security_level().byte() & 0x02 != 0 && !command.data.is_empty() {
            assert!(!sealed.data.windows(4).any(|w| command.data.starts_with(w)));
        }
        let sealed = CommandApdu::parse(&sealed.to_bytes()).unwrap();
        assert_eq!(card.unwrap_command(sealed).unwrap(), command);
        let sealed = card.wrap_response(response.clone()).unwrap();
        let sealed = ResponseApdu::parse(&sealed.to_bytes()).unwrap();
        let error = !(response.sw.is_success() || matches!(response.sw.sw1(), 0x62 | 0x63));
        let expected = if error {
            ResponseApdu::status(response.sw)
        } else {
            response
        };
        assert_eq!(host.unwrap(sealed).unwrap(), expected);
    }
    assert!(host.is_open() && card.is_open());
}

#[test]
fn card_3_scp03_round_trip_over_several_commands_at_level_33() {
    let (mut host, mut card) = open(SecurityLevel::CMacCDecRMacREnc);
    run(&mut host, &mut card);
    run(&mut host, &mut card);
}

#[test]
fn card_3_scp03_every_security_level_round_trips() {
    for level in LEVELS {
        let (mut host, mut card) = open(level);
        assert_eq!(
            (host.security_level(), card.security_level()),
            (level, level)
        );
        run(&mut host, &mut card);
    }
}

#[test]
fn card_3_scp03_aes_256_keys_round_trip() {
    let keys = StaticKeys::new(&[1; 32], &[2; 32], &[3; 32]).unwrap();
    let (mut host, mut card) =
        open_with(keys.clone(), keys, SecurityLevel::CMacCDecRMacREnc).unwrap();
    run(&mut host, &mut card);
}

fn sealed_pair(level: SecurityLevel) -> (HostSession, CardSession, CommandApdu) {
    let (mut host, card) = open(level);
    let plain = CommandApdu::new(0x00, Ins::ResetRetryCounter, 0x00, 0x80)
        .with_data(b"12345678ABCDEFGH".to_vec());
    let sealed = host.wrap(plain).unwrap();
    (host, card, sealed)
}

#[test]
fn card_3_scp03_flipped_ciphertext_bit_is_refused_and_closes_the_session() {
    let (mut host, mut card, mut sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    sealed.data[3] ^= 0x01;
    assert_eq!(card.unwrap_command(sealed), Err(Scp03Error::BadMac));
    assert!(!card.is_open());
    let next = host.wrap(CommandApdu::raw(0, 0xCA, 0, 0)).unwrap();
    assert_eq!(card.unwrap_command(next), Err(Scp03Error::SessionClosed));
    assert_eq!(
        card.wrap_response(ok(vec![])),
        Err(Scp03Error::SessionClosed)
    );
}

#[test]
fn card_3_scp03_flipped_mac_bit_is_refused() {
    let (_, mut card, mut sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    let last = sealed.data.len() - 1;
    sealed.data[last] ^= 0x80;
    assert_eq!(card.unwrap_command(sealed), Err(Scp03Error::BadMac));
    assert_eq!(Scp03Error::BadMac.status_word(), StatusWord(0x6982));
}

#[test]
fn card_3_scp03_replayed_command_is_refused() {
    let (_, mut card, sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    card.unwrap_command(sealed.clone()).unwrap();
    card.wrap_response(ok(vec![])).unwrap();
    assert_eq!(card.unwrap_command(sealed), Err(Scp03Error::BadMac));
}

#[test]
fn card_3_scp03_command_from_another_session_is_refused() {
    let (_, _, sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    let (_, mut other_card, _) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    assert_eq!(other_card.unwrap_command(sealed), Err(Scp03Error::BadMac));
}

#[test]
fn card_3_scp03_response_from_an_earlier_command_is_refused() {
    let (mut host, mut card, sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
    card.unwrap_command(sealed).unwrap();
    let first = card.wrap_response(ok(b"first".to_vec())).unwrap();
    assert_eq!(host.unwrap(first.clone()).unwrap(), ok(b"first".to_vec()));
    let second = host
        .wrap(CommandApdu::new(0, Ins::GetData, 0x3F, 0xFF).with_le(256))
        .unwrap();
    card.unwrap_command(second).unwrap();
    assert_eq!(host.unwrap(first), Err(Scp03Error::BadMac));
    assert!(!host.is_open());
    assert_eq!(
        host.wrap(CommandApdu::raw(0, 0xCA, 0, 0)),
        Err(Scp03Error::SessionClosed)
    );
}

#[test]
fn card_3_scp03_tampered_response_is_refused() {
    for flip in [0usize, 20, 31] {
        let (mut host, mut card, sealed) = sealed_pair(SecurityLevel::CMacCDecRMacREnc);
        card.unwrap_command(sealed).unwrap();
        let mut response = card
            .wrap_response(ok(b"sixteen bytes!!!".to_vec()))
            .unwrap();
        assert_eq!(response.data.len(), 32 + 8);
        response.data[flip] ^= 0x04;
        assert_eq!(host.unwrap(response), Err(Scp03Error::BadMac));
    }
    // A success word turned into an error word still carries data: refused too.
    let (mut host, mut card, sealed) = sealed_pair(SecurityLevel::CMacRMac);
    card.unwrap_command(sealed).unwrap();
    let mut response = card.wrap_response(ok(vec![1, 2, 3])).unwrap();
    response.sw = StatusWord(0x6A82);
    assert_eq!(host.unwrap(response), Err(Scp03Error::UnexpectedResponse));
    // A response with nothing waiting for it.
    let (mut host, _) = open(SecurityLevel::CMacCDecRMacREnc);
    assert_eq!(
        host.unwrap(ok(vec![0; 8])),
        Err(Scp03Error::UnexpectedResponse)
    );
}

#[test]
fn card_3_scp03_plain_or_foreign_class_commands_are_refused_inside_the_session() {
    let (_, mut card) = open(SecurityLevel::CMacCDecRMacREnc);
    let plain = CommandApdu::new(0x00, Ins::ResetRetryCounter, 0x00, 0x80).with_data(vec![0; 24]);
    assert_eq!(card.unwrap_command(plain), Err(Scp03Error::NotSecured));
    assert!(!card.is_open());

    let (mut host, mut card) = open(SecurityLevel::CMacCDecRMacREnc);
    for cla in [0x01, 0x0C, 0x40, 0x84] {
        let refused = host.wrap(CommandApdu::raw(cla, 0xCA, 0, 0));
        assert_eq!(refused, Err(Scp03Error::UnsupportedClass(cla)));
    }
    let mut sealed = host.wrap(CommandApdu::raw(0x00, 0xCA, 0, 0)).unwrap();
    sealed.cla |= 0x01; // another logical channel: not this session's
    assert_eq!(
        card.unwrap_command(sealed),
        Err(Scp03Error::UnsupportedClass(0x05))
    );
}

#[test]
fn card_3_scp03_too_long_and_too_short_data_are_refused() {
    let (mut host, mut card) = open(SecurityLevel::CMacCDecRMacREnc);
    let huge = CommandApdu::new(0, Ins::PutData, 0x3F, 0xFF).with_data(vec![0; 65_520]);
    assert_eq!(host.wrap(huge), Err(Scp03Error::DataTooLong(65_520)));
    assert!(host.is_open());
    let short = CommandApdu::raw(0x04, 0xCA, 0, 0).with_data(vec![0; 7]);
    assert_eq!(card.unwrap_command(short), Err(Scp03Error::WrongLength(7)));
    assert_eq!(
        Scp03Error::WrongLength(7).status_word(),
        StatusWord::WRONG_LENGTH
    );
}

#[test]
fn card_3_scp03_counters_refuse_when_exhausted() {
    let (mut host, mut card) = open(SecurityLevel::CMacCDecRMacREnc);
    host.channel.counter = u64::MAX;
    assert_eq!(
        host.wrap(CommandApdu::raw(0, 0xCA, 0, 0)),
        Err(Scp03Error::CounterExhausted)
    );
    assert!(!host.is_open());
    card.channel.counter = u64::MAX;
    let sealed = CommandApdu::raw(0x04, 0xCA, 0, 0).with_data(vec![0; 8]);
    assert_eq!(
        card.unwrap_command(sealed),
        Err(Scp03Error::CounterExhausted)
    );

    let mut card = CardScp03::new(test_keys(), 0x30, KDD)
        .with_pseudo_random_challenge(&hex("A000000151000000"), MAX_SEQUENCE_COUNTER);
    let host = HostHandshake::random(test_keys(), 0, &mut OsRng);
    let (answer, _) = card
        .initialize_update(&host.initialize_update(), &mut OsRng)
        .unwrap();
    assert_eq!(answer.data[29..], [0xFF, 0xFF, 0xFF]);
    let refused = card
        .initialize_update(&host.initialize_update(), &mut OsRng)
        .map(|_| ());
    assert_eq!(refused, Err(Scp03Error::CounterExhausted));
}
