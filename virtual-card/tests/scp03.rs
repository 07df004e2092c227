//! CARD-3: the virtual card terminates the SCP03 channel the server opens. The server's end
//! is `card_protocol::scp03`'s host side, talking through the real `PivClient` over
//! `SharedCard`, as the bridge would relay it.

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::piv::{self, Chuid, PinStatus};
use card_protocol::scp03::{HostHandshake, HostSession, Scp03Error, SecurityLevel, StaticKeys};
use card_protocol::{unlock, Ins, Pin, PivClient, Puk, StatusWord};
use rand::rngs::OsRng;
use std::path::PathBuf;
use virtual_card::{CardState, CreateOptions, Scp03KeySet, SharedCard, VirtualCard};

const PIN: &str = "1234";
const PUK: &str = "87654321";
const GUID: [u8; 16] = [0x5A; 16];
const LEVEL: SecurityLevel = SecurityLevel::CMacCDecRMacREnc;
const REFUSED: StatusWord = StatusWord::SECURITY_STATUS_NOT_SATISFIED;

fn options(locked: bool) -> CreateOptions {
    CreateOptions {
        pin: PIN.into(),
        puk: PUK.into(),
        guid: Some(GUID),
        locked,
    }
}

fn card(locked: bool) -> SharedCard {
    SharedCard::new(VirtualCard::create(&options(locked)).unwrap())
}

fn pin(s: &str) -> Pin {
    Pin::parse(s).unwrap()
}

fn puk(s: &str) -> Puk {
    Puk::parse(s).unwrap()
}

fn keys_of(card: &SharedCard) -> StaticKeys {
    card.with_card(|c| c.scp03_keys())
}

/// The server's end of an open channel, and the relay it talks through.
struct Server {
    client: PivClient<SharedCard>,
    session: HostSession,
}

/// SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE at level 33 with `keys`.
fn open(card: &SharedCard, keys: StaticKeys) -> Result<Server, Scp03Error> {
    let mut client = PivClient::new(card.clone());
    client.select().unwrap();
    let handshake = HostHandshake::random(keys, 0, &mut OsRng);
    let answer = client.transmit(&handshake.initialize_update()).unwrap();
    let (external_authenticate, mut session) = handshake.authenticate(&answer, LEVEL)?;
    let answer = client.transmit(&external_authenticate).unwrap();
    session.confirm_external_authenticate(&answer)?;
    Ok(Server { client, session })
}

fn open_ok(card: &SharedCard) -> Server {
    open(card, keys_of(card)).unwrap()
}

impl Server {
    fn seal(&mut self, command: CommandApdu) -> CommandApdu {
        self.session.wrap(command).unwrap()
    }

    /// Sends anything as is; the card's raw answer.
    fn relay(&mut self, command: &CommandApdu) -> ResponseApdu {
        self.client.transmit(command).unwrap()
    }

    /// Seal, send, and check and open the answer.
    fn send(&mut self, command: CommandApdu) -> Result<ResponseApdu, Scp03Error> {
        let sealed = self.seal(command);
        let answer = self.relay(&sealed);
        self.session.unwrap(answer)
    }

    fn send_sw(&mut self, command: CommandApdu) -> StatusWord {
        self.send(command).unwrap().sw
    }
}

fn ok() -> ResponseApdu {
    ResponseApdu::status(StatusWord::SUCCESS)
}

