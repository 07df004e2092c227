//! The real chain: virtual card → vpcd → pcscd → PC/SC → bridge (BRG-3, CARD-4, BRG-4):
//! events, CARD-6, an SCP03 unlock relayed through real PC/SC, the reader's event counter
//! telling a reinserted card apart (BRG-5), the reset on leaving after a PIN operation
//! (BRG-6), card login (AUTH-1), and a card pulled mid-relay.
//! Needs pcscd running with vsmartcard's vpcd driver (`cargo xtask test` starts it).
//! Uses vpcd's first slot only; the virtual-card crate's own PC/SC tests use the second.

use std::net::SocketAddr;
use std::time::Duration;

use api_types::bridge::{CardLoginRequest, PATH_SIGN_CHALLENGE, PATH_STATUS};
use api_types::values::{CardGuid, Challenge};
use api_types::CardPasscode;
use bridge_grant::Operation;
use card_bridge::pcsc_backend::{spawn_event_watcher, PcscAccess};
use card_protocol::client::PivClient;
use card_protocol::piv;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::card_ops::verify_signature;
use crate::helpers::*;
use crate::login::verifies;
use crate::relay::{open_channel, unlock_commands, ServerChannel, NEW_PUK, ONE_TIME_PIN};

const VPCD: &str = "127.0.0.1:35963";
const READER: &str = "Virtual PCD 00 00";

