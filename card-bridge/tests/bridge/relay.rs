//! CARD-3 / BRG-5: the server's secure channel to the card, relayed by the bridge — the
//! opening (the bridge checks the card), then sealed scripts (the bridge sends nothing of
//! its own, and checks the card only through the reader's insertion count) — and a card
//! pulled mid-relay (BRG-4).

use api_types::bridge::{PATH_SIGN_CHALLENGE, PATH_STATUS};
use bridge_grant::{GrantRequest, Operation};
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::pin::{Pin, Puk};
use card_protocol::piv;
use card_protocol::scp03::{HostHandshake, HostSession, SecurityLevel};
use rand::rngs::OsRng;
use serde_json::json;

use crate::helpers::*;

pub const ONE_TIME_PIN: &str = "Otp12345";
pub const NEW_PUK: &str = "Puk23456";

/// The server's side of one channel: the opening it sends, then the session.
pub struct ServerChannel {
    handshake: Option<HostHandshake>,
    session: Option<HostSession>,
}

impl ServerChannel {
    /// A fresh INITIALIZE UPDATE for the card's keys.
    pub fn new(bridge: &TestBridge) -> (Self, Vec<Vec<u8>>) {
        let keys = bridge.card.with_card(|c| c.scp03_keys());
        let handshake = HostHandshake::random(keys, 0x30, &mut OsRng);
        let opening = vec![handshake.initialize_update().to_bytes()];
        let channel = Self {
            handshake: Some(handshake),
            session: None,
        };
        (channel, opening)
    }

    /// From the card's answer to the opening: EXTERNAL AUTHENTICATE and `commands`
    /// sealed, as one script.
    pub fn seal(&mut self, opening_answer: &str, commands: Vec<CommandApdu>) -> Vec<Vec<u8>> {
        let answer = ResponseApdu::parse(&hex::decode(opening_answer).unwrap()).unwrap();
        let (external_authenticate, mut session) = self
            .handshake
            .take()
            .unwrap()
            .authenticate(&answer, SecurityLevel::CMacCDecRMacREnc)
            .unwrap();
        let mut script = vec![external_authenticate.to_bytes()];
        for command in commands {
            script.push(session.wrap(command).unwrap().to_bytes());
        }
        self.session = Some(session);
        script
    }

    /// The card's answers to a sealed script, opened: their status words.
    pub fn open_answers(&mut self, answers: &[serde_json::Value]) -> Vec<u16> {
        let session = self.session.as_mut().unwrap();
        let mut answers = answers
            .iter()
            .map(|a| ResponseApdu::parse(&hex::decode(a.as_str().unwrap()).unwrap()).unwrap());
        session
            .confirm_external_authenticate(&answers.next().unwrap())
            .unwrap();
        answers.map(|a| session.unwrap(a).unwrap().sw.0).collect()
    }
}

/// The unlock's sealed commands: reset the PIN to a one-time PIN, rotate the PUK.
pub fn unlock_commands(one_time_pin: &str, new_puk: &str) -> Vec<CommandApdu> {
    let puk = Puk::parse(PUK).unwrap();
    vec![
        piv::reset_retry_counter(&puk, &Pin::parse(one_time_pin).unwrap()),
        piv::change_puk(&puk, &Puk::parse(new_puk).unwrap()),
    ]
}

/// Relays the opening with its grant and returns the card's answer (hex).
pub async fn open_channel(bridge: &TestBridge, opening: &[Vec<u8>]) -> String {
    let grant = bridge.grant(Operation::OpenChannel, Some(opening));
    let response = bridge.relay(opening, Some(grant)).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["responses"][0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn card_3_an_scp03_unlock_relayed_by_the_bridge_then_a_local_pin_change() {
    let bridge = start_simulated(true).await;
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    // The opening: SELECT and CHUID by the bridge, then exactly the granted command.
    let sent = bridge.take_sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0], piv::select().to_bytes());
    assert_eq!(sent[2], opening[0]);

    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let response = bridge.relay(&script, Some(grant)).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let answers = body["responses"].as_array().unwrap();
    assert_eq!(channel.open_answers(answers), vec![0x9000, 0x9000]);
    // Nothing of the bridge's own before, between or after the sealed commands.
    assert_eq!(bridge.take_sent(), script);

    let grant = bridge.grant(Operation::ChangePin, None);
    let changed = bridge
        .change_pin(Some(grant), ONE_TIME_PIN, "n3w!", false)
        .await;
    assert_eq!(changed.status(), 200);
    let body: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(body["pin_tries_left"], 3);
    bridge.card.with_card(|c| {
        assert!(c.pin_matches("n3w!"));
        assert_eq!(c.pin_tries_left(), 3);
        assert!(c.puk_matches(NEW_PUK));
        assert_eq!(c.puk_tries_left(), 3);
    });
}

