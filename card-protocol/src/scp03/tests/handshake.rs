//! The handshake's refusals: wrong keys, wrong cryptograms, malformed INITIALIZE UPDATE
//! and EXTERNAL AUTHENTICATE, levels a card will not accept; and the static keys.

use super::*;

#[test]
fn card_3_scp03_wrong_static_keys_fail_the_card_cryptogram() {
    let other = StaticKeys::new(&[0x11; 16], &[0x23; 16], &[0x33; 16]).unwrap();
    let refused = open_with(other, test_keys(), SecurityLevel::CMacCDecRMacREnc);
    assert_eq!(refused.err(), Some(Scp03Error::BadCryptogram));
}

fn card_handshake() -> (HostHandshake, CardHandshake, ResponseApdu) {
    let mut card = CardScp03::new(test_keys(), 0x30, KDD);
    let host = HostHandshake::random(test_keys(), 0x30, &mut OsRng);
    let (answer, handshake) = card
        .initialize_update(&host.initialize_update(), &mut OsRng)
        .unwrap();
    (host, handshake, answer)
}

#[test]
fn card_3_scp03_wrong_host_cryptogram_is_refused_by_the_card() {
    let (host, handshake, answer) = card_handshake();
    let (mut ext_auth, _) = host
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    ext_auth.data[0] ^= 0x01;
    let refused = handshake.external_authenticate(&ext_auth).map(|_| ());
    assert_eq!(refused, Err(Scp03Error::BadCryptogram));
    assert_eq!(Scp03Error::BadCryptogram.status_word(), StatusWord(0x6300));

    let (host, handshake, answer) = card_handshake();
    let (mut ext_auth, _) = host
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    ext_auth.data[15] ^= 0x01;
    let refused = handshake.external_authenticate(&ext_auth).map(|_| ());
    assert_eq!(refused, Err(Scp03Error::BadMac));
}

#[test]
fn card_3_scp03_card_refuses_a_level_below_its_minimum() {
    let (host, handshake, answer) = card_handshake();
    let (ext_auth, mut host) = host.authenticate(&answer, SecurityLevel::CMacCDec).unwrap();
    let refused = handshake.external_authenticate(&ext_auth).map(|_| ());
    assert_eq!(refused, Err(Scp03Error::UnsupportedLevel(0x03)));
    let answer = ResponseApdu::status(Scp03Error::UnsupportedLevel(3).status_word());
    assert_eq!(
        host.confirm_external_authenticate(&answer),
        Err(Scp03Error::Refused(StatusWord::INCORRECT_P1P2))
    );
    assert_eq!(host.unwrap(ok(vec![])), Err(Scp03Error::SessionClosed));
}

#[test]
fn card_3_scp03_host_refuses_unwrap_before_external_authenticate_is_confirmed() {
    let (host, _, answer) = card_handshake();
    let (_, mut host) = host
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    host.wrap(CommandApdu::raw(0, 0xCA, 0, 0)).unwrap();
    assert_eq!(
        host.unwrap(ok(vec![0; 8])),
        Err(Scp03Error::NotAuthenticated)
    );
}

#[test]
fn card_3_scp03_pseudo_random_challenges_never_repeat() {
    let mut card = CardScp03::new(test_keys(), 0x30, KDD)
        .with_pseudo_random_challenge(&hex("A000000151000000"), 7);
    let host = HostHandshake::new(test_keys(), 0x30, [0; 8]);
    let (first, _) = card
        .initialize_update(&host.initialize_update(), &mut OsRng)
        .unwrap();
    let (second, _) = card
        .initialize_update(&host.initialize_update(), &mut OsRng)
        .unwrap();
    assert_ne!(first.data[13..21], second.data[13..21]);
    assert_eq!(card.sequence_counter(), Some(9));
    let (_, session) = host
        .authenticate(&second, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    assert_eq!(session.sequence_counter(), Some(8));
    assert_eq!(session.key_diversification_data(), &KDD);
}

#[test]
fn card_3_scp03_host_refuses_malformed_initialize_update_answers() {
    let (_, _, answer) = card_handshake();
    let level = SecurityLevel::CMacCDecRMacREnc;
    let fresh = || HostHandshake::random(test_keys(), 0x30, &mut OsRng);
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut data = answer.data.clone();
        edit(&mut data);
        fresh().authenticate(&ok(data), level).map(|_| ()).err()
    };
    assert_eq!(with(&|d| d.truncate(28)), Some(Scp03Error::WrongLength(28)));
    assert_eq!(with(&|d| d.push(0)), Some(Scp03Error::WrongLength(30)));
    assert_eq!(with(&|d| d[11] = 0x02), Some(Scp03Error::NotScp03(0x02)));
    assert_eq!(
        with(&|d| d[12] = 0x61),
        Some(Scp03Error::UnsupportedParameter(0x61))
    );
    assert_eq!(
        with(&|d| d[12] = 0x40),
        Some(Scp03Error::UnsupportedParameter(0x40))
    );
    assert_eq!(
        with(&|d| d[12] = 0x20),
        Some(Scp03Error::UnsupportedLevel(0x33))
    );
    assert_eq!(with(&|d| d[12] = 0x70), Some(Scp03Error::WrongLength(29)));
    assert_eq!(
        with(&|d| d[10] = 0x31),
        Some(Scp03Error::KeyVersionMismatch {
            requested: 0x30,
            card: 0x31
        })
    );
    assert_eq!(with(&|d| d[25] ^= 1), Some(Scp03Error::BadCryptogram));
    let refused = fresh().authenticate(&ResponseApdu::status(StatusWord(0x6A88)), level);
    assert_eq!(refused.err(), Some(Scp03Error::Refused(StatusWord(0x6A88))));
}

