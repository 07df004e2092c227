//! CERT-3 / CARD-3: a renewal cut off at any boundary and then left — the session and the
//! renewal both run out — never leaves the card without a working certificate. A card
//! whose keys did not change still signs in; a card that made its new keys signs in with
//! one the server has not certified, and that sign-in finishes the renewal: the card
//! reports its keys on a sealed channel, the kept signature must be the reported 9A key's,
//! and the card confirms the certificates written. Without the card and its passcode,
//! nothing changes.

use api_types::auth::{LoginFinish, LoginFinishRequest, LoginId, LoginStart, LoginStartRequest};
use api_types::renewal::{
    CardAnswers, RenewalCertificates, RenewalComplete, RenewalDone, RenewalKeys, RenewalRecover,
    RenewalRecoverRequest,
};
use api_types::values::{BoundedVec, CardSignature, ResponseHex};
use api_types::ErrorCode;

use crate::auth::{card_signs, login};
use crate::both;
use crate::helpers::*;
use crate::renewal::{card_and_server_agree, certificates, renewal_start, DAY, ENDS};

/// Well past any session's end and any renewal's lifetime.
const LEFT: i64 = DAY;

/// A sign-in with `signature` over the challenge: the session, or the refusal and the
/// login's id.
async fn sign_in_with(
    app: &TestApp,
    card: &TestCard,
    signs: impl Fn(&[u8; 32]) -> CardSignature,
) -> Result<(), (ErrorCode, LoginId)> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let finish = LoginFinishRequest {
        login_id: started.login_id.clone(),
        signature: signs(started.challenge.as_bytes()),
    };
    match app.send::<LoginFinish>(None, &(), &finish).await {
        Ok(_) => Ok(()),
        Err(refused) => Err((refused.code(), started.login_id)),
    }
}

fn answers(card_answers: Vec<ResponseHex>, login_id: &LoginId) -> CardAnswers {
    CardAnswers {
        card_answers: BoundedVec::new(card_answers).unwrap(),
        recovery: Some(login_id.clone()),
    }
}

/// The page's recovery after `renewal_unfinished`: no cookie, the login id in each body.
async fn recover(
    app: &TestApp,
    card: &TestCard,
    login_id: &LoginId,
) -> Result<RenewalDone, Refused> {
    let request = RenewalRecoverRequest {
        card_guid: card.guid,
        login_id: login_id.clone(),
    };
    let (_, opened) = app.send::<RenewalRecover>(None, &(), &request).await?;
    let id = &opened.renewal_id;
    let opening = card.open_relay(&opened.relay);
    let (_, keys) = app
        .send::<RenewalKeys>(None, id, &answers(opening, login_id))
        .await?;
    let read = card.relay(&keys.relay);
    let (_, writes) = app
        .send::<RenewalCertificates>(None, id, &answers(read, login_id))
        .await?;
    let written = card.relay(&writes.relay);
    app.send::<RenewalComplete>(None, id, &answers(written, login_id))
        .await
        .map(|(_, done)| done)
}

/// Starts a renewal at `ENDS - 10 days` and has the card take `relays` of its three relays
/// (the opening, the keys, the certificates) whole, the next one cut after `after`
/// commands (none when `after` is `None`: the last relay ran and the page said nothing).
pub(crate) async fn cut_off(app: &TestApp, card: &TestCard, relays: usize, after: Option<usize>) {
    app.clock.set(ENDS - 10 * DAY);
    let (_, cookie) = login(app, card).await.unwrap();
    let opened = renewal_start(app, card, &cookie).await.unwrap();
    let id = &opened.renewal_id;
    let mut relay = opened.relay;
    for step in 0..relays {
        let ran = if step == 0 {
            card.open_relay(&relay)
        } else {
            card.relay(&relay)
        };
        let body = CardAnswers {
            card_answers: BoundedVec::new(ran).unwrap(),
            recovery: None,
        };
        relay = if step == 0 {
            app.send::<RenewalKeys>(Some(&cookie), id, &body).await
        } else {
            app.send::<RenewalCertificates>(Some(&cookie), id, &body)
                .await
        }
        .unwrap()
        .1
        .relay;
    }
    match after {
        Some(after) => card.relay_pulled_after(&relay, after),
        None => {
            card.relay(&relay);
        }
    }
    app.clock.set(ENDS - 10 * DAY + LEFT);
}

