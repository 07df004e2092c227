//! The `virtual-card` command line: create, show, lock (CARD-4).

// Test helpers may fail loudly: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_virtual-card"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn card_4_create_show_lock_round_trip() {
    let dir = std::env::temp_dir().join(format!("vcard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("card.json");
    let state = state.to_str().unwrap();
    let guid = "00112233445566778899aabbccddeeff";

    let (ok, out, err) = cli(&[
        "create", "--state", state, "--pin", "s3cr3t", "--puk", "Puk12345", "--guid", guid,
    ]);
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["guid"], guid);
    assert_eq!(created["puk"], "Puk12345");
    let key = created["card_auth_public_key"].as_str().unwrap();
    assert_eq!(key.len(), 130);
    assert!(key.starts_with("04"));
    let scp03 = &created["scp03_keys"];
    assert_eq!(scp03["key_version"], 0x30);
    let enc = scp03["enc"].as_str().unwrap().to_owned();
    assert_eq!(enc.len(), 32);
    assert_ne!(scp03["enc"], scp03["mac"]);

    let (ok, out, err) = cli(&["show", "--state", state]);
    assert!(ok, "{err}");
    // Never the PIN, PUK or private key.
    assert!(!out.contains("s3cr3t") && !out.contains("Puk12345") && !out.contains("puk\""));
    assert!(!out.contains(&hex::encode("s3cr3t")), "{out}");
    assert!(!out.contains(&enc) && !out.contains("scp03"), "{out}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["guid"], guid);
    assert_eq!(shown["pin_tries_left"], 3);
    assert_eq!(shown["pin_blocked"], false);
    assert_eq!(shown["card_auth_public_key"], key);

    let (ok, _, err) = cli(&["lock", "--state", state]);
    assert!(ok, "{err}");
    let (_, out, _) = cli(&["show", "--state", state]);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["pin_tries_left"], 0);
    assert_eq!(shown["pin_blocked"], true);

    let (ok, _, _) = cli(&["create", "--state", state, "--locked"]);
    assert!(ok);
    let (_, out, _) = cli(&["show", "--state", state]);
    assert!(out.contains("\"pin_blocked\":true"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn all_2_bad_arguments_are_clear_errors() {
    let (ok, _, err) = cli(&["create", "--state", "/tmp/x.json", "--guid", "abcd"]);
    assert!(!ok && err.contains("--guid must be 32 hex digits"), "{err}");
    let (ok, _, err) = cli(&["create", "--state", "/tmp/x.json", "--pin", "12"]);
    assert!(!ok && err.contains("PIN must be 4 to 8"), "{err}");
    let (ok, _, err) = cli(&["show", "--state", "/nonexistent/card.json"]);
    assert!(!ok && err.contains("/nonexistent/card.json"), "{err}");
}
