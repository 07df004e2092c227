//! Reading the card on an in-process virtual card (BRG-3 `--simulate`): status and the
//! CARD-6 proof of presence. Relays are in `relay.rs`, PIN operations in `pin.rs`.

use api_types::bridge::{PATH_SIGN_CHALLENGE, PATH_STATUS};
use card_protocol::SignedFor;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use serde_json::json;

use crate::helpers::*;

/// Whether the 9E key signed `challenge` for a page on [`ORIGIN`] (CARD-6, issue 17
/// item 10: the digest of the purpose, the origin and the challenge).
fn signed_for_our_page(public_sec1: &[u8], challenge: &[u8; 32], signature_hex: &str) -> bool {
    let key = VerifyingKey::from_sec1_bytes(public_sec1).unwrap();
    let signature = DerSignature::from_bytes(&hex::decode(signature_hex).unwrap()).unwrap();
    let digest = SignedFor::CardProof.digest(ORIGIN, challenge);
    key.verify_prehash(&digest, &signature).is_ok()
}

pub fn verify_signature(public_sec1: &[u8], challenge: &[u8; 32], signature_hex: &str) {
    assert!(
        signed_for_our_page(public_sec1, challenge, signature_hex),
        "9E signature verifies with the card's public key"
    );
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

// Issue 17, item 10: the 9E key signs no bytes of a page's choosing — only the digest of
// the purpose, the calling page's origin and its challenge; a page on another allowed
// origin gets a signature that proves nothing for ours.
#[tokio::test]
async fn brg_5_card_6_the_card_signs_for_the_calling_origin_never_raw_bytes() {
    let bridge = start_simulated(true).await;
    let challenge = [7u8; 32];
    let body = json!({ "challenge": hex::encode(challenge) });
    let response: serde_json::Value = bridge
        .post_from(OTHER_ORIGIN, PATH_SIGN_CHALLENGE, &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signature = response["signature"].as_str().unwrap();
    let public = bridge.card.with_card(|c| c.card_auth_public_key_sec1());
    assert!(!signed_for_our_page(&public, &challenge, signature));
    let key = VerifyingKey::from_sec1_bytes(&public).unwrap();
    let der = DerSignature::from_bytes(&hex::decode(signature).unwrap()).unwrap();
    assert!(
        key.verify_prehash(&challenge, &der).is_err(),
        "raw bytes signed"
    );
    let theirs = SignedFor::CardProof.digest(OTHER_ORIGIN, &challenge);
    assert!(key.verify_prehash(&theirs, &der).is_ok());
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
