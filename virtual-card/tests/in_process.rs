//! The virtual card driven through the real `PivClient` over `SharedCard`, in-process.

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use card_protocol::apdu::CommandApdu;
use card_protocol::piv::{self, PinStatus};
use card_protocol::{Ins, KeySlot, Pin, PivClient, PivError, Puk, StatusWord, TransportError};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use virtual_card::{CardState, CreateOptions, SharedCard, VirtualCard};

const GUID: [u8; 16] = [0x5A; 16];

fn options() -> CreateOptions {
    CreateOptions {
        pin: "1234".into(),
        puk: "87654321".into(),
        guid: Some(GUID),
        locked: false,
    }
}

fn client() -> (PivClient<SharedCard>, SharedCard) {
    let card = SharedCard::new(VirtualCard::create(&options()).unwrap());
    let mut client = PivClient::new(card.clone());
    client.select().unwrap();
    (client, card)
}

fn pin(s: &str) -> Pin {
    Pin::parse(s).unwrap()
}

fn puk(s: &str) -> Puk {
    Puk::parse(s).unwrap()
}

fn sw_of(client: &mut PivClient<SharedCard>, cmd: &CommandApdu) -> StatusWord {
    client.transmit(cmd).unwrap().sw
}

/// A fresh folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("vcard-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn card_1_chuid_readable_without_pin() {
    let (mut client, _) = client();
    let chuid = client.read_chuid().unwrap();
    assert_eq!(chuid.guid, GUID);
    assert_eq!(chuid.expiration.len(), 8);
}

#[test]
fn card_2_tries_count_down_63c2_63c1_then_6983() {
    let (mut client, card) = client();
    let wrong = piv::verify_pin(&pin("9999"));
    assert_eq!(sw_of(&mut client, &wrong), StatusWord(0x63C2));
    assert_eq!(sw_of(&mut client, &wrong), StatusWord(0x63C1));
    assert_eq!(sw_of(&mut client, &wrong), StatusWord(0x6983));
    // Blocked: even the right PIN is refused, and no counter goes negative.
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin(&pin("1234"))),
        StatusWord(0x6983)
    );
    assert!(matches!(
        client.verify_pin(&pin("1234")),
        Err(PivError::Blocked)
    ));
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 0);
    assert_eq!(client.pin_status().unwrap(), PinStatus::Blocked);
}

#[test]
fn card_2_right_pin_restores_tries() {
    let (mut client, card) = client();
    assert!(matches!(
        client.verify_pin(&pin("0000")),
        Err(PivError::WrongPin { tries_left: 2 })
    ));
    client.verify_pin(&pin("1234")).unwrap();
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
}

#[test]
fn card_2_malformed_pin_is_6a80_and_costs_nothing() {
    let (mut client, card) = client();
    let bad =
        CommandApdu::new(0, Ins::Verify, 0, 0x80).with_data(b"12\xFF4\xFF\xFF\xFF\xFF".to_vec());
    assert_eq!(sw_of(&mut client, &bad), StatusWord::WRONG_DATA);
    let short = CommandApdu::new(0, Ins::Verify, 0, 0x80).with_data(b"1234".to_vec());
    assert_eq!(sw_of(&mut client, &short), StatusWord::WRONG_DATA);
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
}

#[test]
fn brg_6_empty_verify_reads_tries_without_spending_one() {
    let (mut client, card) = client();
    for _ in 0..5 {
        assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
    }
    let _ = client.verify_pin(&pin("0000"));
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(2));
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(2));
    client.verify_pin(&pin("1234")).unwrap();
    assert_eq!(client.pin_status().unwrap(), PinStatus::Verified);
    // VERIFY P1=FF drops the verified state.
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin_reset()),
        StatusWord::SUCCESS
    );
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
    // So does a power cycle.
    client.verify_pin(&pin("1234")).unwrap();
    card.with_card(|c| c.reset());
    client.select().unwrap();
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
}

#[test]
fn card_2_locked_card_reports_blocked() {
    let card = VirtualCard::create(&CreateOptions {
        locked: true,
        ..options()
    })
    .unwrap();
    let mut client = PivClient::new(SharedCard::new(card));
    client.select().unwrap();
    assert_eq!(client.pin_status().unwrap(), PinStatus::Blocked);
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin_status()),
        StatusWord(0x6983)
    );
}

