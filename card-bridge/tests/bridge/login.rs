//! AUTH-1, AUTH-2, BRG-6, BRG-4: card login through the bridge on an in-process virtual
//! card — the PIN verified on the card, then the server's challenge signed with the 9A
//! key, in one card job; a wrong PIN counted by the card; the last try only when
//! confirmed; a blocked PIN never tried; the PIN never left verified.

use api_types::bridge::CardLoginRequest;
use api_types::values::{CardGuid, Challenge};
use api_types::CardPasscode;
use card_protocol::client::PivClient;
use card_protocol::pin::Pin;
use card_protocol::piv;
use card_protocol::{Ins, KeySlot, SignedFor, StatusWord};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use serde_json::Value;

use crate::helpers::*;
use crate::pin::assert_left_reset_and_unverified;

const CHALLENGE: [u8; 32] = [0x3c; 32];

fn login(pin: &str, confirm_last_try: bool) -> CardLoginRequest {
    CardLoginRequest {
        challenge: Challenge::from_bytes(CHALLENGE),
        pin: CardPasscode::parse(pin).unwrap(),
        confirm_last_try,
        expected_guid: None,
    }
}

/// Whether `key` signed `challenge` for a login on a page of [`ORIGIN`] (issue 17, item
/// 10: the digest of the purpose, the origin and the challenge, never the bytes alone).
pub fn verifies(key: &p256::PublicKey, challenge: &[u8; 32], signature_hex: &str) -> bool {
    let signature = DerSignature::from_bytes(&hex::decode(signature_hex).unwrap()).unwrap();
    VerifyingKey::from(key)
        .verify_prehash(&SignedFor::Login.digest(ORIGIN, challenge), &signature)
        .is_ok()
}

/// A bridge whose card has been issued its 9A key; the key.
async fn issued_bridge(locked: bool) -> (TestBridge, p256::PublicKey) {
    let bridge = start_simulated(locked).await;
    let key = issue_login_key(&bridge.card);
    (bridge, key)
}

async fn signed_in(bridge: &TestBridge, request: &CardLoginRequest) -> Value {
    let response = bridge.card_login(request).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// What one successful login sends, in one card job: the card checked, the tries read,
/// the PIN verified, the challenge signed with 9A, the PIN forgotten.
fn login_commands(pin: &str, challenge: &[u8; 32]) -> Vec<Vec<u8>> {
    vec![
        piv::select().to_bytes(),
        piv::get_data(piv::TAG_CHUID).to_bytes(),
        piv::verify_pin_status().to_bytes(),
        piv::verify_pin(&Pin::parse(pin).unwrap()).to_bytes(),
        piv::general_authenticate_sign(
            KeySlot::PivAuth,
            &SignedFor::Login.digest(ORIGIN, challenge),
        )
        .to_bytes(),
        piv::verify_pin_reset().to_bytes(),
    ]
}

fn sent_a_pin(sent: &[Vec<u8>]) -> bool {
    sent.iter()
        .any(|apdu| apdu[1] == Ins::Verify.byte() && apdu.len() > 5)
}

fn sent_a_signing(sent: &[Vec<u8>]) -> bool {
    sent.iter()
        .any(|apdu| apdu[1] == Ins::GeneralAuthenticate.byte())
}

#[tokio::test]
async fn auth_1_the_right_pin_gets_the_challenge_signed_with_the_9a_key() {
    let (bridge, key) = issued_bridge(false).await;
    let body = signed_in(&bridge, &login(PIN, false)).await;
    assert_eq!(body["guid"], hex::encode(bridge.guid()));
    let signature = body["signature"].as_str().unwrap();
    assert!(verifies(&key, &CHALLENGE, signature), "not the 9A key's");
    let card_auth = bridge.card.with_card(|c| c.card_auth_public_key());
    assert!(!verifies(&card_auth, &CHALLENGE, signature), "signed by 9E");
    assert_eq!(bridge.take_sent(), login_commands(PIN, &CHALLENGE));
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 3);

    // The PIN is not left verified: another program cannot use the 9A key.
    assert_left_reset_and_unverified(&bridge);
    let mut direct = PivClient::new(bridge.card.clone());
    direct.select().unwrap();
    let refused = direct.sign_with_piv_auth_key(&CHALLENGE).unwrap_err();
    assert_eq!(
        refused.status_word(),
        Some(StatusWord::SECURITY_STATUS_NOT_SATISFIED)
    );

    // Every login signs its own challenge.
    let other = [0xa5; 32];
    let request = CardLoginRequest {
        challenge: Challenge::from_bytes(other),
        ..login(PIN, false)
    };
    let body = signed_in(&bridge, &request).await;
    assert!(verifies(&key, &other, body["signature"].as_str().unwrap()));
}