async fn cert_3_card_3_a_card_cut_off_anywhere_and_left_is_finished_at_the_next_sign_in(db: Db) {
    let app = TestApp::spawn(db).await;
    // (relays run and reported, then the next one cut after so many commands, or run
    // whole and never reported): the opening, the key generation (external authenticate,
    // 9A, 9E), the certificates (9A, 9E, each a few chained parts).
    let mut cuts: Vec<(usize, Option<usize>)> = vec![(0, Some(0))];
    cuts.extend((0..3).map(|after| (1, Some(after))));
    cuts.push((1, None));
    cuts.extend((0..4).map(|after| (2, Some(after))));
    cuts.push((2, None));
    // Enrolled together, so every card's certificates end at `ENDS`.
    let mut cards = Vec::new();
    for _ in &cuts {
        cards.push(app.enroll_unlocked().await);
    }
    let mut finished = Vec::new();
    for ((relays, after), card) in cuts.into_iter().zip(cards) {
        cut_off(&app, &card, relays, after).await;
        match sign_in_with(&app, &card, |c| card_signs(&card, c)).await {
            Ok(()) => {}
            Err((ErrorCode::RenewalUnfinished, login_id)) => {
                // Until the card confirms, the old certificates are the server's.
                assert!(certificates(&app, &card)
                    .await
                    .iter()
                    .all(|c| c.2.is_none()));
                let done = recover(&app, &card, &login_id).await.unwrap();
                assert!(done.not_after > ENDS);
                finished.push((relays, after));
            }
            Err((other, _)) => panic!("{relays}/{after:?}: {other:?}"),
        }
        card_and_server_agree(&app, &card).await;
        // CERT-5: certificates sent to the card and dropped unconfirmed are revoked too,
        // so the CRL names whatever the card kept; none are lost from the record.
        let stored = certificates(&app, &card).await;
        let sent = usize::from(relays == 2);
        for slot in ["9a", "9e"] {
            let revoked = stored
                .iter()
                .filter(|c| c.0 == slot && c.2.is_some())
                .count();
            let expected = if finished.last() == Some(&(relays, after)) {
                1 + sent
            } else {
                0
            };
            assert_eq!(revoked, expected, "{relays}/{after:?} {slot}: {stored:?}");
        }
    }
    // Exactly the cuts after the card made its new 9A key needed finishing.
    let mut expected = vec![(1, Some(2)), (1, None), (2, None)];
    expected.extend((0..4).map(|after| (2, Some(after))));
    expected.sort();
    finished.sort();
    assert_eq!(finished, expected);
}
both!(cert_3_card_3_a_card_cut_off_anywhere_and_left_is_finished_at_the_next_sign_in);

async fn cert_3_only_the_card_with_its_passcode_finishes_a_cut_off_renewal(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let other = app.enroll_unlocked().await;
    // The card made its keys; the server never heard them.
    cut_off(&app, &card, 1, None).await;
    let before = certificates(&app, &card).await;

    // Someone with the card but not its passcode: any signature but the card's own.
    let forged = sign_in_with(&app, &card, |c| card_signs(&other, c)).await;
    let Err((ErrorCode::RenewalUnfinished, forged_id)) = forged else {
        panic!("{forged:?}");
    };
    let refused = recover(&app, &card, &forged_id).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardNotGenuine);
    assert_eq!(certificates(&app, &card).await, before);

    // The real sign-in, but presented for another card, or a made-up id: nothing there.
    let Err((_, login_id)) = sign_in_with(&app, &card, |c| card_signs(&card, c)).await else {
        panic!("signed in with a card the server cannot check");
    };
    let elsewhere = RenewalRecoverRequest {
        card_guid: other.guid,
        login_id: login_id.clone(),
    };
    let refused = app
        .send::<RenewalRecover>(None, &(), &elsewhere)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    let made_up = recover(&app, &card, &LoginId::from_bytes([7; 56]))
        .await
        .unwrap_err();
    assert_eq!(made_up.code(), ErrorCode::NotFound);

    // Kept ten minutes only.
    app.clock.advance(10 * 60);
    let late = recover(&app, &card, &login_id).await.unwrap_err();
    assert_eq!(late.code(), ErrorCode::NotFound);
    assert_eq!(certificates(&app, &card).await, before);

    // The card and its passcode, now: finished, once.
    let Err((ErrorCode::RenewalUnfinished, login_id)) =
        sign_in_with(&app, &card, |c| card_signs(&card, c)).await
    else {
        panic!("the card should still need finishing");
    };
    recover(&app, &card, &login_id).await.unwrap();
    let again = recover(&app, &card, &login_id).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::NotFound);
    card_and_server_agree(&app, &card).await;
    // The other card, never touched, signs in as ever.
    login(&app, &other).await.unwrap();
}
both!(cert_3_only_the_card_with_its_passcode_finishes_a_cut_off_renewal);