#[test]
fn card_1_reset_retry_counter_with_right_puk_unblocks() {
    let card = VirtualCard::create(&CreateOptions {
        locked: true,
        ..options()
    })
    .unwrap();
    let shared = SharedCard::new(card);
    let mut client = PivClient::new(shared.clone());
    client.select().unwrap();
    client
        .reset_retry_counter(&puk("87654321"), &pin("Ab3$kL9z"))
        .unwrap();
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
    assert!(shared.with_card(|c| c.pin_matches("Ab3$kL9z")));
    client.verify_pin(&pin("Ab3$kL9z")).unwrap();
}

#[test]
fn card_1_reset_retry_counter_wrong_puk_counts_down_and_blocks() {
    let (mut client, card) = client();
    let wrong = puk("00000000");
    let new = pin("5555");
    assert_eq!(
        sw_of(&mut client, &piv::reset_retry_counter(&wrong, &new)),
        StatusWord(0x63C2)
    );
    assert!(matches!(
        client.reset_retry_counter(&wrong, &new),
        Err(PivError::WrongPuk { tries_left: 1 })
    ));
    assert!(matches!(
        client.reset_retry_counter(&wrong, &new),
        Err(PivError::PukBlocked)
    ));
    // Blocked PUK refuses even the right one; the PIN is untouched.
    assert_eq!(
        sw_of(
            &mut client,
            &piv::reset_retry_counter(&puk("87654321"), &new)
        ),
        StatusWord(0x6983)
    );
    card.with_card(|c| {
        assert_eq!(c.puk_tries_left(), 0);
        assert!(c.pin_matches("1234"));
        assert_eq!(c.pin_tries_left(), 3);
    });
}

#[test]
fn card_1_change_pin() {
    let (mut client, card) = client();
    client.change_pin(&pin("1234"), &pin("new-pin")).unwrap();
    assert!(card.with_card(|c| c.pin_matches("new-pin")));
    assert!(matches!(
        client.change_pin(&pin("1234"), &pin("other")),
        Err(PivError::WrongPin { tries_left: 2 })
    ));
    client.verify_pin(&pin("new-pin")).unwrap();
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
}

#[test]
fn card_5_new_pin_may_not_repeat_the_last_five() {
    let (mut client, card) = client();
    let pins = ["1234", "aaaa", "bbbb", "cccc", "dddd", "eeee"];
    for pair in pins.windows(2) {
        client.change_pin(&pin(pair[0]), &pin(pair[1])).unwrap();
    }
    // History now: aaaa..eeee. Each is refused; 1234 (six ago) is allowed again.
    for old in ["aaaa", "bbbb", "cccc", "dddd", "eeee"] {
        let err = client.change_pin(&pin("eeee"), &pin(old)).unwrap_err();
        assert!(matches!(err, PivError::PinReused), "{old}");
        assert_eq!(err.status_word(), Some(StatusWord::PIN_REUSED), "{old}");
    }
    // A refused reuse spends no try and leaves the PIN as it was.
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
    assert!(card.with_card(|c| c.pin_matches("eeee")));
    client.change_pin(&pin("eeee"), &pin("1234")).unwrap();
    assert!(card.with_card(|c| c.pin_matches("1234")));
}

#[test]
fn unl_6_after_unlock_the_previous_pin_may_be_chosen_again() {
    let (mut client, card) = client();
    let one_time = pin("Xy7Qp2Zr");
    client
        .reset_retry_counter(&puk("87654321"), &one_time)
        .unwrap();
    client.change_pin(&one_time, &pin("1234")).unwrap();
    assert!(card.with_card(|c| c.pin_matches("1234")));
    // The exemption was for that one change only.
    let err = client.change_pin(&pin("1234"), &pin("1234")).unwrap_err();
    assert!(matches!(err, PivError::PinReused));
}