#[tokio::test]
async fn auth_2_a_wrong_pin_is_counted_by_the_card_and_signs_nothing() {
    let (bridge, _) = issued_bridge(false).await;
    let (status, error) = refusal(bridge.card_login(&login("0000", false)).await).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("wrong_pin")));
    assert_eq!(error["tries_left"], 2);
    assert!(error.get("signature").is_none());
    let sent = bridge.take_sent();
    assert!(sent_a_pin(&sent));
    assert!(!sent_a_signing(&sent), "signed after a wrong PIN");
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 2);
    // The right PIN restores the counter.
    signed_in(&bridge, &login(PIN, false)).await;
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 3);
}

#[tokio::test]
async fn brg_6_the_last_login_try_is_spent_only_when_the_user_confirms() {
    let (bridge, key) = issued_bridge(false).await;
    for left in [2, 1] {
        let (_, error) = refusal(bridge.card_login(&login("0000", false)).await).await;
        assert_eq!(error["code"], "wrong_pin");
        assert_eq!(error["tries_left"], left);
    }
    bridge.take_sent();

    // Without confirmation nothing is tried: the tries were read, and that is all.
    for pin in [PIN, "0000"] {
        let (status, error) = refusal(bridge.card_login(&login(pin, false)).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("last_try_needs_confirmation"))
        );
        assert_eq!(error["tries_left"], 1);
        let sent = bridge.take_sent();
        assert!(sent.contains(&piv::verify_pin_status().to_bytes()));
        assert!(!sent_a_pin(&sent) && !sent_a_signing(&sent));
        assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 1);
    }

    // Confirmed, the try is spent: the right PIN signs and restores the tries.
    let body = signed_in(&bridge, &login(PIN, true)).await;
    assert!(verifies(
        &key,
        &CHALLENGE,
        body["signature"].as_str().unwrap()
    ));
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 3);
}

#[tokio::test]
async fn brg_6_a_blocked_pin_is_refused_at_login_without_trying_it() {
    let (bridge, _) = issued_bridge(true).await;
    let before = bridge.card_state();
    let (status, error) = refusal(bridge.card_login(&login(PIN, true)).await).await;
    assert_eq!((status, error["code"].as_str()), (423, Some("pin_blocked")));
    let sent = bridge.take_sent();
    assert!(
        sent.contains(&piv::verify_pin_status().to_bytes()),
        "tries read"
    );
    assert!(!sent_a_pin(&sent) && !sent_a_signing(&sent));
    assert_eq!(bridge.card_state(), before);
}

#[tokio::test]
async fn auth_2_the_last_wrong_login_blocks_the_pin_and_later_ones_are_not_tried() {
    let (bridge, _) = issued_bridge(false).await;
    for _ in 0..2 {
        refusal(bridge.card_login(&login("0000", false)).await).await;
    }
    let (status, error) = refusal(bridge.card_login(&login("0000", true)).await).await;
    assert_eq!((status, error["code"].as_str()), (423, Some("pin_blocked")));
    assert!(bridge.card.with_card(|c| c.pin_blocked()));
    bridge.take_sent();
    let (_, error) = refusal(bridge.card_login(&login(PIN, true)).await).await;
    assert_eq!(error["code"], "pin_blocked");
    assert!(!sent_a_pin(&bridge.take_sent()));
}

