//! CARD-3 / BRG-5 tried as an attacker and as bad luck would: the card update travels
//! sealed, the server believes only the card's MACed answers, every grant covers exactly
//! what the server sent, and an update interrupted anywhere ends with card and server in
//! agreement — on the same attempt, without a second emailed code.

use api_types::bridge::RelayCommands;
use api_types::unlock::{Resume, ResumeRequest};
use api_types::values::ResponseHex;
use api_types::ErrorCode;
use bridge_grant::{Expected, GrantVerifier, Operation};

use crate::both;
use crate::helpers::*;

fn bare(sw: &str) -> ResponseHex {
    ResponseHex::parse(sw).unwrap()
}

/// Card and server agree: the card's PUK is the server's, nothing pending, all tries.
async fn assert_in_agreement(app: &TestApp, card: &TestCard, pin: &str) {
    let (server_puk, pending) = app.server_puk(card).await;
    assert_eq!(server_puk, card.puk_bytes(), "server and card PUKs differ");
    assert!(!pending, "a PUK is still pending");
    card.card.with_card(|c| {
        assert!(c.pin_matches(pin));
        assert_eq!((c.pin_tries_left(), c.puk_tries_left()), (3, 3));
    });
}

// The page says "9000" three times (the old attack): nothing changes, and a replay of
// real answers — after they were judged, or into another channel — changes nothing.
async fn card_3_forged_or_replayed_card_answers_change_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let first_puk = card.puk_bytes();
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();

    app.sealed_script(&card, &id).await;
    let forged = vec![bare("9000"), bare("9000"), bare("9000")];
    let refused = app.complete(&id, forged, true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardUpdateFailed);
    // A bare "wrong PUK" (error answers carry no MAC) must not make it adopt a PUK.
    app.sealed_script(&card, &id).await;
    let forged = vec![bare("9000"), bare("63c2")];
    let refused = app.complete(&id, forged, false).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardUpdateFailed);
    assert_eq!(app.server_puk(&card).await.0, first_puk);
    assert_eq!(card.puk_bytes(), first_puk);
    card.card.with_card(|c| assert_eq!(c.pin_tries_left(), 0));

    // The real thing, then its answers sent again: nothing is waiting for them.
    let sealed = app.sealed_script(&card, &id).await;
    let answers = card.relay(&sealed.relay);
    assert!(
        app.complete(&id, answers.clone(), false)
            .await
            .unwrap()
            .card_updated
    );
    let refused = app.complete(&id, answers.clone(), true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::WrongStep);
    // …nor into a newer channel of the same attempt.
    app.sealed_script(&card, &id).await;
    let refused = app.complete(&id, answers, false).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardUpdateFailed);
    let sealed = app.update_card(&card, &id).await;
    card.change_pin(&sealed, "Mine1");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    assert_in_agreement(&app, &card, "Mine1").await;
    assert_ne!(card.puk_bytes(), first_puk);
}
both!(card_3_forged_or_replayed_card_answers_change_nothing);

// CARD-3: the card pulled at every APDU boundary of the sealed script and of the PIN
// change, the bridge killed after the card ran everything, the server restarted between
// steps: the same attempt finishes, with no PUK try lost.
async fn card_3_an_update_interrupted_at_every_boundary_ends_in_agreement(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();
    // EXTERNAL AUTHENTICATE, RESET RETRY COUNTER, CHANGE REFERENCE DATA (PUK).
    for after in 0..3 {
        let sealed = app.sealed_script(&card, &id).await;
        card.relay_pulled_after(&sealed.relay, after);
        // The bridge reported the card removed; the page starts the update again.
    }
    // The card ran it all but the answers never reached the server (bridge killed).
    let sealed = app.sealed_script(&card, &id).await;
    card.relay(&sealed.relay);
    // A server restart between the page's steps.
    let app = {
        let restarted = app.restart().await;
        restarted.adopt_flow(&app, &id);
        restarted
    };
    // The card pulled before, then during, the local PIN change.
    for after in 0..2 {
        let sealed = app.update_card(&card, &id).await;
        card.card.remove_after(after);
        let mut piv = card_protocol::client::PivClient::new(card.card.clone());
        let pulled = piv.select().and_then(|()| {
            piv.change_pin(
                &card_protocol::pin::Pin::parse(sealed.one_time_pin.expose()).unwrap(),
                &card_protocol::pin::Pin::parse("Lost1").unwrap(),
            )
        });
        assert!(pulled.is_err());
        card.card.insert();
    }
    let sealed = app.update_card(&card, &id).await;
    card.change_pin(&sealed, "Final1");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    assert_in_agreement(&app, &card, "Final1").await;
    // One attempt, one emailed code throughout.
    assert_eq!(app.count("unlock_attempts").await, 1);
}
both!(card_3_an_update_interrupted_at_every_boundary_ends_in_agreement);

