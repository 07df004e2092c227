//! Reading the card on an in-process virtual card (BRG-3 `--simulate`): status and the
//! CARD-6 proof of presence. Relays are in `relay.rs`, PIN operations in `pin.rs`.

use api_types::bridge::{PATH_SIGN_CHALLENGE, PATH_STATUS};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use serde_json::json;

use crate::helpers::*;

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
async fn card_6_a_different_card_than_expected_is_refused() {
    let bridge = start_simulated(true).await;
    let response = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &json!({ "challenge": "00".repeat(32), "expected_guid": "00".repeat(16) }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, "card_changed");
}
