//! BRG-6, CARD-5, UNL-6: the card passcode through the bridge — tries read first, the
//! last one spent only when confirmed, a blocked PIN refused, the PIN never left verified,
//! a reused PIN refused by the card with its own code, except right after an unlock.

use bridge_grant::Operation;
use card_protocol::client::PivClient;
use card_protocol::pin::{Pin, Puk};
use card_protocol::{piv, Ins};

use crate::helpers::*;

/// The INS byte of every command sent, and whether it carried data.
fn sent_commands(bridge: &TestBridge) -> Vec<(u8, bool)> {
    bridge
        .take_sent()
        .iter()
        .map(|apdu| (apdu[1], apdu.len() > 5))
        .collect()
}

const VERIFY_WITH_PIN: (u8, bool) = (Ins::Verify.byte(), true);

async fn body(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Two wrong PINs through the bridge: one try left.
async fn down_to_the_last_try(bridge: &TestBridge) {
    for left in [2, 1] {
        let (status, error) = refusal(bridge.verify_pin("0000", false).await).await;
        assert_eq!((status, error["code"].as_str()), (422, Some("wrong_pin")));
        assert_eq!(error["tries_left"], left);
    }
    bridge.take_sent();
}

#[tokio::test]
async fn brg_6_the_last_try_is_spent_only_when_the_user_confirms() {
    let bridge = start_simulated(false).await;
    down_to_the_last_try(&bridge).await;

    // Without confirmation nothing is tried: the tries were read, and that is all.
    for pin in [PIN, "0000"] {
        let (status, error) = refusal(bridge.verify_pin(pin, false).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("last_try_needs_confirmation"))
        );
        assert_eq!(error["tries_left"], 1);
        assert!(!sent_commands(&bridge).contains(&VERIFY_WITH_PIN));
        assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 1);
    }
    let grant = bridge.grant(Operation::ChangePin, None);
    let (status, error) = refusal(bridge.change_pin(Some(grant), PIN, "4321", false).await).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("last_try_needs_confirmation"))
    );
    assert!(!sent_commands(&bridge)
        .iter()
        .any(|&(ins, _)| ins == Ins::ChangeReferenceData.byte()));
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 1);

    // Confirmed, the try is spent: the right PIN restores the tries.
    let verified = body(bridge.verify_pin(PIN, true).await).await;
    assert_eq!(verified["pin_tries_left"], 3);

    // Confirmed and wrong, the last try is gone.
    down_to_the_last_try(&bridge).await;
    let (status, error) = refusal(bridge.verify_pin("0000", true).await).await;
    assert_eq!((status, error["code"].as_str()), (423, Some("pin_blocked")));
    assert!(bridge.card.with_card(|c| c.pin_blocked()));
}

#[tokio::test]
async fn brg_6_the_last_try_of_a_pin_change_needs_confirmation_too() {
    let bridge = start_simulated(false).await;
    down_to_the_last_try(&bridge).await;
    let grant = bridge.grant(Operation::ChangePin, None);
    let changed = body(bridge.change_pin(Some(grant), PIN, "4321", true).await).await;
    assert_eq!(changed["pin_tries_left"], 3);
    assert!(bridge.card.with_card(|c| c.pin_matches("4321")));
}

#[tokio::test]
async fn brg_6_a_blocked_pin_is_refused_without_trying_it() {
    let bridge = start_simulated(true).await;
    let before = bridge.card_state();
    let (status, error) = refusal(bridge.verify_pin(PIN, true).await).await;
    assert_eq!((status, error["code"].as_str()), (423, Some("pin_blocked")));
    let grant = bridge.grant(Operation::ChangePin, None);
    let (status, error) = refusal(bridge.change_pin(Some(grant), PIN, "4321", true).await).await;
    assert_eq!((status, error["code"].as_str()), (423, Some("pin_blocked")));
    let sent = sent_commands(&bridge);
    assert!(
        sent.contains(&(Ins::Verify.byte(), false)),
        "tries were read"
    );
    assert!(!sent.contains(&VERIFY_WITH_PIN));
    assert!(!sent
        .iter()
        .any(|&(ins, _)| ins == Ins::ChangeReferenceData.byte()));
    assert_eq!(bridge.card_state(), before);
}

/// What another program would find on the card after the bridge left it: the PIN not
/// verified, and the card reset (PIV no longer selected).
pub fn assert_left_reset_and_unverified(bridge: &TestBridge) {
    let chuid = bridge
        .card
        .transmit_apdu(&piv::get_data(piv::TAG_CHUID).to_bytes())
        .unwrap();
    assert_eq!(chuid, vec![0x69, 0x85], "the card was not reset");
    let mut client = PivClient::new(bridge.card.clone());
    client.select().unwrap();
    assert_eq!(
        client.pin_status().unwrap(),
        piv::PinStatus::TriesLeft(3),
        "the PIN is still verified"
    );
}

