//! CERT-3 / CERT-4 / CERT-5: certificate renewal on the card, through the server's steps
//! as the page and the bridge drive them: the card makes new keys inside the secure
//! channel, the CA certifies them, the card stores the certificates, and only then are
//! they the card's and the old ones revoked — whatever boundary the card is pulled at.

use api_types::auth::{LoginStart, LoginStartRequest, Session};
use api_types::renewal::{
    CardAnswers, RenewalCertificates, RenewalChannel, RenewalChannelRequest, RenewalComplete,
    RenewalDone, RenewalKeys, RenewalOpened, RenewalStart, RenewalStartRequest,
};
use api_types::values::{BoundedVec, RenewalId, ResponseHex};
use api_types::ErrorCode;
use card_protocol::client::PivClient;
use card_protocol::KeySlot;

use crate::auth::{card_signs, login};
use crate::both;
use crate::helpers::*;

pub(crate) const DAY: i64 = 24 * 60 * 60;
/// When the certificates issued at enrolment (at `START`, three years) end.
pub(crate) const ENDS: i64 = START + 3 * 365 * DAY;

pub(crate) async fn renewal_start(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
) -> Result<RenewalOpened, Refused> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await?;
    let request = RenewalStartRequest {
        signature: card_signs(card, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    app.send::<RenewalStart>(Some(cookie), &(), &request)
        .await
        .map(|(_, opened)| opened)
}

fn answers(answers: Vec<ResponseHex>) -> CardAnswers {
    CardAnswers {
        recovery: None,
        card_answers: BoundedVec::new(answers).unwrap(),
    }
}

/// The steps after the opening, as the page and the bridge take them.
pub(crate) async fn finish_on_card(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
    opened: &RenewalOpened,
) -> Result<RenewalDone, Refused> {
    let id = &opened.renewal_id;
    let opening = card.open_relay(&opened.relay);
    let (_, keys) = app
        .send::<RenewalKeys>(Some(cookie), id, &answers(opening))
        .await?;
    let generated = card.relay(&keys.relay);
    let (_, writes) = app
        .send::<RenewalCertificates>(Some(cookie), id, &answers(generated))
        .await?;
    let written = card.relay(&writes.relay);
    app.send::<RenewalComplete>(Some(cookie), id, &answers(written))
        .await
        .map(|(_, done)| done)
}

/// Signs in at `at` and renews the card's certificates; when the new ones end.
pub(crate) async fn renew_before(app: &TestApp, card: &TestCard, at: i64) -> i64 {
    app.clock.set(at);
    let (_, cookie) = login(app, card).await.unwrap();
    let opened = renewal_start(app, card, &cookie).await.unwrap();
    finish_on_card(app, card, &cookie, &opened)
        .await
        .unwrap()
        .not_after
}

async fn reopen(app: &TestApp, cookie: &str, id: &RenewalId) -> RenewalOpened {
    let (_, opened) = app
        .send::<RenewalChannel>(Some(cookie), id, &RenewalChannelRequest {})
        .await
        .unwrap();
    opened
}

/// The card's certificate in `slot`, as any PIV middleware reads it.
pub(crate) fn on_card(card: &TestCard, slot: KeySlot) -> Vec<u8> {
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    piv.read_certificate(slot).unwrap().unwrap()
}

/// The card's certificates as stored, newest first: (slot, serial, revoked_at, DER).
pub(crate) async fn certificates(
    app: &TestApp,
    card: &TestCard,
) -> Vec<(String, String, Option<i64>, Vec<u8>)> {
    sqlx::query_as::<_, (String, String, Option<i64>, Vec<u8>)>(
        "SELECT slot, serial, revoked_at, certificate FROM card_certificates WHERE card_guid = $1 \
         ORDER BY issued_at DESC, serial",
    )
    .bind(card.guid.to_hex())
    .fetch_all(&app.state.store.pool)
    .await
    .unwrap()
}

/// The card holds exactly the certificates in force, one per slot, and signs in.
pub(crate) async fn card_and_server_agree(app: &TestApp, card: &TestCard) {
    let stored = certificates(app, card).await;
    for slot in KeySlot::ALL {
        let in_force: Vec<_> = stored
            .iter()
            .filter(|c| c.0 == slot.as_str() && c.2.is_none())
            .collect();
        assert_eq!(in_force.len(), 1, "{slot:?}: {stored:?}");
        assert_eq!(on_card(card, slot), in_force[0].3, "{slot:?}");
    }
    login(app, card).await.unwrap();
}

async fn cert_3_cert_5_a_card_renews_its_keys_and_certificates_and_revokes_the_old(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let before = certificates(&app, &card).await;
    app.clock.set(ENDS - 10 * DAY);
    let (_, cookie) = login(&app, &card).await.unwrap();
    let opened = renewal_start(&app, &card, &cookie).await.unwrap();
    let done = finish_on_card(&app, &card, &cookie, &opened).await.unwrap();
    assert_eq!(done.not_after, ENDS - 10 * DAY + 3 * 365 * DAY);

    let after = certificates(&app, &card).await;
    assert_eq!(after.len(), 4);
    for (slot, serial, _, _) in &before {
        let old = after.iter().find(|c| &c.1 == serial).unwrap();
        assert_eq!(
            old.2,
            Some(ENDS - 10 * DAY),
            "{slot} revoked at the renewal"
        );
    }
    card_and_server_agree(&app, &card).await;
    // CERT-3: the user signs in again with the new certificate.
    let ended = app
        .send::<Session>(Some(&cookie), &(), &())
        .await
        .unwrap_err();
    assert_eq!(ended.code(), ErrorCode::NotSignedIn);
    // The renewal is over: none of its steps go again.
    let again = app
        .send::<RenewalChannel>(
            Some(&login(&app, &card).await.unwrap().1),
            &opened.renewal_id,
            &RenewalChannelRequest {},
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::AttemptEnded);
    let trail = app.audit_events(&card).await;
    assert!(
        trail.contains(&("cert.renew_start".into(), "ok".into())),
        "{trail:?}"
    );
    assert!(
        trail.contains(&("cert.renew".into(), "renewed".into())),
        "{trail:?}"
    );
}
both!(cert_3_cert_5_a_card_renews_its_keys_and_certificates_and_revokes_the_old);

async fn cert_2_cert_4_renewal_is_offered_in_the_last_30_days_and_twice_in_a_row(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let early = renewal_start(&app, &card, &cookie).await.unwrap_err();
    assert_eq!(early.code(), ErrorCode::RenewalNotDue);
    let mut ends = ENDS;
    for _ in 0..2 {
        ends = renew_before(&app, &card, ends - 29 * DAY).await;
    }
    app.clock.set(ends - 5 * DAY);
    let (_, cookie) = login(&app, &card).await.unwrap();
    let third = renewal_start(&app, &card, &cookie).await.unwrap_err();
    assert_eq!(third.code(), ErrorCode::RenewalByRa);
}
both!(cert_2_cert_4_renewal_is_offered_in_the_last_30_days_and_twice_in_a_row);

/// Pulls the card after `after` commands of one of the renewal's relays (0: the opening,
/// 1: the key generation, 2: the certificates), then finishes on a new channel.
async fn pulled_at(app: &TestApp, card: &TestCard, relay: usize, after: usize) {
    let (_, cookie) = login(app, card).await.unwrap();
    let opened = renewal_start(app, card, &cookie).await.unwrap();
    let id = &opened.renewal_id;
    if relay == 0 {
        card.relay_pulled_after(&opened.relay, after);
    } else {
        let (_, keys) = app
            .send::<RenewalKeys>(Some(&cookie), id, &answers(card.open_relay(&opened.relay)))
            .await
            .unwrap();
        if relay == 1 {
            card.relay_pulled_after(&keys.relay, after);
        } else {
            let generated = card.relay(&keys.relay);
            let (_, writes) = app
                .send::<RenewalCertificates>(Some(&cookie), id, &answers(generated))
                .await
                .unwrap();
            card.relay_pulled_after(&writes.relay, after);
        }
    }
    // Nothing is the card's until it confirms: the old certificates are all in force.
    let stored = certificates(app, card).await;
    assert!(
        stored.iter().all(|c| c.2.is_none()),
        "{relay}/{after}: {stored:?}"
    );
    let reopened = reopen(app, &cookie, id).await;
    finish_on_card(app, card, &cookie, &reopened).await.unwrap();
    card_and_server_agree(app, card).await;
}

async fn cert_3_card_3_a_card_pulled_at_any_boundary_is_finished_on_the_next_try(db: Db) {
    let app = TestApp::spawn(db).await;
    // How many commands each relay holds, from one renewal run through.
    let probe = app.enroll_unlocked().await;
    let mut cards = Vec::new();
    for _ in 0..14 {
        cards.push(app.enroll_unlocked().await);
    }
    app.clock.set(ENDS - 10 * DAY);
    let (_, cookie) = login(&app, &probe).await.unwrap();
    let opened = renewal_start(&app, &probe, &cookie).await.unwrap();
    let id = &opened.renewal_id;
    let (_, keys) = app
        .send::<RenewalKeys>(Some(&cookie), id, &answers(probe.open_relay(&opened.relay)))
        .await
        .unwrap();
    let generated = probe.relay(&keys.relay);
    let (_, writes) = app
        .send::<RenewalCertificates>(Some(&cookie), id, &answers(generated))
        .await
        .unwrap();
    let sizes = [
        opened.relay.apdus.as_slice().len(),
        keys.relay.apdus.as_slice().len(),
        writes.relay.apdus.as_slice().len(),
    ];
    // Every boundary but the last of each relay (after the last, the relay finished).
    let boundaries: Vec<(usize, usize)> = sizes
        .iter()
        .enumerate()
        .flat_map(|(relay, &size)| (0..size).map(move |after| (relay, after)))
        .collect();
    assert!(boundaries.len() <= cards.len(), "{sizes:?}");
    for ((relay, after), card) in boundaries.into_iter().zip(&cards) {
        pulled_at(&app, card, relay, after).await;
    }
    // The card took every certificate, and the page never said so: a new channel makes
    // the keys again, and the card and the server end in agreement.
    let written = probe.relay(&writes.relay);
    assert!(!written.is_empty());
    let reopened = reopen(&app, &cookie, id).await;
    finish_on_card(&app, &probe, &cookie, &reopened)
        .await
        .unwrap();
    card_and_server_agree(&app, &probe).await;
}
both!(cert_3_card_3_a_card_pulled_at_any_boundary_is_finished_on_the_next_try);

/// POL-1 / POL-4 / CERT-2: what sign-in says is due, and what renewal allows, under each
/// profile as the clock moves towards the end: seed-2006 offers from 30 days and forces
/// from 20, twice in a row; nhs-2023 offers from 90, never forces and never counts.
async fn pol_1_pol_4_cert_2_what_is_due_at_sign_in_follows_the_policy(db: Db) {
    use api_types::auth::Me;
    use api_types::policy::{Policy, RenewalDue};
    use api_types::unlock::Config;
    for policy in Policy::ALL {
        let app = TestApp::spawn_with(db, |s| s.policy = policy).await;
        assert_eq!(app.call::<Config>(&(), &()).await.unwrap().policy, policy);
        let card = app.enroll_unlocked().await;
        let due_at = |days: i64| {
            let app = &app;
            let card = &card;
            async move {
                app.clock.set(ENDS - days * DAY);
                let (info, cookie) = login(app, card).await.unwrap();
                let (_, again) = app.send::<Session>(Some(&cookie), &(), &()).await.unwrap();
                assert_eq!(again.renewal, info.renewal);
                (info.renewal, cookie)
            }
        };
        let seed = policy == Policy::Seed2006;
        let (due, cookie) = due_at(60).await;
        let early = renewal_start(&app, &card, &cookie).await;
        if seed {
            assert_eq!(due, RenewalDue::NotDue);
            assert_eq!(early.unwrap_err().code(), ErrorCode::RenewalNotDue);
        } else {
            assert_eq!(due, RenewalDue::Offered { not_after: ENDS });
            assert!(early.is_ok());
        }
        let (due, _) = due_at(25).await;
        assert_eq!(due, RenewalDue::Offered { not_after: ENDS });
        let (due, cookie) = due_at(15).await;
        if seed {
            assert_eq!(due, RenewalDue::Forced { not_after: ENDS });
        } else {
            assert_eq!(due, RenewalDue::Offered { not_after: ENDS });
        }
        let (_, me) = app.send::<Me>(Some(&cookie), &(), &()).await.unwrap();
        assert_eq!(me.renewals_in_a_row, 0);
        let limit = policy.self_service_renewals_in_a_row();
        assert_eq!(me.renewals_allowed_in_a_row, limit);
        // nhs-2023: a third renewal in a row is still the cardholder's own.
        if !seed {
            let mut ends = ENDS;
            for _ in 0..3 {
                ends = renew_before(&app, &card, ends - 80 * DAY).await;
            }
            let (_, cookie) = login(&app, &card).await.unwrap();
            let (_, me) = app.send::<Me>(Some(&cookie), &(), &()).await.unwrap();
            assert_eq!(
                (me.renewals_in_a_row, me.certificate_expires_at),
                (3, Some(ends))
            );
        }
    }
}
both!(pol_1_pol_4_cert_2_what_is_due_at_sign_in_follows_the_policy);

/// CERT-3: one renewal of a card at a time — a second (another tab) ends the first, so
/// the two can never interleave key generation and certificate writes on the card.
async fn cert_3_a_second_renewal_of_the_card_ends_the_first(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    app.clock.set(ENDS - 10 * DAY);
    let (_, cookie) = login(&app, &card).await.unwrap();
    let first = renewal_start(&app, &card, &cookie).await.unwrap();
    let opening = card.open_relay(&first.relay);
    let second = renewal_start(&app, &card, &cookie).await.unwrap();
    let ended = app
        .send::<RenewalKeys>(Some(&cookie), &first.renewal_id, &answers(opening))
        .await
        .unwrap_err();
    assert_eq!(ended.code(), ErrorCode::AttemptEnded);
    let done = finish_on_card(&app, &card, &cookie, &second).await.unwrap();
    assert!(done.not_after > ENDS);
    card_and_server_agree(&app, &card).await;
    // A security event: the holder is told, with the link that stops a renewal nobody
    // asked for.
    let told = wait_for_mail(&card.email, server::mail::renewal::RENEWED_SUBJECT).await;
    assert!(
        told.contains(&api_types::time::utc_date(done.not_after)),
        "{told}"
    );
    assert!(told.contains("/not-me#"), "{told}");
}
both!(cert_3_a_second_renewal_of_the_card_ends_the_first);
