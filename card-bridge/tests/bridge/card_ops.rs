//! The card operations the unlock flow needs, on an in-process virtual card (BRG-3
//! `--simulate`), including a card pulled mid-script (BRG-4).

use api_types::bridge::{PATH_CHANGE_PIN, PATH_RUN_SCRIPT, PATH_SIGN_CHALLENGE, PATH_STATUS};
use card_protocol::pin::{Pin, Puk};
use card_protocol::piv;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use serde_json::json;

use crate::helpers::*;

pub fn unlock_script(one_time_pin: &str, new_puk: &str) -> Vec<String> {
    let puk = Puk::parse(PUK).unwrap();
    [
        piv::select(),
        piv::reset_retry_counter(&puk, &Pin::parse(one_time_pin).unwrap()),
        piv::change_puk(&puk, &Puk::parse(new_puk).unwrap()),
    ]
    .iter()
    .map(|c| hex::encode(c.to_bytes()))
    .collect()
}

pub fn verify_signature(public_sec1: &[u8], challenge: &[u8; 32], signature_hex: &str) {
    let key = VerifyingKey::from_sec1_bytes(public_sec1).unwrap();
    let signature = DerSignature::from_bytes(&hex::decode(signature_hex).unwrap()).unwrap();
    key.verify_prehash(challenge, &signature)
        .expect("9E signature verifies with the card's public key");
}

#[tokio::test]
async fn status_reports_the_card_guid_and_blocked_pin() {
    let bridge = start_simulated(true).await;
    let status: serde_json::Value = bridge
        .get(PATH_STATUS)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    assert_eq!(status["card"]["guid"], guid.as_str());
    assert_eq!(status["card"]["pin_blocked"], true);
    assert_eq!(status["card"]["pin_tries_left"], 0);
    assert_eq!(status["readers"][0]["card_present"], true);
}

#[tokio::test]
async fn card_6_signs_a_challenge_with_9e_while_the_pin_is_blocked() {
    let bridge = start_simulated(true).await;
    let challenge = [7u8; 32];
    let response: serde_json::Value = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &json!({ "challenge": hex::encode(challenge) }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = bridge.card.with_card(|c| c.card_auth_public_key_sec1());
    verify_signature(&public, &challenge, response["signature"].as_str().unwrap());
}

#[tokio::test]
async fn unlock_script_then_local_pin_change_unlocks_the_card() {
    let bridge = start_simulated(true).await;
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    let response = bridge
        .post(
            PATH_RUN_SCRIPT,
            &json!({ "expected_guid": guid, "script": { "apdus": unlock_script("Otp12345", "Puk23456") } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let responses = body["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 3);
    assert!(responses
        .iter()
        .all(|r| r.as_str().unwrap().ends_with("9000")));

    let changed = bridge
        .post(
            PATH_CHANGE_PIN,
            &json!({ "expected_guid": guid, "current_pin": "Otp12345", "new_pin": "n3w!" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    bridge.card.with_card(|c| {
        assert!(c.pin_matches("n3w!"));
        assert_eq!(c.pin_tries_left(), 3);
        assert_eq!(c.puk_tries_left(), 3);
    });
}

#[tokio::test]
async fn change_pin_with_wrong_current_pin_reports_tries_left() {
    let bridge = start_simulated(false).await;
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    let response = bridge
        .post(
            PATH_CHANGE_PIN,
            &json!({ "expected_guid": guid, "current_pin": "9999", "new_pin": "4321" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "wrong_pin");
    assert_eq!(body["tries_left"], 2);
}

#[tokio::test]
async fn card_2_new_pin_is_checked_before_the_card_is_touched() {
    let bridge = start_simulated(false).await;
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    for bad in ["123", "123456789", "12\u{e9}4"] {
        let response = bridge
            .post(
                PATH_CHANGE_PIN,
                &json!({ "expected_guid": guid, "current_pin": PIN, "new_pin": bad }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{bad}");
        assert_eq!(error_code(response).await, "invalid_passcode");
    }
    bridge.card.with_card(|c| assert_eq!(c.pin_tries_left(), 3));
}

#[tokio::test]
async fn a_different_card_is_refused() {
    let bridge = start_simulated(true).await;
    let response = bridge
        .post(
            PATH_RUN_SCRIPT,
            &json!({ "expected_guid": "00".repeat(16), "script": { "apdus": unlock_script("Otp12345", "Puk23456") } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "card_changed");
    bridge.card.with_card(|c| assert_eq!(c.pin_tries_left(), 0));
}

#[tokio::test]
async fn brg_5_only_unlock_commands_run_from_a_script() {
    let bridge = start_simulated(false).await;
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    for apdu in [
        // VERIFY (would let a page guess PINs), GENERAL AUTHENTICATE, GET DATA, proprietary CLA.
        "0020008008313233340000ffff".to_owned(),
        hex::encode(piv::general_authenticate_sign(piv::SLOT_CARD_AUTH, &[0; 32]).to_bytes()),
        hex::encode(piv::get_data(piv::TAG_CHUID).to_bytes()),
        "80a4040000".to_owned(),
    ] {
        let response = bridge
            .post(
                PATH_RUN_SCRIPT,
                &json!({ "expected_guid": guid, "script": { "apdus": [apdu] } }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{apdu}");
        assert_eq!(error_code(response).await, "command_not_allowed");
    }
    let empty = bridge
        .post(
            PATH_RUN_SCRIPT,
            &json!({ "expected_guid": guid, "script": { "apdus": [] } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
}

#[tokio::test]
async fn brg_4_card_pulled_mid_script_is_a_clear_error_not_a_hang() {
    let bridge = start_simulated(true).await;
    let guid = bridge.card.with_card(|c| hex::encode(c.guid()));
    // SELECT + CHUID read + SELECT go through, then the card is gone.
    bridge.card.remove_after(3);
    let response = bridge
        .post(
            PATH_RUN_SCRIPT,
            &json!({ "expected_guid": guid, "script": { "apdus": unlock_script("Otp12345", "Puk23456") } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "card_removed");

    // The bridge keeps serving: status says there is no card now.
    let status: serde_json::Value = bridge
        .get(PATH_STATUS)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["card"].is_null());
    let sign = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &json!({ "challenge": "00".repeat(32) }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(sign).await, "no_card");

    // Reinserted, the card still has its old PUK: the interrupted script did no harm.
    bridge.card.insert();
    let retry = bridge
        .post(
            PATH_RUN_SCRIPT,
            &json!({ "expected_guid": guid, "script": { "apdus": unlock_script("Otp12345", "Puk23456") } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
}