#[test]
fn card_3_sealed_reset_and_puk_rotation_unblock_a_locked_card() {
    let card = card(true);
    let mut server = open_ok(&card);
    let (one_time, next_puk) = (Pin::generate_one_time(&mut OsRng), puk("Next1234"));
    let [reset, rotate] = unlock::commands(&puk(PUK), &one_time, &next_puk);
    // Every answer carries an R-MAC (8 bytes), which the server's end checks.
    let sealed = server.seal(reset);
    let answer = server.relay(&sealed);
    assert_eq!((answer.data.len(), answer.sw), (8, StatusWord::SUCCESS));
    assert_eq!(server.session.unwrap(answer), Ok(ok()));
    assert_eq!(server.send(rotate), Ok(ok()));
    card.with_card(|c| {
        assert_eq!((c.pin_tries_left(), c.puk_tries_left()), (3, 3));
        assert!(c.puk_matches("Next1234") && !c.puk_matches(PUK));
    });
    // The bridge then sets the holder's passcode locally, in plain PIV.
    let mut bridge = PivClient::new(card.clone());
    bridge.select().unwrap();
    bridge.change_pin(&one_time, &pin("9876")).unwrap();
    bridge.verify_pin(&pin("9876")).unwrap();
}

#[test]
fn card_3_sealed_answers_are_encrypted_and_their_r_mac_checked() {
    let card = card(false);
    let mut server = open_ok(&card);
    let sealed = server.seal(piv::get_data(piv::TAG_CHUID));
    let answer = server.relay(&sealed);
    assert!(!answer.data.windows(8).any(|w| w == &GUID[..8]));
    let chuid = server.session.unwrap(answer).unwrap();
    assert_eq!(Chuid::parse(&chuid.data).unwrap().guid, GUID);
    // A wrong PUK: 63 C2 is sealed too, and counted.
    let wrong = piv::reset_retry_counter(&puk("00000000"), &pin("5555"));
    assert_eq!(server.send_sw(wrong), StatusWord::tries(2));
    assert_eq!(card.with_card(|c| c.puk_tries_left()), 2);
    // An answer altered on the way is refused by the server's end.
    let sealed = server.seal(piv::get_data(piv::TAG_CHUID));
    let mut answer = server.relay(&sealed);
    answer.data[5] ^= 0x01;
    assert_eq!(server.session.unwrap(answer), Err(Scp03Error::BadMac));
}

#[test]
fn card_3_a_flipped_bit_in_a_sealed_command_is_refused_and_changes_nothing() {
    let flips: [fn(&mut CommandApdu); 3] = [
        |c| c.data[3] ^= 0x01,                   // ciphertext
        |c| *c.data.last_mut().unwrap() ^= 0x80, // C-MAC
        |c| c.p2 = piv::KEY_REF_PUK,             // header
    ];
    for flip in flips {
        let card = card(true);
        let mut server = open_ok(&card);
        let mut sealed = server.seal(piv::reset_retry_counter(&puk(PUK), &pin("5555")));
        flip(&mut sealed);
        assert_eq!(server.relay(&sealed), ResponseApdu::status(REFUSED));
        // The session is over: even a good sealed command is refused now.
        let next = piv::reset_retry_counter(&puk(PUK), &pin("5555"));
        assert_eq!(server.send_sw(next), REFUSED);
        card.with_card(|c| {
            assert!(c.pin_blocked() && c.pin_matches(PIN));
            assert_eq!(c.puk_tries_left(), 3);
        });
    }
}

#[test]
fn card_3_a_replayed_sealed_command_is_refused() {
    let card = card(true);
    let mut server = open_ok(&card);
    let sealed = server.seal(piv::reset_retry_counter(&puk(PUK), &pin("5555")));
    let answer = server.relay(&sealed);
    assert_eq!(server.session.unwrap(answer), Ok(ok()));
    card.with_card(|c| c.lock_pin()).unwrap();
    // In the same session, then in a new one: refused, and the PIN stays blocked.
    assert_eq!(server.relay(&sealed).sw, REFUSED);
    let mut again = open_ok(&card);
    assert_eq!(again.relay(&sealed).sw, REFUSED);
    card.with_card(|c| {
        assert!(c.pin_blocked());
        assert_eq!(c.puk_tries_left(), 3);
    });
}