#[test]
fn card_3_change_puk() {
    let (mut client, card) = client();
    client
        .change_puk(&puk("87654321"), &puk("NewPuk99"))
        .unwrap();
    assert!(card.with_card(|c| c.puk_matches("NewPuk99")));
    assert!(matches!(
        client.change_puk(&puk("87654321"), &puk("whatever")),
        Err(PivError::WrongPuk { tries_left: 2 })
    ));
}

#[test]
fn card_6_card_auth_signature_verifies_even_when_pin_blocked() {
    let (mut client, card) = client();
    card.with_card(|c| c.lock_pin()).unwrap();
    let digest: [u8; 32] = Sha256::digest(b"server challenge").into();
    let der = client.sign_with_card_auth_key(&digest).unwrap();
    let sig = Signature::from_der(&der).unwrap();
    let public = card.with_card(|c| c.card_auth_public_key());
    let vk = VerifyingKey::from(&public);
    vk.verify_prehash(&digest, &sig).unwrap();
    let other: [u8; 32] = Sha256::digest(b"another challenge").into();
    assert!(vk.verify_prehash(&other, &sig).is_err());
    // SEC1 form is the 65-byte uncompressed point of the same key.
    let sec1 = card.with_card(|c| c.card_auth_public_key_sec1());
    assert_eq!(sec1.len(), 65);
    assert_eq!(p256::PublicKey::from_sec1_bytes(&sec1).unwrap(), public);
}

#[test]
fn card_6_only_p256_in_slot_9a_or_9e_signs() {
    let (mut client, _) = client();
    let digest = [1u8; 32];
    // 9A wants the PIN first (AUTH-1); with it, a card not yet issued has no 9A key.
    let cmd = piv::general_authenticate_sign(KeySlot::PivAuth, &digest);
    assert_eq!(sw_of(&mut client, &cmd), StatusWord(0x6982));
    client.verify_pin(&pin("1234")).unwrap();
    assert_eq!(sw_of(&mut client, &cmd), StatusWord(0x6A88));
    let mut signature_key = piv::general_authenticate_sign(KeySlot::CardAuth, &digest);
    signature_key.p2 = 0x9C; // PIV's digital signature slot, which our cards do not have
    assert_eq!(
        sw_of(&mut client, &signature_key),
        StatusWord::INCORRECT_P1P2
    );
    let mut rsa = piv::general_authenticate_sign(KeySlot::CardAuth, &digest);
    rsa.p1 = 0x07;
    assert_eq!(sw_of(&mut client, &rsa), StatusWord::INCORRECT_P1P2);
    let mut short = piv::general_authenticate_sign(KeySlot::CardAuth, &digest);
    short.data = card_protocol::tlv::encode(0x7C, &card_protocol::tlv::encode(0x81, &[1; 31]));
    assert_eq!(sw_of(&mut client, &short), StatusWord::WRONG_DATA);
}

#[test]
fn card_1_iso_errors_for_unexpected_commands() {
    let card = SharedCard::new(VirtualCard::create(&options()).unwrap());
    let mut client = PivClient::new(card.clone());
    // Before SELECT.
    assert_eq!(
        sw_of(&mut client, &piv::get_data(piv::TAG_CHUID)),
        StatusWord(0x6985)
    );
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin_status()),
        StatusWord(0x6985)
    );
    // Another application's AID: not found, and nothing selected.
    let other = CommandApdu::new(0, Ins::Select, 4, 0).with_data(vec![0xA0, 0, 0, 0, 0x62]);
    assert_eq!(sw_of(&mut client, &other), StatusWord::FILE_NOT_FOUND);
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin_status()),
        StatusWord(0x6985)
    );
    // Full AID works as well as the prefix.
    let full = CommandApdu::new(0, Ins::Select, 4, 0).with_data(piv::PIV_AID_FULL.to_vec());
    assert_eq!(sw_of(&mut client, &full), StatusWord::SUCCESS);
    assert_eq!(
        sw_of(&mut client, &CommandApdu::raw(0, 0x42, 0, 0)),
        StatusWord(0x6D00)
    );
    assert_eq!(
        sw_of(&mut client, &CommandApdu::new(0x80, Ins::Verify, 0, 0x80)),
        StatusWord(0x6E00)
    );
    assert_eq!(
        sw_of(&mut client, &piv::get_data(0x5FC105)),
        StatusWord(0x6A82)
    );
    let bad_p1p2 = CommandApdu::new(0, Ins::GetData, 0, 0).with_data(vec![0x5C, 1, 0x7E]);
    assert_eq!(sw_of(&mut client, &bad_p1p2), StatusWord(0x6A86));
    assert_eq!(
        sw_of(&mut client, &CommandApdu::new(0, Ins::Verify, 0, 0x9B)),
        StatusWord(0x6A88)
    );
    assert_eq!(
        sw_of(&mut client, &CommandApdu::new(0, Ins::GetResponse, 0, 0)),
        StatusWord(0x6985)
    );
    // Malformed lengths.
    assert_eq!(
        card.transmit_apdu(&[0, 0x20, 0, 0x80, 5, 1]).unwrap(),
        vec![0x67, 0x00]
    );
    assert_eq!(card.transmit_apdu(&[0]).unwrap(), vec![0x67, 0x00]);
}

