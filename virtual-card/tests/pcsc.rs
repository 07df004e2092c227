//! The virtual card through the real PC/SC stack: pcscd + vsmartcard's vpcd + the
//! standard PIV tools (OpenSC, yubico-piv-tool) (CARD-4: standard tools must work).
//!
//! Uses only vpcd's second reader, "Virtual PCD 00 01" on port 35964 (the first is for
//! the card-bridge tests); the tests of this file take turns on it. A missing pcscd, vpcd
//! reader or tool FAILS the test with a fix-it message.
//!
//! An issued card (keys generated and certificates written in process, in an SCP03
//! session) is a normal PIV card to the standard middleware: OpenSC lists and reads its
//! certificates and signs with its 9A key through PKCS#11 after a login (CERT-1, AUTH-1).

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use card_protocol::KeySlot;
use der::DecodePem;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use virtual_card::{vpcd, CardState, CreateOptions, SharedCard, VirtualCard};

const READER: &str = "Virtual PCD 00 01";
const VPCD_PORT: u16 = 35964;
const GUID_HEX: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const PIN: &str = "123456";
const PUK: &str = "12345678";
/// OpenSC's PKCS#11 module (Debian's opensc-pkcs11 package).
const OPENSC_PKCS11: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";

/// Under plain `cargo test` the tests of this file run on threads of one process; they
/// share one reader, so they take turns. (nextest runs them in its `pcsc` group.)
static READER_LOCK: Mutex<()> = Mutex::new(());

struct Output {
    ok: bool,
    text: String,
}

/// Run a tool with a time limit; stdout and stderr together.
fn run(program: &str, args: &[&str]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}). Install the PIV tools: \
                 `apt-get install -y opensc yubico-piv-tool pcscd vsmartcard-vpcd`"
            )
        });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("`{program} {}` did not finish in 30 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    Output {
        ok: status.success(),
        text,
    }
}

/// `Some(true)` card present, `Some(false)` empty, `None` no such reader.
fn card_present() -> Option<bool> {
    let out = run("opensc-tool", &["--list-readers"]);
    out.text
        .lines()
        .find(|l| l.trim_end().ends_with(READER))
        .map(|l| l.split_whitespace().nth(1) == Some("Yes"))
}