#[test]
fn card_3_scp03_card_refuses_malformed_handshake_commands() {
    let mut card = CardScp03::new(test_keys(), 0x30, KDD);
    let mut refuse = |c: CommandApdu| card.initialize_update(&c, &mut OsRng).map(|_| ()).err();
    let good = CommandApdu::new(0x80, Ins::InitializeUpdate, 0x30, 0).with_data(vec![0; 8]);
    assert_eq!(
        refuse(CommandApdu {
            cla: 0x81,
            ..good.clone()
        }),
        Some(Scp03Error::UnsupportedClass(0x81))
    );
    assert_eq!(
        refuse(CommandApdu {
            ins: 0x52,
            ..good.clone()
        }),
        Some(Scp03Error::UnexpectedCommand(0x52))
    );
    assert_eq!(
        refuse(CommandApdu {
            p1: 0x31,
            ..good.clone()
        }),
        Some(Scp03Error::KeyVersionMismatch {
            requested: 0x31,
            card: 0x30
        })
    );
    assert_eq!(
        refuse(CommandApdu {
            p2: 1,
            ..good.clone()
        }),
        Some(Scp03Error::WrongParameters(0x30, 1))
    );
    assert_eq!(
        refuse(good.clone().with_data(vec![0; 16])),
        Some(Scp03Error::WrongLength(16))
    );
    assert_eq!(refuse(CommandApdu { p1: 0, ..good }), None);

    let (host, handshake, answer) = card_handshake();
    let (ext_auth, _) = host
        .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
        .unwrap();
    let short = ext_auth.clone().with_data(vec![0; 15]);
    assert_eq!(
        handshake.external_authenticate(&short).err(),
        Some(Scp03Error::WrongLength(15))
    );
    let (_, handshake, _) = card_handshake();
    let bad_level = CommandApdu {
        p1: 0x07,
        ..ext_auth
    };
    assert_eq!(
        handshake.external_authenticate(&bad_level).err(),
        Some(Scp03Error::UnsupportedLevel(0x07))
    );
}

#[test]
fn card_3_scp03_static_keys_are_checked_and_never_printed() {
    assert_eq!(
        StaticKeys::new(&[1; 15], &[2; 16], &[3; 16]).err(),
        Some(Scp03Error::KeyLength(15))
    );
    assert_eq!(
        StaticKeys::new(&[1; 16], &[2; 32], &[3; 16]).err(),
        Some(Scp03Error::KeyLength(32))
    );
    assert_eq!(
        StaticKeys::new(&[1; 24], &[2; 24], &[3; 24])
            .unwrap()
            .key_len(),
        24
    );
    let keys = StaticKeys::new(&[0xAB; 16], &[0xCD; 16], &[0xEF; 16]).unwrap();
    assert_eq!(keys.dek(), &[0xEF; 16]);
    let card = CardScp03::new(keys.clone(), 0x30, KDD);
    let shown = format!(
        "{keys:?} {:?} {card:?}",
        HostHandshake::new(keys.clone(), 0, [0; 8])
    );
    // 0xAB, 0xCD, 0xEF as Debug of a byte array would show them.
    for leak in ["171", "205", "239"] {
        assert!(!shown.contains(leak), "{leak} in {shown}");
    }
    assert!(shown.contains("StaticKeys(AES-128, redacted)"));
    let (host, card) = open(SecurityLevel::CMacCDecRMacREnc);
    assert!(!format!("{host:?} {card:?}").contains("keys"));
}

#[test]
fn card_3_scp03_static_keys_round_trip_through_bytes() {
    let keys = StaticKeys::new(&[1; 16], &[2; 16], &[3; 16]).unwrap();
    let bytes = keys.to_bytes();
    assert_eq!(bytes.len(), 48);
    let back = StaticKeys::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes().as_slice(), bytes.as_slice());
    assert!(StaticKeys::from_bytes(&[0; 47]).is_err());
    assert!(StaticKeys::from_bytes(&[0; 30]).is_err());
}