// The same attempt in two tabs: the later opening wins, the earlier tab's answers are
// refused, and the unlock still finishes in agreement.
async fn card_3_two_tabs_on_one_attempt_end_in_agreement(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();
    let first = app.channel(&id).await.unwrap();
    let second = app.channel(&id).await.unwrap();
    let first_answers = card.open(&first);
    let second_answers = card.open(&second);
    let refused = app.script(&id, first_answers).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ChannelFailed);
    let refused = app.script(&id, second_answers).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::WrongStep);
    let sealed = app.update_card(&card, &id).await;
    card.change_pin(&sealed, "Tabs1");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    assert_in_agreement(&app, &card, "Tabs1").await;
}
both!(card_3_two_tabs_on_one_attempt_end_in_agreement);

// BRG-5: every grant names this origin, card, attempt and operation, covers exactly the
// APDUs sent, lives at most five minutes; and no PUK is in anything the page receives.
async fn brg_5_the_server_grants_exactly_what_it_sends(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let old_puk = card.puk_bytes();
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();
    let verifier = GrantVerifier::from_hex(&app.state.grants.public_key_hex()).unwrap();
    let now = START;
    let bytes = |apdus: &RelayCommands| -> Vec<Vec<u8>> {
        apdus
            .as_slice()
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect()
    };
    let check = |grant, operation, apdus: Option<&[Vec<u8>]>| {
        let claims = verifier
            .check(
                Some(grant),
                &Expected {
                    origin: ORIGIN,
                    operations: &[operation],
                    apdus,
                    now,
                },
            )
            .unwrap();
        claims.check_card(card.guid.as_bytes()).unwrap();
        assert_eq!(claims.attempt, id.as_str());
        assert!(claims.expires_at - claims.issued_at <= 300);
        claims
    };
    let opening = app.channel(&id).await.unwrap();
    let sent = bytes(&opening.relay.apdus);
    check(&opening.relay.grant, Operation::OpenChannel, Some(&sent));
    let answers = card.open(&opening);
    let sealed = app.script(&id, answers).await.unwrap();
    let sent = bytes(&sealed.relay.apdus);
    let claims = check(&sealed.relay.grant, Operation::SealedScript, Some(&sent));
    let other = check(&sealed.change_pin, Operation::ChangePin, None);
    assert_ne!(claims.nonce, other.nonce);
    // A grant for one operation is no grant for another.
    let wrong = verifier.check(
        Some(&sealed.change_pin),
        &Expected {
            origin: ORIGIN,
            operations: &[Operation::SealedScript],
            apdus: Some(&sent),
            now,
        },
    );
    assert_eq!(wrong.unwrap_err(), bridge_grant::GrantError::WrongOperation);

    let answers = card.relay(&sealed.relay);
    app.complete(&id, answers, false).await.unwrap();
    let new_puk = card.puk_bytes();
    let seen = [
        serde_json::to_string(&opening).unwrap(),
        serde_json::to_string(&sealed).unwrap(),
    ]
    .concat()
    .to_lowercase();
    for puk in [&old_puk, &new_puk] {
        assert!(!seen.contains(&hex::encode(puk)));
        assert!(!seen.contains(&String::from_utf8_lossy(puk).to_lowercase()));
    }
}
both!(brg_5_the_server_grants_exactly_what_it_sends);

// CARD-3: a page reloaded mid-update finds its attempt again through its flow cookie, for
// its own card only, and finishes without a second emailed code.
async fn card_3_a_reloaded_page_resumes_its_attempt_without_a_second_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let other = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    let resume = |cookie: Option<String>, guid| {
        let request = ResumeRequest { card_guid: guid };
        let app = &app;
        async move {
            app.send::<Resume>(cookie.as_deref(), &(), &request)
                .await
                .map(|(_, resumed)| resumed)
        }
    };
    let cookie = app.flow_cookie(&id);
    // Before the code is accepted there is nothing to resume: the user starts again.
    let refused = resume(cookie.clone(), card.guid).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    app.code(&id, &code).await.unwrap();
    let sealed = app.sealed_script(&card, &id).await;
    card.relay_pulled_after(&sealed.relay, 2);

    // The reload: same browser, same card.
    let resumed = resume(cookie.clone(), card.guid).await.unwrap();
    assert_eq!(resumed.attempt_id, id);
    // Another card, no cookie, another browser's cookie: nothing.
    let (other_id, _) = app.start_and_prove(&other).await;
    for (cookie, guid) in [
        (cookie.clone(), other.guid),
        (None, card.guid),
        (app.flow_cookie(&other_id), card.guid),
    ] {
        assert_eq!(
            resume(cookie, guid).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }
    let sealed = app.update_card(&card, &resumed.attempt_id).await;
    card.change_pin(&sealed, "Back1");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    assert_in_agreement(&app, &card, "Back1").await;
    // Finished means nothing left to resume.
    let refused = resume(cookie, card.guid).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
}
both!(card_3_a_reloaded_page_resumes_its_attempt_without_a_second_code);