#[test]
fn card_3_wrong_static_keys_fail_the_handshake() {
    let (card, other) = (card(true), card(true));
    // The server's end finds the card's cryptogram wrong.
    let refused = open(&card, keys_of(&other)).map(|_| ());
    assert_eq!(refused, Err(Scp03Error::BadCryptogram));

    // The card finds the host's cryptogram (or the MAC over it) wrong: 63 00 / 69 82.
    for (byte, sw) in [(0, StatusWord(0x6300)), (15, REFUSED)] {
        let mut client = PivClient::new(card.clone());
        client.select().unwrap();
        let handshake = HostHandshake::random(keys_of(&card), 0, &mut OsRng);
        let answer = client.transmit(&handshake.initialize_update()).unwrap();
        let (mut external_authenticate, session) = handshake.authenticate(&answer, LEVEL).unwrap();
        external_authenticate.data[byte] ^= 0x01;
        assert_eq!(client.transmit(&external_authenticate).unwrap().sw, sw);
        let mut server = Server { client, session };
        let sealed = server.seal(piv::verify_pin_status());
        assert_eq!(server.relay(&sealed).sw, REFUSED);
    }

    // A level below 33 (no sealed answers) is refused.
    let mut client = PivClient::new(card.clone());
    client.select().unwrap();
    let handshake = HostHandshake::random(keys_of(&card), 0, &mut OsRng);
    let answer = client.transmit(&handshake.initialize_update()).unwrap();
    let (external_authenticate, _) = handshake
        .authenticate(&answer, SecurityLevel::CMacCDec)
        .unwrap();
    let answer = client.transmit(&external_authenticate).unwrap();
    assert_eq!(answer.sw, StatusWord::INCORRECT_P1P2);
    assert_eq!(card.with_card(|c| c.puk_tries_left()), 3);
}

#[test]
fn card_3_select_power_cycle_or_new_handshake_ends_the_session() {
    let card = card(false);
    // A plain SELECT.
    let mut server = open_ok(&card);
    assert_eq!(
        server.send_sw(piv::verify_pin_status()),
        StatusWord::tries(3)
    );
    server.client.select().unwrap();
    assert_eq!(server.send_sw(piv::verify_pin_status()), REFUSED);
    // A sealed SELECT is not run, and ends the session too.
    let mut server = open_ok(&card);
    assert_eq!(server.send_sw(piv::select()), StatusWord(0x6985));
    assert_eq!(server.send_sw(piv::verify_pin_status()), REFUSED);
    // Power cycle (card pulled and put back, or a vpcd reset).
    let mut server = open_ok(&card);
    card.remove();
    card.insert();
    server.client.select().unwrap();
    assert_eq!(server.send_sw(piv::verify_pin_status()), REFUSED);
    // A new INITIALIZE UPDATE replaces the first session; a command sealed for the first
    // then fails in the second, which ends it too.
    let mut first = open_ok(&card);
    let mut second = open_ok(&card);
    assert_eq!(
        second.send_sw(piv::verify_pin_status()),
        StatusWord::tries(3)
    );
    assert_eq!(first.send_sw(piv::verify_pin_status()), REFUSED);
    assert_eq!(second.send_sw(piv::verify_pin_status()), REFUSED);
}

#[test]
fn card_3_plain_commands_work_as_before_and_end_a_session() {
    let card = card(false);
    let mut client = PivClient::new(card.clone());
    // No SCP03 before SELECT; no sealed command without a session.
    let handshake = HostHandshake::random(keys_of(&card), 0, &mut OsRng);
    let answer = client.transmit(&handshake.initialize_update()).unwrap();
    assert_eq!(answer.sw, StatusWord::CONDITIONS_NOT_SATISFIED);
    client.select().unwrap();
    let sealed_cla = CommandApdu::new(0x84, Ins::Verify, 0, 0x80).with_data(vec![0; 8]);
    assert_eq!(client.transmit(&sealed_cla).unwrap().sw, REFUSED);

    let mut server = open_ok(&card);
    // A plain command in a session is answered as ever, and closes the session.
    assert_eq!(server.client.pin_status().unwrap(), PinStatus::TriesLeft(3));
    assert_eq!(server.send_sw(piv::verify_pin_status()), REFUSED);
    server.client.verify_pin(&pin(PIN)).unwrap();
    assert_eq!(server.client.read_chuid().unwrap().guid, GUID);
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
}