async fn wait_for_card(bridge: &TestBridge, present: bool) -> Value {
    for _ in 0..100 {
        let status: Value = bridge
            .get(PATH_STATUS)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["card"].is_null() != present {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("pcscd never reported the card as present={present}");
}

async fn next_event(
    socket: &mut (impl StreamExt<
        Item = Result<
            tokio_tungstenite::tungstenite::Message,
            tokio_tungstenite::tungstenite::Error,
        >,
    > + Unpin),
    kind: &str,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within 10 s"))
            .unwrap()
            .unwrap();
        let event: Value = serde_json::from_str(message.to_text().unwrap()).unwrap();
        if event["event"] == kind {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pcsc_unlock_through_pcscd_and_vpcd_with_events() {
    assert!(
        std::process::Command::new("pgrep").args(["-x", "pcscd"]).status().unwrap().success(),
        "pcscd is not running: start it with `/usr/sbin/pcscd --foreground &` or use `cargo xtask test`"
    );
    let card = new_card(true);
    let login_key = issue_login_key(&card);
    let access = PcscAccess::new(Some(READER.to_owned()));
    let bridge = start_with(Box::new(access), card.clone()).await;
    spawn_event_watcher(Some(READER.to_owned()), bridge.events.clone()).unwrap();

    let mut request = format!("ws://127.0.0.1:{}/v1/events", bridge.port)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", ORIGIN.parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let first = next_event(&mut socket, "snapshot").await;
    assert!(first["status"]["card"].is_null(), "{first}");

    // Insert: pcscd notices, the watcher pushes an event (no polling by the page).
    let addr: SocketAddr = VPCD.parse().unwrap();
    let plugged = virtual_card::vpcd::insert(card.clone(), addr).unwrap();
    let inserted = next_event(&mut socket, "inserted").await;
    assert_eq!(inserted["reader"], READER);
    let status = wait_for_card(&bridge, true).await;
    let guid = card.with_card(|c| hex::encode(c.guid()));
    assert_eq!(status["backend"], "pcsc");
    assert_eq!(status["card"]["guid"], guid.as_str());
    assert_eq!(status["card"]["pin_blocked"], true);

    // CARD-6 through real PC/SC.
    let challenge = [0x5a; 32];
    let signed: Value = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &json!({ "challenge": hex::encode(challenge), "expected_guid": guid }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = card.with_card(|c| c.card_auth_public_key_sec1());
    verify_signature(&public, &challenge, signed["signature"].as_str().unwrap());

    // The unlock: the server's channel relayed (opening, then the sealed script), then
    // the local PIN change.
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    let script = channel.seal(&answer, unlock_commands(ONE_TIME_PIN, NEW_PUK));
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let ran = bridge.relay(&script, Some(grant)).await;
    assert_eq!(ran.status(), 200);
    let body: Value = ran.json().await.unwrap();
    let answers = body["responses"].as_array().unwrap();
    assert_eq!(channel.open_answers(answers), vec![0x9000, 0x9000]);
    let grant = bridge.grant(Operation::ChangePin, None);
    let changed = bridge
        .change_pin(Some(grant), ONE_TIME_PIN, "Pa55", false)
        .await;
    assert_eq!(changed.status(), 200);
    card.with_card(|c| {
        assert!(c.pin_matches("Pa55"));
        assert_eq!(c.pin_tries_left(), 3);
        assert!(c.puk_matches(NEW_PUK));
    });
    let status = wait_for_card(&bridge, true).await;
    assert_eq!(status["card"]["pin_blocked"], false);

    // BRG-6: after a PIN operation pcscd reset the card, so the PIN is not verified.
    let verified = bridge.verify_pin("Pa55", false).await;
    assert_eq!(verified.status(), 200);
    let unselected = card
        .transmit_apdu(&piv::get_data(piv::TAG_CHUID).to_bytes())
        .unwrap();
    assert_eq!(unselected, vec![0x69, 0x85], "pcscd did not reset the card");
    let mut direct = PivClient::new(card.clone());
    direct.select().unwrap();
    assert_eq!(direct.pin_status().unwrap(), piv::PinStatus::TriesLeft(3));

    // AUTH-1 through real PC/SC: the PIN verified and the challenge signed with 9A in
    // one transaction, and the card reset after it.
    let login = bridge
        .card_login(&CardLoginRequest {
            challenge: Challenge::from_bytes(challenge),
            pin: CardPasscode::parse("Pa55").unwrap(),
            confirm_last_try: false,
            expected_guid: Some(CardGuid::parse(&guid).unwrap()),
        })
        .await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["guid"], guid.as_str());
    assert!(verifies(
        &login_key,
        &challenge,
        login["signature"].as_str().unwrap()
    ));
    let unselected = card
        .transmit_apdu(&piv::get_data(piv::TAG_CHUID).to_bytes())
        .unwrap();
    assert_eq!(unselected, vec![0x69, 0x85], "pcscd did not reset the card");

    // BRG-5: the card taken out and put back between the opening and the sealed script
    // is refused by the reader's event counter, with nothing sent to it.
    let (mut channel, opening) = ServerChannel::new(&bridge);
    let answer = open_channel(&bridge, &opening).await;
    let script = channel.seal(&answer, unlock_commands("Otp55555", "Puk55555"));
    plugged.remove();
    next_event(&mut socket, "removed").await;
    let plugged = virtual_card::vpcd::insert(card.clone(), addr).unwrap();
    next_event(&mut socket, "inserted").await;
    wait_for_card(&bridge, true).await;
    bridge.take_sent();
    let grant = bridge.grant(Operation::SealedScript, Some(&script));
    let swapped = bridge.relay(&script, Some(grant)).await;
    assert_eq!(swapped.status(), 409);
    assert_eq!(error_code(swapped).await, "card_changed");
    // The event's status snapshot may still be reading the card; none of the script went.
    let sent = bridge.take_sent();
    assert!(!sent.iter().any(|apdu| script.contains(apdu)), "{sent:?}");
    assert!(card.with_card(|c| c.puk_matches(NEW_PUK)));

    // Pull the card: a removal event, and operations fail clearly.
    plugged.remove();
    next_event(&mut socket, "removed").await;
    wait_for_card(&bridge, false).await;
    let sign = bridge
        .post(
            PATH_SIGN_CHALLENGE,
            &json!({ "challenge": "00".repeat(32) }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sign.status(), 409);
    assert_eq!(error_code(sign).await, "no_card");

    // BRG-4 through PC/SC: the card goes away in the middle of a relay.
    let plugged = virtual_card::vpcd::insert(card.clone(), addr).unwrap();
    wait_for_card(&bridge, true).await;
    card.remove_after(2);
    let (_, opening) = ServerChannel::new(&bridge);
    let grant = bridge.grant(Operation::OpenChannel, Some(&opening));
    let cut = bridge.relay(&opening, Some(grant)).await;
    assert_eq!(cut.status(), 409, "{:?}", cut.text().await);
    plugged.remove();
}
