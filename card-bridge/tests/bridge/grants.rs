//! BRG-5: each way a grant can be wrong has its own refusal, and a refused request sends
//! the card nothing (or, for a grant naming another card, nothing beyond reading which
//! card is in the reader) and changes nothing on it.

use api_types::bridge::PATH_RELAY;
use bridge_grant::{Claims, GrantRequest, GrantSigner, Operation};
use card_protocol::piv;
use serde_json::json;

use crate::helpers::*;
use crate::relay::ServerChannel;

/// A relay's opening and a card-state snapshot to compare with afterwards.
async fn setup() -> (TestBridge, Vec<Vec<u8>>, serde_json::Value) {
    let bridge = start_simulated(true).await;
    let (_, opening) = ServerChannel::new(&bridge);
    let before = bridge.card_state();
    (bridge, opening, before)
}

/// Refused with `code` (and `status`), nothing sent, nothing changed.
async fn assert_refused_untouched(
    bridge: &TestBridge,
    response: reqwest::Response,
    status: u16,
    code: &str,
    before: &serde_json::Value,
) {
    let (got_status, body) = refusal(response).await;
    assert_eq!(
        (got_status, body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert!(bridge.take_sent().is_empty(), "the card was sent commands");
    assert_eq!(&bridge.card_state(), before);
}

#[tokio::test]
async fn brg_5_a_relay_without_a_grant_is_refused() {
    let (bridge, opening, before) = setup().await;
    let response = bridge.relay(&opening, None).await;
    assert_refused_untouched(&bridge, response, 403, "grant_missing", &before).await;
    let response = bridge.change_pin(None, PIN, "4321", false).await;
    assert_refused_untouched(&bridge, response, 403, "grant_missing", &before).await;
}

#[tokio::test]
async fn brg_5_a_grant_signed_by_another_key_is_refused() {
    let (bridge, opening, before) = setup().await;
    let forger = GrantSigner::generate();
    let forged = forger.grant(&bridge.request(Operation::OpenChannel, Some(&opening)));
    let response = bridge.relay(&opening, Some(forged)).await;
    assert_refused_untouched(&bridge, response, 403, "grant_invalid", &before).await;
    let garbled = api_types::bridge::SignedGrant {
        claims: "not base64 at all!".into(),
        signature: "x".into(),
    };
    let response = bridge.change_pin(Some(garbled), PIN, "4321", false).await;
    assert_refused_untouched(&bridge, response, 403, "grant_invalid", &before).await;
}

#[tokio::test]
async fn brg_5_an_expired_grant_is_refused() {
    let (bridge, opening, before) = setup().await;
    // Signed two minutes' life; the bridge's clock moves past it (and the clock skew).
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    bridge.advance(120 + bridge_grant::CLOCK_SKEW_SECS + 1);
    let response = bridge.relay(&opening, Some(grant)).await;
    assert_refused_untouched(&bridge, response, 410, "grant_expired", &before).await;

    // Claims signed with times long past.
    let fresh = bridge.grant(Operation::ChangePin, None);
    let mut claims: Claims = decode_claims(&fresh.claims);
    claims.issued_at = NOW - 3600;
    claims.expires_at = NOW - 3600 + 60;
    let response = bridge
        .change_pin(Some(bridge.signer.sign(&claims)), PIN, "4321", false)
        .await;
    assert_refused_untouched(&bridge, response, 410, "grant_expired", &before).await;
}

fn decode_claims(encoded: &str) -> Claims {
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

#[tokio::test]
async fn brg_5_a_replayed_grant_is_refused() {
    let bridge = start_simulated(false).await;
    let grant = bridge.grant(Operation::ChangePin, None);
    let first = bridge
        .change_pin(Some(grant.clone()), PIN, "4321", false)
        .await;
    assert_eq!(first.status(), 200);
    bridge.take_sent();
    let before = bridge.card_state();
    let again = bridge.change_pin(Some(grant), "4321", "5678", false).await;
    assert_refused_untouched(&bridge, again, 409, "grant_replayed", &before).await;

    let (_, opening) = ServerChannel::new(&bridge);
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    assert_eq!(
        bridge.relay(&opening, Some(grant.clone())).await.status(),
        200
    );
    bridge.take_sent();
    let before = bridge.card_state();
    let again = bridge.relay(&opening, Some(grant)).await;
    assert_refused_untouched(&bridge, again, 409, "grant_replayed", &before).await;
}

#[tokio::test]
async fn brg_5_a_grant_for_another_origin_is_refused() {
    let (bridge, opening, before) = setup().await;
    // The other origin may call the bridge, but this grant is for its pages only.
    let theirs = bridge.signer.grant(&GrantRequest {
        origin: OTHER_ORIGIN,
        ..bridge.request(Operation::OpenChannel, Some(&opening))
    });
    let response = bridge.relay(&opening, Some(theirs)).await;
    assert_refused_untouched(&bridge, response, 403, "grant_wrong_origin", &before).await;
    // And a grant for our origin, sent from the other one.
    let ours = bridge.grant(Operation::OpenChannel, Some(&opening));
    let apdus: Vec<String> = opening.iter().map(hex::encode).collect();
    let response = bridge
        .post_from(
            OTHER_ORIGIN,
            PATH_RELAY,
            &json!({ "apdus": apdus, "grant": ours }),
        )
        .send()
        .await
        .unwrap();
    assert_refused_untouched(&bridge, response, 403, "grant_wrong_origin", &before).await;
}

#[tokio::test]
async fn brg_5_a_grant_for_another_card_is_refused() {
    let (bridge, opening, before) = setup().await;
    let other_card = GrantRequest {
        card_guid: [0xEE; 16],
        ..bridge.request(Operation::OpenChannel, Some(&opening))
    };
    let response = bridge
        .relay(&opening, Some(bridge.signer.grant(&other_card)))
        .await;
    let (status, body) = refusal(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("grant_wrong_card"))
    );
    // Only the card's identity was read; the channel's opening was not sent.
    let sent = bridge.take_sent();
    assert_eq!(sent.len(), 2, "{sent:02x?}");
    assert_eq!(sent[0], piv::select().to_bytes());
    assert_eq!(sent[1], piv::get_data(piv::TAG_CHUID).to_bytes());
    assert_eq!(bridge.card_state(), before);

    let other_card = GrantRequest {
        card_guid: [0xEE; 16],
        ..bridge.request(Operation::ChangePin, None)
    };
    let unlocked = start_simulated(false).await;
    let before = unlocked.card_state();
    let response = unlocked
        .change_pin(Some(unlocked.signer.grant(&other_card)), PIN, "4321", false)
        .await;
    let (status, body) = refusal(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("grant_wrong_card"))
    );
    assert_eq!(
        unlocked.take_sent().len(),
        2,
        "no VERIFY, no CHANGE REFERENCE DATA"
    );
    assert_eq!(unlocked.card_state(), before);
}

#[tokio::test]
async fn brg_5_a_grant_for_another_operation_is_refused() {
    let (bridge, opening, before) = setup().await;
    let pin_grant = bridge.grant(Operation::ChangePin, None);
    let response = bridge.relay(&opening, Some(pin_grant)).await;
    assert_refused_untouched(&bridge, response, 403, "grant_wrong_operation", &before).await;
    let relay_grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    let response = bridge
        .change_pin(Some(relay_grant), PIN, "4321", false)
        .await;
    assert_refused_untouched(&bridge, response, 403, "grant_wrong_operation", &before).await;
}

#[tokio::test]
async fn brg_5_a_grant_for_other_commands_is_refused() {
    let (bridge, opening, before) = setup().await;
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    // The page slips in a VERIFY, or changes a byte, or drops a command.
    let mut extra = vec![piv::verify_pin(&card_protocol::Pin::parse(PIN).unwrap()).to_bytes()];
    extra.extend(opening.iter().cloned());
    let mut changed = opening.clone();
    changed[0][6] ^= 0x01;
    for apdus in [extra, changed] {
        let response = bridge.relay(&apdus, Some(grant.clone())).await;
        assert_refused_untouched(&bridge, response, 403, "grant_wrong_script", &before).await;
    }
    // A sealed-script grant, for other commands.
    let sealed = bridge.grant(Operation::SealedScript, Some(&opening));
    let response = bridge
        .relay(&[piv::select().to_bytes()], Some(sealed))
        .await;
    assert_refused_untouched(&bridge, response, 403, "grant_wrong_script", &before).await;
}

#[tokio::test]
async fn brg_5_the_raw_run_script_endpoint_is_gone() {
    let bridge = start_simulated(true).await;
    let script = vec![hex::encode(piv::select().to_bytes())];
    let response = bridge
        .post(
            "/v1/card/run-script",
            &json!({ "expected_guid": hex::encode(bridge.guid()), "script": { "apdus": script } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(response).await, "not_found");
    assert!(bridge.take_sent().is_empty());
}