#[tokio::test]
async fn brg_5_a_card_swapped_between_the_relays_is_refused() {
    let bridge = start_simulated(true).await;
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let grant = bridge.grant(Operation::SealedScript, Some(&script));

    // Another card goes in; the grant names the first one.
    let first = bridge.card.swap(virtual_card_with(true, Some([0x11; 16])));
    bridge.take_sent();
    let before = bridge.card_state();
    let (status, body) = refusal(bridge.relay(&script, Some(grant)).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("card_changed")));
    assert!(
        bridge.take_sent().is_empty(),
        "nothing reaches the other card"
    );
    assert_eq!(bridge.card_state(), before);

    // The first card back (a new insertion, its channel gone): still refused.
    bridge.card.swap(first);
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let (status, body) = refusal(bridge.relay(&script, Some(grant)).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("card_changed")));
    assert!(bridge.take_sent().is_empty());
    assert_eq!(bridge.card.with_card(|c| c.pin_tries_left()), 0);
}

#[tokio::test]
async fn brg_5_a_sealed_script_needs_a_channel_opened_through_the_bridge() {
    let bridge = start_simulated(true).await;
    let (mut channel, opening) = ServerChannel::new(&bridge);
    // The opening went to the card some other way, not through the bridge.
    let answer = bridge
        .card
        .transmit_apdu(&piv::select().to_bytes())
        .unwrap();
    assert!(answer.ends_with(&[0x90, 0x00]));
    let answer = hex::encode(bridge.card.transmit_apdu(&opening[0]).unwrap());
    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let (status, body) = refusal(bridge.relay(&script, Some(grant)).await).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("card_changed")));
    assert!(bridge.take_sent().is_empty());
}

// BRG-5 (issue 17, item 9): a grant is bound to its unlock — a sealed script granted for
// another attempt than the one whose channel this card has open is refused before
// anything is sent, even with the right card and commands.
#[tokio::test]
async fn brg_5_a_sealed_script_for_another_unlock_than_the_open_channels_is_refused() {
    let bridge = start_simulated(true).await;
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let other_unlock = GrantRequest {
        attempt: "attempt-2",
        ..bridge.request(Operation::SealedScript, Some(&script))
    };
    let grant = bridge.signer.grant(&other_unlock);
    bridge.take_sent();
    let (status, body) = refusal(bridge.relay(&script, Some(grant)).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("grant_wrong_attempt"))
    );
    assert!(bridge.take_sent().is_empty(), "sent to the card");
    // The unlock's own grant still goes through.
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    assert_eq!(bridge.relay(&script, Some(grant)).await.status(), 200);
}

#[tokio::test]
async fn brg_5_relays_take_one_to_eight_well_formed_commands() {
    let bridge = start_simulated(false).await;
    let opening = vec![hex::decode("80503000080102030405060708").unwrap()];
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    for apdus in [
        json!([]),
        json!(["zz"]),
        json!(["0050"]),
        json!(vec!["00a4040000"; 9]),
    ] {
        let response = bridge
            .post(
                api_types::bridge::PATH_RELAY,
                &json!({ "apdus": apdus, "grant": grant }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{apdus}");
        assert_eq!(error_code(response).await, "bad_request");
    }
    assert!(bridge.take_sent().is_empty());
    // Refused input did not use the grant up.
    let response = bridge.relay(&opening, Some(grant)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn brg_4_card_pulled_mid_relay_is_a_clear_error_not_a_hang() {
    let bridge = start_simulated(true).await;
    let (_, opening) = ServerChannel::new(&bridge);
    // SELECT and the CHUID read go through, then the card is gone.
    bridge.card.remove_after(2);
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    let response = bridge.relay(&opening, Some(grant)).await;
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

    // Reinserted, the card opens a channel and unlocks: the cut did no harm.
    bridge.card.insert();
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let response = bridge.relay(&script, Some(grant)).await;
    let body: serde_json::Value = response.json().await.unwrap();
    let answers = body["responses"].as_array().unwrap();
    assert_eq!(channel.open_answers(answers), vec![0x9000, 0x9000]);
}