fn wait_for_card(present: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while card_present() != Some(present) {
        assert!(
            Instant::now() < deadline,
            "pcscd did not see the card {} in '{READER}' within 10 s",
            if present { "inserted" } else { "removed" }
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn preflight() -> std::sync::MutexGuard<'static, ()> {
    let turn = READER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let pcscd = run("pgrep", &["-x", "pcscd"]);
    assert!(
        pcscd.ok,
        "pcscd is not running. Start it: `/usr/sbin/pcscd --foreground &` \
         (install: `apt-get install -y pcscd vsmartcard-vpcd`)"
    );
    match card_present() {
        None => panic!(
            "pcscd has no reader '{READER}': install vsmartcard-vpcd and restart pcscd \
             (readers: {})",
            run("opensc-tool", &["--list-readers"]).text
        ),
        Some(true) => panic!("'{READER}' already holds a card; another test or demo uses it"),
        Some(false) => {}
    }
    turn
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn card_4_standard_piv_tools_talk_to_the_card_through_pcscd() {
    let _turn = preflight();
    let dir = TempDir(std::env::temp_dir().join(format!("vcard-pcsc-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("card.json");
    let guid: [u8; 16] = hex::decode(GUID_HEX).unwrap().try_into().unwrap();
    let card = SharedCard::new(
        VirtualCard::create_file(
            &path,
            &CreateOptions {
                pin: PIN.into(),
                puk: PUK.into(),
                guid: Some(guid),
                locked: false,
            },
        )
        .unwrap(),
    );
    let addr: SocketAddr = format!("127.0.0.1:{VPCD_PORT}").parse().unwrap();
    let handle = vpcd::insert(card.clone(), addr).expect("connect to vpcd");
    wait_for_card(true);
    let tries = || card.with_card(|c| c.pin_tries_left());
    let tries_on_disk = || CardState::read(&path).unwrap().pin_tries_left;

    // CARD-1: the CHUID, read without a PIN, by OpenSC's PIV driver (serial = GUID).
    let serial = run("opensc-tool", &["--reader", READER, "--serial"]);
    let spaced_guid = guid
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        serial.ok && serial.text.contains(&spaced_guid),
        "{}",
        serial.text
    );
    let name = run("opensc-tool", &["--reader", READER, "--name"]);
    assert!(
        name.text.contains("Personal Identity Verification Card"),
        "{}",
        name.text
    );
    let dump = run("pkcs15-tool", &["--reader", READER, "--dump"]);
    assert!(
        dump.ok && dump.text.contains(&format!("Serial number  : {GUID_HEX}")),
        "{}",
        dump.text
    );
    // The raw commands, through OpenSC.
    let raw = run(
        "opensc-tool",
        &[
            "--reader",
            READER,
            "-s",
            "00A4040005A000000308",
            "-s",
            "00CB3FFF055C035FC102",
        ],
    );
    assert!(
        raw.ok && raw.text.contains("SW1=0x90, SW2=0x00"),
        "{}",
        raw.text
    );
    assert!(raw.text.contains("53 3B 30 19"), "{}", raw.text);

    // yubico-piv-tool: status shows the CHUID and the tries left.
    let status = run("yubico-piv-tool", &["-r", READER, "-a", "status"]);
    assert!(status.ok, "{}", status.text);
    assert!(
        status
            .text
            .contains(&format!("34 10 {GUID_HEX}").replace(' ', "")),
        "{}",
        status.text
    );
    assert!(
        status.text.contains("PIN tries left:\t3"),
        "{}",
        status.text
    );

    // CARD-2: verify the PIN with both tool families.
    let ok = run(
        "yubico-piv-tool",
        &["-r", READER, "-a", "verify-pin", "-P", PIN],
    );
    assert!(
        ok.ok && ok.text.contains("Successfully verified PIN"),
        "{}",
        ok.text
    );
    let ok = run(
        "pkcs15-tool",
        &["--reader", READER, "--verify-pin", "--pin", PIN],
    );
    assert!(ok.ok, "{}", ok.text);
    assert_eq!(tries(), 3);

    // CARD-2: a wrong PIN costs a try, counted by the card and saved (CARD-4).
    let wrong = run(
        "yubico-piv-tool",
        &["-r", READER, "-a", "verify-pin", "-P", "999999"],
    );
    assert!(
        !wrong.ok && wrong.text.contains("2 tries left"),
        "{}",
        wrong.text
    );
    assert_eq!((tries(), tries_on_disk()), (2, 2));
    let wrong = run(
        "pkcs15-tool",
        &["--reader", READER, "--verify-pin", "--pin", "000000"],
    );
    assert!(
        !wrong.ok && wrong.text.contains("PIN code or key incorrect"),
        "{}",
        wrong.text
    );
    assert_eq!((tries(), tries_on_disk()), (1, 1));
    let status = run("yubico-piv-tool", &["-r", READER, "-a", "status"]);
    assert!(
        status.text.contains("PIN tries left:\t1"),
        "{}",
        status.text
    );
    // The right PIN restores the tries.
    let ok = run(
        "yubico-piv-tool",
        &["-r", READER, "-a", "verify-pin", "-P", PIN],
    );
    assert!(ok.ok, "{}", ok.text);
    assert_eq!((tries(), tries_on_disk()), (3, 3));

    // CARD-1: change the PIN and unblock with the PUK through yubico-piv-tool.
    let changed = run(
        "yubico-piv-tool",
        &[
            "-r",
            READER,
            "-a",
            "change-pin",
            "-P",
            PIN,
            "-N",
            "24681357",
        ],
    );
    assert!(changed.ok, "{}", changed.text);
    assert!(card.with_card(|c| c.pin_matches("24681357")));
    card.with_card(|c| c.lock_pin()).unwrap();
    let unblocked = run(
        "yubico-piv-tool",
        &["-r", READER, "-a", "unblock-pin", "-P", PUK, "-N", PIN],
    );
    assert!(unblocked.ok, "{}", unblocked.text);
    assert!(card.with_card(|c| c.pin_matches(PIN)));
    assert_eq!(tries(), 3);

    // Pulling the card (SharedCard::remove) drops the vpcd link; re-inserting restores it.
    card.remove();
    wait_for_card(false);
    card.insert();
    wait_for_card(true);
    let serial = run("opensc-tool", &["--reader", READER, "--serial"]);
    assert!(serial.text.contains(&spaced_guid), "{}", serial.text);

    handle.remove();
    wait_for_card(false);
}

/// The `virtual-card insert` child: killed if the test fails before it exits.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn_insert(bin: &str, state: &str, vpcd: &str) -> Child {
    Child(
        Command::new(bin)
            .args(["insert", "--state", state, "--vpcd", vpcd])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Signal a child we started (by its id) and wait for a clean exit.
fn stop(child: &mut std::process::Child, signal: &str) {
    let id = child.id().to_string();
    assert!(run("kill", &[signal, &id]).ok);
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "virtual-card insert did not exit on {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{signal}: {exit}");
}

#[test]
fn card_4_cli_insert_serves_pcscd_until_sigint_or_sigterm() {
    let _turn = preflight();
    let dir = TempDir(std::env::temp_dir().join(format!("vcard-pcsc-cli-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("card.json");
    let state = path.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_virtual-card");
    let created = run(
        bin,
        &["create", "--state", state, "--guid", GUID_HEX, "--locked"],
    );
    assert!(created.ok, "{}", created.text);
    let vpcd = format!("127.0.0.1:{VPCD_PORT}");
    let mut guard = spawn_insert(bin, state, &vpcd);
    let child = &mut guard.0;
    wait_for_card(true);
    let status = run("yubico-piv-tool", &["-r", READER, "-a", "status"]);
    assert!(
        status.text.contains("PIN tries left:\t0"),
        "{}",
        status.text
    );
    // UNL-7 shape: the PUK unblocks the locked card; the file keeps the result (CARD-4).
    let unblocked = run(
        "yubico-piv-tool",
        &["-r", READER, "-a", "unblock-pin", "-P", PUK, "-N", "432100"],
    );
    assert!(unblocked.ok, "{}", unblocked.text);
    stop(child, "-INT");
    wait_for_card(false);

    // Inserted again, the card kept its new PIN (CARD-4); SIGTERM also removes it.
    let mut guard = spawn_insert(bin, state, &vpcd);
    let child = &mut guard.0;
    wait_for_card(true);
    let ok = run(
        "pkcs15-tool",
        &["--reader", READER, "--verify-pin", "--pin", "432100"],
    );
    assert!(ok.ok, "{}", ok.text);
    stop(child, "-TERM");
    wait_for_card(false);
    let card = VirtualCard::load(&path).unwrap();
    assert!(card.pin_matches("432100"));
    assert_eq!(card.pin_tries_left(), 3);
}

/// The first PEM certificate in a tool's output, as DER.
fn pem_certificate(text: &str) -> Vec<u8> {
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .unwrap_or_else(|| panic!("no PEM certificate in: {text}"));
    let end_marker = "-----END CERTIFICATE-----";
    let end = text[begin..].find(end_marker).unwrap() + begin + end_marker.len();
    let certificate = x509_cert::Certificate::from_pem(&text[begin..end]).unwrap();
    der::Encode::to_der(&certificate).unwrap()
}

#[test]
fn cert_1_an_issued_card_is_a_normal_piv_card_to_opensc_through_pcscd() {
    let _turn = preflight();
    let dir = TempDir(std::env::temp_dir().join(format!("vcard-pcsc-cert-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = |name: &str| dir.0.join(name).to_str().unwrap().to_string();
    let path = dir.0.join("card.json");
    let opts = CreateOptions {
        pin: PIN.into(),
        puk: PUK.into(),
        guid: None,
        locked: false,
    };

    // Issued in process, inside an SCP03 session; the state file keeps it (CARD-4).
    let ca = support::TestCa::new();
    std::fs::write(file("ca.pem"), ca.pem()).unwrap();
    let [piv_auth, card_auth] = {
        let card = SharedCard::new(VirtualCard::create_file(&path, &opts).unwrap());
        support::issue_card(&card, &ca)
    };
    let card = SharedCard::new(VirtualCard::load(&path).unwrap());
    let addr: SocketAddr = format!("127.0.0.1:{VPCD_PORT}").parse().unwrap();
    let handle = vpcd::insert(card.clone(), addr).expect("connect to vpcd");
    wait_for_card(true);

    // yubico-piv-tool still reads the card's status, now with its certificates.
    let status = run("yubico-piv-tool", &["-r", READER, "-a", "status"]);
    assert!(status.ok, "{}", status.text);
    let words = status.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Slot 9a: Algorithm: ECCP256 Subject DN: O=NHS Test, CN=Test Cardholder \
         Issuer DN: O=NHS Test, CN=Smartcard Self-Service Test CA",
        "Slot 9e: Algorithm: ECCP256",
        "PIN tries left: 3",
    ] {
        assert!(words.contains(want), "{want}: {}", status.text);
    }

    // OpenSC's PIV emulation lists both certificates (9A is ID 01, 9E is ID 04).
    let listed = run("pkcs15-tool", &["--reader", READER, "--list-certificates"]);
    assert!(listed.ok, "{}", listed.text);
    let words = listed.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "X.509 Certificate [Certificate for PIV Authentication] Object Flags : [0x00] \
         Authority : no Path : ID : 01",
        "X.509 Certificate [Certificate for Card Authentication] Object Flags : [0x00] \
         Authority : no Path : ID : 04",
    ] {
        assert!(words.contains(want), "{want}: {}", listed.text);
    }

    // The 9A certificate read back by both tool families is the one written, and it
    // chains to the CA.
    let read = run(
        "pkcs15-tool",
        &["--reader", READER, "--read-certificate", "01"],
    );
    assert!(read.ok, "{}", read.text);
    assert_eq!(pem_certificate(&read.text), piv_auth.certificate);
    let read = run(
        "yubico-piv-tool",
        &[
            "-r",
            READER,
            "-a",
            "read-certificate",
            "-s",
            KeySlot::PivAuth.as_str(),
        ],
    );
    assert!(read.ok, "{}", read.text);
    assert_eq!(pem_certificate(&read.text), piv_auth.certificate);
    std::fs::write(file("cert.pem"), &read.text).unwrap();
    let verified = run(
        "openssl",
        &["verify", "-CAfile", &file("ca.pem"), &file("cert.pem")],
    );
    assert!(
        verified.ok && verified.text.contains("cert.pem: OK"),
        "{}",
        verified.text
    );
    let read = run(
        "pkcs15-tool",
        &["--reader", READER, "--read-certificate", "04"],
    );
    assert_eq!(pem_certificate(&read.text), card_auth.certificate);

    // AUTH-1 through PKCS#11: log in with the PIN, sign a digest with the 9A key (ID 01);
    // the signature verifies against the certificate's key.
    let digest: [u8; 32] = Sha256::digest(b"server login challenge").into();
    std::fs::write(file("digest.bin"), digest).unwrap();
    let pkcs11 = |extra: &[&str]| {
        let mut args = vec!["--module", OPENSC_PKCS11, "--slot-description", READER];
        args.extend_from_slice(extra);
        run("pkcs11-tool", &args)
    };
    let signed = pkcs11(&[
        "--login",
        "--pin",
        PIN,
        "--sign",
        "--mechanism",
        "ECDSA",
        "--id",
        "01",
        "--input-file",
        &file("digest.bin"),
        "--output-file",
        &file("signature.bin"),
    ]);
    assert!(signed.ok, "{}", signed.text);
    let raw = std::fs::read(file("signature.bin")).unwrap();
    let signature = Signature::from_slice(&raw).unwrap();
    let key = VerifyingKey::from(support::certificate_key(&piv_auth.certificate));
    assert!(key.verify_prehash(&digest, &signature).is_ok());
    assert_eq!(card.with_card(|c| c.pin_tries_left()), 3);
    // Through pcscd, the card itself refuses 9A once the PIN's status is reset (6982) and
    // signs with 9E without it (CARD-6); OpenSC's `--sign` would ask for the PIN for either.
    let sign = |slot: &str| format!("008711{slot}267C2482008120{}00", hex::encode_upper(digest));
    let raw = run(
        "opensc-tool",
        &[
            "--reader",
            READER,
            "-s",
            "00A4040005A000000308",
            "-s",
            "0020FF80",
            "-s",
            &sign("9A"),
            "-s",
            &sign("9E"),
        ],
    );
    let status_words: Vec<&str> = raw
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("Received (SW1="))
        .map(|sw| sw.trim_end_matches([':', ')']))
        .collect();
    assert_eq!(
        status_words,
        [
            "0x90, SW2=0x00",
            "0x90, SW2=0x00",
            "0x69, SW2=0x82",
            "0x90, SW2=0x00"
        ],
        "{}",
        raw.text
    );

    // The middleware changed nothing it should not have.
    card.with_card(|c| {
        assert_eq!(c.public_key(KeySlot::PivAuth), Some(piv_auth.key));
        assert_eq!(
            c.certificate(KeySlot::CardAuth),
            Some(card_auth.certificate)
        );
        assert_eq!(c.pin_tries_left(), 3);
    });

    handle.remove();
    wait_for_card(false);
}
