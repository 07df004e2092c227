//! Issuance in process (CARD-1, CARD-3, CARD-4, CARD-6, AUTH-1, CERT-1): the server's end
//! of a real SCP03 session (`card_protocol::scp03` host side, relayed by `PivClient` over
//! `SharedCard`) has the card generate its 9A and 9E keys and writes the certificates a
//! test CA issued; plain, the same commands are refused and change nothing.

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::piv;
use card_protocol::KeySlot;
use card_protocol::{issue, metadata};
use card_protocol::{Pin, PivClient, StatusWord};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use support::{certificate_key, issue_card, Issuer, TestCa};
use virtual_card::{CardState, CreateOptions, SharedCard, VirtualCard};

const PIN: &str = "1234";
const REFUSED: StatusWord = StatusWord::SECURITY_STATUS_NOT_SATISFIED;

fn options() -> CreateOptions {
    CreateOptions {
        pin: PIN.into(),
        puk: "87654321".into(),
        guid: Some([0x5A; 16]),
        locked: false,
    }
}

fn card() -> SharedCard {
    SharedCard::new(VirtualCard::create(&options()).unwrap())
}

fn plain(card: &SharedCard) -> PivClient<SharedCard> {
    let mut client = PivClient::new(card.clone());
    client.select().unwrap();
    client
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn verifies(key: &p256::PublicKey, digest: &[u8; 32], der_signature: &[u8]) -> bool {
    let signature = Signature::from_der(der_signature).unwrap();
    VerifyingKey::from(key)
        .verify_prehash(digest, &signature)
        .is_ok()
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

/// What the card holds that issuance may change: both public keys and both certificates.
fn issued_state(card: &SharedCard) -> Vec<Option<Vec<u8>>> {
    card.with_card(|c| {
        KeySlot::ALL
            .iter()
            .flat_map(|&slot| {
                [
                    c.public_key(slot).map(|k| issue::encode_public_key(&k)),
                    c.certificate(slot),
                ]
            })
            .collect()
    })
}

#[test]
fn card_1_generated_public_keys_are_the_keys_the_card_signs_with() {
    let card = card();
    let old_card_auth = card.with_card(|c| c.card_auth_public_key());
    let mut issuer = Issuer::open(&card);
    let piv_auth = issuer.generate(KeySlot::PivAuth);
    let card_auth = issuer.generate(KeySlot::CardAuth);
    assert_ne!(piv_auth, card_auth);
    assert_ne!(card_auth, old_card_auth, "9E gets a fresh key");
    card.with_card(|c| {
        assert_eq!(c.public_key(KeySlot::PivAuth), Some(piv_auth));
        assert_eq!(c.card_auth_public_key(), card_auth);
    });

    // CARD-6: 9E signs without the PIN, with the key GENERATE answered.
    let mut client = plain(&card);
    let challenge = digest("unlock challenge");
    let signature = client.sign_with_card_auth_key(&challenge).unwrap();
    assert!(verifies(&card_auth, &challenge, &signature));
    // AUTH-1: 9A signs with the key GENERATE answered, once the PIN is verified.
    client.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    let login = digest("login challenge");
    let signature = client.sign_with_piv_auth_key(&login).unwrap();
    assert!(verifies(&piv_auth, &login, &signature));
    assert!(!verifies(&card_auth, &login, &signature));
}

#[test]
fn cert_3_get_metadata_reads_back_the_keys_generate_made_plain_or_sealed() {
    let card = card();
    // Before issuance 9A has no key: the slot is empty, not an error of the command.
    let mut client = plain(&card);
    let empty = client
        .transmit(&metadata::read_key(KeySlot::PivAuth))
        .unwrap();
    assert_eq!(empty.sw, StatusWord::REF_DATA_NOT_FOUND);
    let mut issuer = Issuer::open(&card);
    let piv_auth = issuer.generate(KeySlot::PivAuth);
    let card_auth = issuer.generate(KeySlot::CardAuth);
    let keys = [(KeySlot::PivAuth, piv_auth), (KeySlot::CardAuth, card_auth)];
    for (slot, key) in keys {
        let sealed = issuer.send(metadata::read_key(slot)).unwrap();
        assert_eq!(metadata::public_key(&sealed).unwrap(), key, "{slot:?}");
    }
    // The session over, anyone may read them: a public key is public.
    let mut client = plain(&card);
    for (slot, key) in keys {
        let answer = client.transmit(&metadata::read_key(slot)).unwrap();
        assert_eq!(metadata::public_key(&answer).unwrap(), key, "{slot:?}");
    }
    // Any other reference (the PIN, the management key) is not a key this card reports.
    let pin = CommandApdu::new(0, card_protocol::Ins::GetMetadata, 0, piv::KEY_REF_PIN);
    assert_eq!(
        plain(&card).transmit(&pin).unwrap().sw,
        StatusWord::REF_DATA_NOT_FOUND
    );
}

#[test]
fn cert_1_certificates_written_in_the_session_read_back_plain_without_pin() {
    let card = card();
    let ca = TestCa::new();
    let [piv_auth, card_auth] = issue_card(&card, &ca);
    // Real certificates are longer than one short APDU: PUT DATA went chained.
    assert!(
        piv_auth.certificate.len() > 255,
        "{}",
        piv_auth.certificate.len()
    );
    assert_eq!(certificate_key(&piv_auth.certificate), piv_auth.key);
    assert_eq!(certificate_key(&card_auth.certificate), card_auth.key);

    // Read back plain, no PIN, as any PIV middleware does.
    let mut client = plain(&card);
    assert_eq!(
        client.read_certificate(KeySlot::PivAuth).unwrap(),
        Some(piv_auth.certificate.clone())
    );
    assert_eq!(
        client.read_certificate(KeySlot::CardAuth).unwrap(),
        Some(card_auth.certificate.clone())
    );
    // The object is exactly what PIV stores: 53{70 cert, 71 00, FE 00}.
    let raw = client
        .transmit(&piv::get_data(KeySlot::PivAuth.certificate_tag()))
        .unwrap();
    assert_eq!(raw.data, issue::certificate_object(&piv_auth.certificate));

    // Read inside the session too: a long sealed answer comes in 61xx parts.
    let mut issuer = Issuer::open(&card);
    let answer = issuer
        .send(issue::read_certificate(KeySlot::CardAuth))
        .unwrap();
    assert_eq!(
        issue::certificate(&answer).unwrap(),
        Some(card_auth.certificate)
    );
}

#[test]
fn card_3_generate_and_put_data_sent_plain_are_refused_and_change_nothing() {
    let card = card();
    let ca = TestCa::new();
    let [piv_auth, _] = issue_card(&card, &ca);
    let before = issued_state(&card);
    let other = ca.issue("Intruder", &piv_auth.key, 7);
    let mut plain_commands: Vec<CommandApdu> = KeySlot::ALL
        .iter()
        .map(|&slot| issue::generate_key_pair(slot))
        .collect();
    for slot in KeySlot::ALL {
        // Chained (the first part is refused at once) and in one extended APDU.
        plain_commands.extend(issue::put_certificate(slot, &other).unwrap());
        let mut whole = piv::put_data(slot.certificate_tag(), &issue::certificate_object(&other));
        let data: Vec<u8> = whole.iter().flat_map(|p| p.data.clone()).collect();
        whole.truncate(1);
        whole[0].cla = 0;
        whole[0].data = data;
        plain_commands.extend(whole);
        plain_commands.push(piv::put_data(slot.certificate_tag(), &[0x53, 0x00]).remove(0));
    }

    let mut client = plain(&card);
    client.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    for command in &plain_commands {
        assert_eq!(client.transmit(command).unwrap().sw, REFUSED, "{command:?}");
    }
    // Sent plain while a session is open: refused too, and the session is over.
    let mut issuer = Issuer::open(&card);
    let generate = issue::generate_key_pair(KeySlot::PivAuth);
    assert_eq!(issuer.client.transmit(&generate).unwrap().sw, REFUSED);
    assert_eq!(issuer.send(generate).unwrap().sw, REFUSED);
    // A chain begun plain cannot be finished sealed.
    let mut parts = issue::put_certificate(KeySlot::PivAuth, &other).unwrap();
    let last = parts.pop().unwrap();
    let mut client = plain(&card);
    for part in &parts {
        assert_eq!(client.transmit(part).unwrap().sw, REFUSED);
    }
    let mut issuer = Issuer::open(&card);
    assert_eq!(
        issuer.send(last).unwrap().sw,
        StatusWord::WRONG_DATA,
        "only the last part arrived"
    );
    assert_eq!(issued_state(&card), before);
}

#[test]
fn auth_1_9a_signs_only_after_verify_pin_in_this_card_session() {
    let card = card();
    let mut issuer = Issuer::open(&card);
    let key = issuer.generate(KeySlot::PivAuth);
    let login = digest("login");
    let mut client = plain(&card);
    let refused = client.sign_with_piv_auth_key(&login).unwrap_err();
    assert_eq!(refused.status_word(), Some(REFUSED));
    // A wrong PIN does not open it either.
    assert!(client.verify_pin(&Pin::parse("9999").unwrap()).is_err());
    let refused = client.sign_with_piv_auth_key(&login).unwrap_err();
    assert_eq!(refused.status_word(), Some(REFUSED));
    client.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    let signature = client.sign_with_piv_auth_key(&login).unwrap();
    assert!(verifies(&key, &login, &signature));
    // PIV "PIN once": it keeps signing in this card session…
    let again = digest("again");
    assert!(verifies(
        &key,
        &again,
        &client.sign_with_piv_auth_key(&again).unwrap()
    ));
    // …until the PIN's status is reset or the card loses power.
    assert!(client.forget_pin().unwrap());
    assert!(client.sign_with_piv_auth_key(&login).is_err());
    client.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    card.remove();
    card.insert();
    let mut client = plain(&card);
    let refused = client.sign_with_piv_auth_key(&login).unwrap_err();
    assert_eq!(refused.status_word(), Some(REFUSED));
    // 9E never needed it.
    assert!(client.sign_with_card_auth_key(&login).is_ok());
}

#[test]
fn card_1_put_data_and_generate_refuse_what_they_do_not_store() {
    let card = card();
    let mut issuer = Issuer::open(&card);
    let sw = |issuer: &mut Issuer, command: CommandApdu| issuer.send(command).unwrap().sw;
    // Only the two certificate objects; the CHUID is the issuer's, not writable here.
    let chuid = piv::put_data(piv::TAG_CHUID, &[0x53, 0x00]).remove(0);
    assert_eq!(sw(&mut issuer, chuid), StatusWord::FILE_NOT_FOUND);
    let mut not_53 = piv::put_data(KeySlot::PivAuth.certificate_tag(), &[0x54, 0x00]).remove(0);
    assert_eq!(sw(&mut issuer, not_53.clone()), StatusWord::WRONG_DATA);
    not_53.p1 = 0;
    assert_eq!(sw(&mut issuer, not_53), StatusWord::INCORRECT_P1P2);
    // GENERATE: P-256 only, slots 9A and 9E only.
    let rsa = piv::generate_key_pair(KeySlot::PivAuth, 0x07);
    assert_eq!(sw(&mut issuer, rsa), StatusWord::WRONG_DATA);
    let mut slot_9c = piv::generate_key_pair(KeySlot::PivAuth, piv::ALG_ECC_P256);
    slot_9c.p2 = 0x9C; // a PIV slot, but none of ours
    assert_eq!(sw(&mut issuer, slot_9c), StatusWord::INCORRECT_P1P2);
    assert_eq!(card.with_card(|c| c.public_key(KeySlot::PivAuth)), None);

    // `53 00` deletes a certificate: GET DATA then answers 6A82.
    let ca = TestCa::new();
    let key = issuer.generate(KeySlot::PivAuth);
    issuer.put_certificate(KeySlot::PivAuth, &ca.issue("Holder", &key, 9));
    let delete = piv::put_data(KeySlot::PivAuth.certificate_tag(), &[0x53, 0x00]).remove(0);
    assert_eq!(sw(&mut issuer, delete), StatusWord::SUCCESS);
    let mut client = plain(&card);
    assert_eq!(client.read_certificate(KeySlot::PivAuth).unwrap(), None);
    let answer = client
        .transmit(&piv::get_data(KeySlot::PivAuth.certificate_tag()))
        .unwrap();
    assert_eq!(answer, ResponseApdu::status(StatusWord::FILE_NOT_FOUND));
}

fn load_shared(path: &Path) -> SharedCard {
    SharedCard::new(VirtualCard::load(path).unwrap())
}

#[test]
fn card_4_keys_and_certificates_survive_a_restart_and_are_never_printed() {
    let dir = TempDir::new("issue-restart");
    let path = dir.0.join("card.json");
    let card = SharedCard::new(VirtualCard::create_file(&path, &options()).unwrap());
    let ca = TestCa::new();
    let [piv_auth, card_auth] = issue_card(&card, &ca);
    let before = issued_state(&card);
    drop(card);

    let reloaded = load_shared(&path);
    assert_eq!(issued_state(&reloaded), before);
    let mut client = plain(&reloaded);
    client.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    let login = digest("after restart");
    let signature = client.sign_with_piv_auth_key(&login).unwrap();
    assert!(verifies(&piv_auth.key, &login, &signature));
    let signature = client.sign_with_card_auth_key(&login).unwrap();
    assert!(verifies(&card_auth.key, &login, &signature));

    let state = CardState::read(&path).unwrap();
    let piv_auth_key = state.piv_auth_key.clone().unwrap();
    assert_eq!(piv_auth_key.len(), 64);
    let cert_hex = state.piv_auth_certificate.clone().unwrap();
    let shown = format!("{state:?} {:?}", reloaded.with_card(|c| format!("{c:?}")));
    for secret in [&piv_auth_key, &state.card_auth_key, &cert_hex] {
        assert!(!shown.contains(secret.as_str()), "{shown}");
    }
}

#[test]
fn card_4_a_state_file_from_before_issuance_still_loads() {
    let dir = TempDir::new("issue-old");
    let path = dir.0.join("card.json");
    let created = VirtualCard::create_file(&path, &options()).unwrap();
    let card_auth = created.card_auth_public_key();
    // The file as a build from before issuance wrote it.
    let mut old = serde_json::to_value(created.state()).unwrap();
    drop(created);
    let fields = old.as_object_mut().unwrap();
    for new in [
        "piv_auth_key",
        "piv_auth_certificate",
        "card_auth_certificate",
    ] {
        assert!(fields.remove(new).is_some(), "{new}");
    }
    std::fs::write(&path, serde_json::to_string(&old).unwrap()).unwrap();

    let card = load_shared(&path);
    card.with_card(|c| {
        assert_eq!(c.card_auth_public_key(), card_auth);
        assert_eq!(c.public_key(KeySlot::PivAuth), None);
        assert_eq!(c.certificate(KeySlot::PivAuth), None);
    });
    let mut client = plain(&card);
    assert_eq!(client.read_certificate(KeySlot::PivAuth).unwrap(), None);
    assert_eq!(client.read_certificate(KeySlot::CardAuth).unwrap(), None);
    // Such a card is then issued like any other, and the file keeps it.
    let [piv_auth, _] = issue_card(&card, &TestCa::new());
    let state = CardState::read(&path).unwrap();
    assert!(state.piv_auth_key.is_some() && state.card_auth_certificate.is_some());
    assert_eq!(
        load_shared(&path).with_card(|c| c.certificate(KeySlot::PivAuth)),
        Some(piv_auth.certificate)
    );
}

#[test]
fn card_4_a_bad_key_or_certificate_in_the_state_file_is_a_clear_error() {
    let state = VirtualCard::create(&options()).unwrap().state();
    let mut bad_key = state.clone();
    bad_key.piv_auth_key = Some("00".repeat(32));
    let err = VirtualCard::from_state(&bad_key).unwrap_err().to_string();
    assert!(err.contains("piv_auth_key"), "{err}");
    let mut bad_cert = state;
    bad_cert.card_auth_certificate = Some("5401ff".into());
    let err = VirtualCard::from_state(&bad_cert).unwrap_err().to_string();
    assert!(err.contains("card_auth_certificate"), "{err}");
}