#[tokio::test]
async fn auth_1_a_different_card_than_expected_is_refused_before_the_pin_is_tried() {
    let (bridge, key) = issued_bridge(false).await;
    let other = CardLoginRequest {
        expected_guid: Some(CardGuid::from_bytes([0; 16])),
        ..login(PIN, false)
    };
    let (status, error) = refusal(bridge.card_login(&other).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("card_changed"))
    );
    let sent = bridge.take_sent();
    assert!(
        !sent.iter().any(|apdu| apdu[1] == Ins::Verify.byte()),
        "{sent:?}"
    );
    assert!(!sent_a_signing(&sent));

    // The card the flow started with is signed for.
    let same = CardLoginRequest {
        expected_guid: Some(CardGuid::from_bytes(bridge.guid())),
        ..login(PIN, false)
    };
    let body = signed_in(&bridge, &same).await;
    assert!(verifies(
        &key,
        &CHALLENGE,
        body["signature"].as_str().unwrap()
    ));
}

#[tokio::test]
async fn auth_1_a_bad_request_is_refused_before_the_card_is_touched() {
    let (bridge, _) = issued_bridge(false).await;
    let before = bridge.card_state();
    let good = serde_json::to_value(login(PIN, true)).unwrap();
    let with = |field: &str, value: Value| {
        let mut request = good.clone();
        request[field] = value;
        request
    };
    let mut bad: Vec<Value> = ["00".repeat(31), "00".repeat(33), "zz".repeat(32)]
        .into_iter()
        .chain([String::new(), "0".repeat(63)])
        .map(|challenge| with("challenge", challenge.into()))
        .collect();
    for guid in ["00".repeat(15), "xyz".to_owned()] {
        bad.push(with("expected_guid", guid.into()));
    }
    for pin in ["12", "123456789", "12\u{e9}4"] {
        bad.push(with("pin", pin.into()));
    }
    // Unknown fields are refused too.
    bad.push(with("grant", Value::Null));
    for request in &bad {
        let response = bridge
            .post(api_types::bridge::PATH_CARD_LOGIN, request)
            .send()
            .await
            .unwrap();
        let (status, error) = refusal(response).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (400, Some("bad_request")),
            "{request}"
        );
    }
    assert!(bridge.take_sent().is_empty());
    assert_eq!(bridge.card_state(), before);
}

#[tokio::test]
async fn auth_1_a_card_without_a_login_key_is_a_clear_card_error() {
    let bridge = start_simulated(false).await;
    let (status, error) = refusal(bridge.card_login(&login(PIN, false)).await).await;
    assert_eq!((status, error["code"].as_str()), (502, Some("card_error")));
    assert!(
        error["message"].as_str().unwrap().contains("no login key"),
        "{error}"
    );
    // The PIN was verified, then forgotten at once.
    let sent = bridge.take_sent();
    assert_eq!(sent.last(), Some(&piv::verify_pin_reset().to_bytes()));
    assert_left_reset_and_unverified(&bridge);
}

#[tokio::test]
async fn brg_4_a_card_pulled_mid_login_is_a_clear_error_and_left_unverified() {
    let (bridge, _) = issued_bridge(false).await;
    // SELECT, CHUID, the tries and the PIN answered; then the card is gone.
    bridge.card.remove_after(4);
    let (status, error) = refusal(bridge.card_login(&login(PIN, false)).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("card_removed"))
    );
    bridge.card.insert();
    assert_left_reset_and_unverified(&bridge);
}

#[test]
fn brg_6_a_login_request_never_prints_the_pin() {
    let request = login("S3cr3t!9", true);
    let printed = format!("{request:?} {request:#?}");
    assert!(!printed.contains("S3cr3t!9"), "{printed}");
    assert!(printed.contains("confirm_last_try"));
}