#[test]
fn card_1_yubico_version_and_serial_answered() {
    let (mut client, card) = client();
    let version = client
        .transmit(&CommandApdu::new(0, Ins::GetVersion, 0, 0))
        .unwrap();
    assert!(version.sw.is_success());
    assert_eq!(version.data.len(), 3);
    let serial = client
        .transmit(&CommandApdu::new(0, Ins::GetSerial, 0, 0))
        .unwrap();
    assert_eq!(serial.data, card.with_card(|c| c.serial()).to_be_bytes());
}

#[test]
fn card_1_command_chaining_is_collected() {
    let (mut client, card) = client();
    // VERIFY split in two chained parts (CLA 10 then 00).
    let first = CommandApdu::new(0x10, Ins::Verify, 0, 0x80).with_data(b"12".to_vec());
    assert_eq!(sw_of(&mut client, &first), StatusWord::SUCCESS);
    let last =
        CommandApdu::new(0x00, Ins::Verify, 0, 0x80).with_data(b"34\xFF\xFF\xFF\xFF".to_vec());
    assert_eq!(sw_of(&mut client, &last), StatusWord::SUCCESS);
    assert_eq!(client.pin_status().unwrap(), PinStatus::Verified);
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
}

#[test]
fn card_4_state_survives_reload() {
    let dir = TempDir::new("reload");
    let path = dir.0.join("card.json");
    let (public, guid) = {
        let card = VirtualCard::create_file(&path, &options()).unwrap();
        let public = card.card_auth_public_key();
        let mut client = PivClient::new(SharedCard::new(card));
        client.select().unwrap();
        let _ = client.verify_pin(&pin("0000"));
        client
            .change_puk(&puk("87654321"), &puk("Puk2Puk2"))
            .unwrap();
        (public, GUID)
    };
    let card = VirtualCard::load(&path).unwrap();
    assert_eq!(card.guid(), guid);
    assert_eq!(card.pin_tries_left(), 2);
    assert!(card.puk_matches("Puk2Puk2"));
    assert_eq!(card.card_auth_public_key(), public);
    // The reloaded card still signs with the same key.
    let mut client = PivClient::new(SharedCard::new(card));
    client.select().unwrap();
    let sig = client.sign_with_card_auth_key(&[9; 32]).unwrap();
    VerifyingKey::from(&public)
        .verify_prehash(&[9; 32], &Signature::from_der(&sig).unwrap())
        .unwrap();
}

#[test]
fn card_4_every_change_is_on_disk_before_the_answer() {
    let dir = TempDir::new("ondisk");
    let path = dir.0.join("card.json");
    let card = SharedCard::new(VirtualCard::create_file(&path, &options()).unwrap());
    let mut client = PivClient::new(card);
    client.select().unwrap();
    let tries_on_disk = || CardState::read(&path).unwrap().pin_tries_left;
    let _ = client.verify_pin(&pin("0000"));
    assert_eq!(tries_on_disk(), 2);
    let _ = client.verify_pin(&pin("0000"));
    assert_eq!(tries_on_disk(), 1);
    client
        .reset_retry_counter(&puk("87654321"), &pin("7777"))
        .unwrap();
    let state = CardState::read(&path).unwrap();
    assert_eq!(state.pin_tries_left, 3);
    assert_eq!(state.pin, hex::encode(b"7777\xFF\xFF\xFF\xFF"));
    // No leftover temp file.
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("card.json")]);
}