#[tokio::test]
async fn brg_6_the_pin_is_not_left_verified_after_the_bridge_leaves_the_card() {
    let bridge = start_simulated(false).await;
    body(bridge.verify_pin(PIN, false).await).await;
    assert_left_reset_and_unverified(&bridge);

    let grant = bridge.grant(Operation::ChangePin, None);
    body(bridge.change_pin(Some(grant), PIN, "4321", false).await).await;
    assert_left_reset_and_unverified(&bridge);

    // A status read leaves the card as it is (a secure channel may be open).
    bridge
        .get(api_types::bridge::PATH_STATUS)
        .send()
        .await
        .unwrap();
    let chuid = bridge
        .card
        .transmit_apdu(&piv::get_data(piv::TAG_CHUID).to_bytes())
        .unwrap();
    assert!(chuid.ends_with(&[0x90, 0x00]));
}

#[tokio::test]
async fn brg_6_a_wrong_pin_reports_the_tries_left() {
    let bridge = start_simulated(false).await;
    let grant = bridge.grant(Operation::ChangePin, None);
    let (status, error) =
        refusal(bridge.change_pin(Some(grant), "9999", "4321", false).await).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("wrong_pin")));
    assert_eq!(error["tries_left"], 2);
    assert!(bridge.card.with_card(|c| c.pin_matches(PIN)));
}

#[tokio::test]
async fn card_2_a_malformed_pin_is_refused_before_the_grant_or_the_card_is_used() {
    let bridge = start_simulated(false).await;
    let grant = bridge.grant(Operation::ChangePin, None);
    for bad in ["123", "123456789", "12\u{e9}4"] {
        for (current, new) in [(PIN, bad), (bad, "4321")] {
            let response = bridge
                .change_pin(Some(grant.clone()), current, new, false)
                .await;
            let (status, error) = refusal(response).await;
            assert_eq!(
                (status, error["code"].as_str()),
                (400, Some("bad_request")),
                "{current:?} -> {new:?}"
            );
        }
    }
    let response = bridge.verify_pin("12", false).await;
    assert_eq!(error_code(response).await, "bad_request");
    assert!(bridge.take_sent().is_empty());
    // The grant was not spent by the refusals.
    body(bridge.change_pin(Some(grant), PIN, "4321", false).await).await;
}

#[tokio::test]
async fn card_5_a_pin_from_the_last_five_is_refused_as_pin_reused() {
    let bridge = start_simulated(false).await;
    let mut current = PIN.to_owned();
    for next in ["aaaa", "bbbb", "cccc", "dddd"] {
        let grant = bridge.grant(Operation::ChangePin, None);
        body(bridge.change_pin(Some(grant), &current, next, false).await).await;
        current = next.to_owned();
    }
    // The card remembers 1234, aaaa, bbbb, cccc, dddd: each is refused.
    for old in [PIN, "aaaa", "cccc", "dddd"] {
        let before = bridge.card_state();
        let grant = bridge.grant(Operation::ChangePin, None);
        let (status, error) =
            refusal(bridge.change_pin(Some(grant), "dddd", old, false).await).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (422, Some("pin_reused")),
            "{old}"
        );
        assert!(error["message"].as_str().unwrap().contains("last five"));
        assert_eq!(bridge.card_state(), before, "{old}");
    }
    bridge.card.with_card(|c| {
        assert!(c.pin_matches("dddd"));
        assert_eq!(c.pin_tries_left(), 3);
    });
}

#[tokio::test]
async fn unl_6_right_after_an_unlock_the_previous_pin_may_be_chosen_again() {
    let bridge = start_simulated(true).await;
    // The unlock's reset (here sent straight to the card) sets a one-time PIN.
    let mut client = PivClient::new(bridge.card.clone());
    client.select().unwrap();
    let one_time = Pin::parse("Otp12345").unwrap();
    client
        .reset_retry_counter(&Puk::parse(PUK).unwrap(), &one_time)
        .unwrap();
    let grant = bridge.grant(Operation::ChangePin, None);
    body(bridge.change_pin(Some(grant), "Otp12345", PIN, false).await).await;
    assert!(bridge.card.with_card(|c| c.pin_matches(PIN)));
    // Only that once.
    let grant = bridge.grant(Operation::ChangePin, None);
    let (_, error) = refusal(bridge.change_pin(Some(grant), PIN, PIN, false).await).await;
    assert_eq!(error["code"], "pin_reused");
}