#[test]
fn card_3_chained_commands_work_inside_the_channel() {
    let card = card(false);
    let mut server = open_ok(&card);
    let first = CommandApdu::new(0x10, Ins::Verify, 0, 0x80).with_data(b"12".to_vec());
    assert_eq!(server.send(first), Ok(ok()));
    let last =
        CommandApdu::new(0x00, Ins::Verify, 0, 0x80).with_data(b"34\xFF\xFF\xFF\xFF".to_vec());
    assert_eq!(server.send(last), Ok(ok()));
    assert_eq!(
        server.send_sw(piv::verify_pin_status()),
        StatusWord::SUCCESS
    );
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

fn key_hex(card: &VirtualCard) -> [String; 3] {
    let keys = card.scp03_key_set();
    [keys.enc(), keys.mac(), keys.dek()].map(hex::encode)
}

#[test]
fn card_4_scp03_keys_survive_a_restart_and_are_never_printed() {
    let dir = TempDir::new("scp03-restart");
    let path = dir.0.join("card.json");
    let created = VirtualCard::create_file(&path, &options(true)).unwrap();
    let keys = key_hex(&created);
    let state = CardState::read(&path).unwrap();
    let on_disk = state.scp03.as_ref().unwrap();
    assert_eq!([&on_disk.enc, &on_disk.mac, &on_disk.dek], keys.each_ref());
    let shown = format!("{state:?} {created:?} {:?}", created.scp03_key_set());
    assert!(keys.iter().all(|k| !shown.contains(k.as_str())), "{shown}");
    let old_keys = created.scp03_keys();
    drop(created);

    let card = SharedCard::new(VirtualCard::load(&path).unwrap());
    let mut server = open(&card, old_keys).unwrap();
    let one_time = Pin::generate_one_time(&mut OsRng);
    assert_eq!(
        server.send(piv::reset_retry_counter(&puk(PUK), &one_time)),
        Ok(ok())
    );
    assert!(!VirtualCard::load(&path).unwrap().pin_blocked());
}

#[test]
fn card_4_a_state_file_from_before_scp03_gets_keys_once() {
    let dir = TempDir::new("scp03-old");
    let path = dir.0.join("card.json");
    let state = VirtualCard::create_file(&path, &options(false))
        .unwrap()
        .state();
    // The file as a build from before SCP03 wrote it: no "scp03" at all.
    let mut old = serde_json::to_value(&state).unwrap();
    old.as_object_mut().unwrap().remove("scp03");
    std::fs::write(&path, serde_json::to_string(&old).unwrap()).unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains("scp03"));
    let first = VirtualCard::load(&path).unwrap();
    assert!(CardState::read(&path).unwrap().scp03.is_some());
    let second = VirtualCard::load(&path).unwrap();
    assert_eq!(key_hex(&first), key_hex(&second));
    assert_eq!(second.guid(), GUID);
}

#[test]
fn card_3_each_card_has_its_own_keys_unless_the_issuer_sets_them() {
    let (a, b) = (card(false), card(false));
    assert_ne!(a.with_card(|c| key_hex(c)), b.with_card(|c| key_hex(c)));
    assert!(open(&b, keys_of(&a)).is_err());
    let issued = Scp03KeySet::new(&[1; 16], &[2; 16], &[3; 16]).unwrap();
    b.with_card(|c| c.set_scp03_keys(issued.clone())).unwrap();
    let mut server = open(&b, issued.static_keys()).unwrap();
    assert_eq!(
        server.send_sw(piv::verify_pin_status()),
        StatusWord::tries(3)
    );
    assert_eq!(
        Scp03KeySet::new(&[1; 16], &[2; 24], &[3; 16]).err(),
        Some(Scp03Error::KeyLength(24))
    );
}