#[test]
fn card_4_failed_write_fails_closed() {
    let dir = TempDir::new("failclosed");
    let path = dir.0.join("sub").join("card.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let card = SharedCard::new(VirtualCard::create_file(&path, &options()).unwrap());
    let mut client = PivClient::new(card);
    client.select().unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    // The try could not be recorded: no answer about the PIN, and the card stops.
    assert_eq!(
        sw_of(&mut client, &piv::verify_pin(&pin("1234"))),
        StatusWord(0x6581)
    );
    assert_eq!(sw_of(&mut client, &piv::select()), StatusWord(0x6581));
}

#[test]
fn card_4_corrupt_or_foreign_state_is_a_clear_error() {
    let dir = TempDir::new("corrupt");
    let path = dir.0.join("card.json");
    std::fs::write(&path, "{not json").unwrap();
    let err = VirtualCard::load(&path).unwrap_err().to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    let card = VirtualCard::create_file(&path, &options()).unwrap();
    let mut state = card.state();
    state.version = 99;
    std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
    assert!(VirtualCard::load(&path).is_err());
    let mut state = card.state();
    state.pin_tries_left = 9;
    std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
    assert!(VirtualCard::load(&path)
        .unwrap_err()
        .to_string()
        .contains("tries"));
    assert!(VirtualCard::load(&dir.0.join("missing.json")).is_err());
}

#[test]
fn card_2_create_refuses_bad_pin_or_puk() {
    for (p, k) in [
        ("123", "12345678"),
        ("123456789", "12345678"),
        ("1234", "1234567"),
    ] {
        let opts = CreateOptions {
            pin: p.into(),
            puk: k.into(),
            ..options()
        };
        assert!(VirtualCard::create(&opts).is_err(), "{p} {k}");
    }
}

#[test]
fn brg_4_card_pulled_mid_script() {
    let (mut client, card) = client();
    card.remove_after(2);
    let script = vec![
        piv::select().to_bytes(),
        piv::verify_pin(&pin("1234")).to_bytes(),
        piv::verify_pin_status().to_bytes(),
    ];
    let err = client.run_script(&script).unwrap_err();
    assert!(matches!(
        err,
        PivError::Transport(TransportError::CardRemoved)
    ));
    assert!(!card.is_inserted());
    // Re-inserted, the card works but has forgotten the verified PIN (power cycle).
    card.insert();
    client.select().unwrap();
    assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
    card.remove();
    assert!(matches!(
        client.read_chuid(),
        Err(PivError::Transport(TransportError::CardRemoved))
    ));
}

#[test]
fn run_script_stops_at_first_failure() {
    let (mut client, _) = client();
    let script = vec![
        piv::select().to_bytes(),
        piv::verify_pin(&pin("0000")).to_bytes(),
        piv::verify_pin(&pin("1234")).to_bytes(),
    ];
    let out = client.run_script(&script).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(out.get(1), Some(&vec![0x63, 0xC2]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // ALL-2: no bytes make the card panic, before or after SELECT, and every answer
    // ends with a status word.
    #[test]
    fn process_never_panics(
        commands in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..8),
        select_first: bool,
    ) {
        let mut card = VirtualCard::create(&options()).unwrap();
        if select_first {
            card.process(&piv::select().to_bytes());
        }
        for c in &commands {
            let r = card.process(c);
            prop_assert!(r.len() >= 2);
        }
    }

    // Well-formed headers with PIV INS values reach the handlers' deeper paths.
    #[test]
    fn piv_shaped_commands_never_panic(
        cla in prop_oneof![Just(0u8), Just(0x10u8)],
        ins in proptest::sample::select(Ins::ALL.to_vec()),
        p1: u8, p2: u8,
        data in proptest::collection::vec(any::<u8>(), 0..40),
        le in proptest::option::of(1usize..=300),
    ) {
        let mut card = VirtualCard::create(&options()).unwrap();
        card.process(&piv::select().to_bytes());
        let mut cmd = CommandApdu::new(cla, ins, p1, p2).with_data(data);
        cmd.le = le;
        let r = card.process(&cmd.to_bytes());
        prop_assert!(r.len() >= 2);
        prop_assert!(card.pin_tries_left() <= 3);
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    VerifyWrong,
    VerifyRight,
    EmptyVerify,
    UnblockWrongPuk,
    UnblockRightPuk,
    PowerCycle,
}

/// What a PIV card must answer, as a plain model (CARD-2, RESET RETRY COUNTER).
#[derive(Debug)]
struct Model {
    pin_tries: u8,
    puk_tries: u8,
    verified: bool,
}

impl Model {
    fn tries_sw(left: u8) -> u16 {
        if left == 0 {
            0x6983
        } else {
            0x63C0 | u16::from(left)
        }
    }

    fn step(&mut self, action: Action) -> u16 {
        match action {
            Action::VerifyWrong => {
                self.verified = false;
                if self.pin_tries == 0 {
                    return 0x6983;
                }
                self.pin_tries -= 1;
                Self::tries_sw(self.pin_tries)
            }
            Action::VerifyRight => {
                self.verified = false;
                if self.pin_tries == 0 {
                    return 0x6983;
                }
                self.pin_tries = 3;
                self.verified = true;
                0x9000
            }
            Action::EmptyVerify if self.verified => 0x9000,
            Action::EmptyVerify if self.pin_tries == 0 => 0x6983,
            Action::EmptyVerify => Self::tries_sw(self.pin_tries),
            Action::UnblockWrongPuk => {
                if self.puk_tries == 0 {
                    return 0x6983;
                }
                self.puk_tries -= 1;
                Self::tries_sw(self.puk_tries)
            }
            Action::UnblockRightPuk => {
                if self.puk_tries == 0 {
                    return 0x6983;
                }
                self.puk_tries = 3;
                self.pin_tries = 3;
                self.verified = false;
                0x9000
            }
            Action::PowerCycle => {
                self.verified = false;
                0x9000
            }
        }
    }
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => Just(Action::VerifyWrong),
        2 => Just(Action::VerifyRight),
        2 => Just(Action::EmptyVerify),
        2 => Just(Action::UnblockWrongPuk),
        1 => Just(Action::UnblockRightPuk),
        1 => Just(Action::PowerCycle),
    ]
}

proptest! {
    // CARD-2 / CARD-4: under any sequence of attempts the card answers exactly as the
    // model, and the file-backed counters always equal the card's.
    #[test]
    fn card_2_tries_follow_the_model(actions in proptest::collection::vec(action(), 1..25)) {
        let dir = TempDir::new("model");
        let path = dir.0.join("card.json");
        let shared = SharedCard::new(VirtualCard::create_file(&path, &options()).unwrap());
        let mut client = PivClient::new(shared.clone());
        client.select().unwrap();
        let mut model = Model { pin_tries: 3, puk_tries: 3, verified: false };
        for a in actions {
            let cmd = match a {
                Action::VerifyWrong => piv::verify_pin(&pin("0000")),
                Action::VerifyRight => piv::verify_pin(&pin("1234")),
                Action::EmptyVerify => piv::verify_pin_status(),
                Action::UnblockWrongPuk => piv::reset_retry_counter(&puk("00000000"), &pin("1234")),
                Action::UnblockRightPuk => piv::reset_retry_counter(&puk("87654321"), &pin("1234")),
                Action::PowerCycle => {
                    shared.remove();
                    shared.insert();
                    piv::select()
                }
            };
            let want = model.step(a);
            prop_assert_eq!(client.transmit(&cmd).unwrap().sw, StatusWord(want), "{:?} {:?}", a, model);
            let on_disk = CardState::read(&path).unwrap();
            prop_assert_eq!(on_disk.pin_tries_left, model.pin_tries);
            prop_assert_eq!(on_disk.puk_tries_left, model.puk_tries);
        }
    }
}

#[test]
fn shared_card_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SharedCard>();
    assert_send_sync::<PivClient<SharedCard>>();
}
