//! Under races: UNL-4, right answers racing the wrong answer that closes self-service;
//! AUTH-1, sign-ins racing for their card's audit chain.

use api_types::ra::UserUuid;
use api_types::ErrorCode;
use futures_util::future::join_all;
use server::store::audit::{self, verify, AuditEntry, Link, Verified};
use server::store::sessions::{self, Session, SignIn};

use crate::both;
use crate::helpers::*;

// UNL-4: whichever way the requests are ordered, a closed account never gets an unlock
// code: every right answer that loses the race to the closing wrong one hears "closed".
// (Once, on PostgreSQL, right answers read the user before the closing wrong answer
// committed and still emailed a code.)
async fn unl_4_no_code_once_a_racing_wrong_answer_closes_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    for _round in 0..8 {
        let card = app.enroll(true).await;
        // Two failures already: the next wrong answer closes self-service.
        let (id, proof) = app.start_and_prove(&card).await;
        let proof = proof.unwrap();
        for _ in 0..2 {
            let refused = app.answer(&id, &proof, false).await.unwrap_err();
            assert_eq!(refused.code(), ErrorCode::WrongAnswers);
        }
        let mut rights = Vec::new();
        for _ in 0..4 {
            let (id, proof) = app.start_and_prove(&card).await;
            rights.push((id, proof.unwrap()));
        }
        let wrong = app.answer(&id, &proof, false);
        let right = join_all(rights.iter().map(|(id, proof)| app.answer(id, proof, true)));
        let (wrong, rights) = tokio::join!(wrong, right);
        // Right answers forgive nothing, so the wrong one always closes self-service.
        assert_eq!(wrong.unwrap_err().code(), ErrorCode::SelfServiceClosed);
        assert!(app.counters(&card).await.self_service_closed);
        let closed = |e: &Refused| e.code() == ErrorCode::SelfServiceClosed;
        for right in &rights {
            assert!(
                right.is_ok() || right.as_ref().is_err_and(closed),
                "{right:?}"
            );
        }
        // A right answer that won the race got its code before the close; none after.
        let events = app.audit_events(&card).await;
        let closed_at = events
            .iter()
            .position(|(_, outcome)| outcome == "self_service_closed")
            .unwrap();
        assert!(
            !events[closed_at..].iter().any(|(_, o)| o == "code_sent"),
            "a code was sent to a closed account: {events:?}"
        );
    }
}
both!(unl_4_no_code_once_a_racing_wrong_answer_closes_self_service);

// UNL-3 / UNL-4: the same right answers sent twice at once (a double click) get one code;
// the second hears that the step was already taken, and nothing is counted.
async fn unl_3_a_double_submitted_answer_sends_one_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    let (a, b) = tokio::join!(app.answer(&id, &proof, true), app.answer(&id, &proof, true));
    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .any(|r| r.as_ref().is_err_and(|e| e.code() == ErrorCode::WrongStep)));
    assert_eq!(app.counters(&card).await.answer_failures, 0);
    wait_for_mail(&card.email, "Smartcard Unlock Code").await;
}
both!(unl_3_a_double_submitted_answer_sends_one_code);

// AUTH-1 / RA-4: one card signing in many times at once — each sign-in's link races the
// others' for the card's audit chain, and those that find its head moved finish under
// its lock — begins every session, with one intact event each.
async fn auth_1_a_card_signing_in_many_times_at_once_keeps_its_audit_chain_whole(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let before = app.count("audit_log").await;
    let signed_in = join_all((0..12).map(|_| crate::auth::login(&app, &card))).await;
    assert!(signed_in.iter().all(Result::is_ok), "{signed_in:?}");
    assert_eq!(app.count("sessions").await, 12);
    let pool = &app.state.store.pool;
    let rows = app.count("audit_log").await;
    assert_eq!(rows, before + 12);
    assert_eq!(
        verify(pool, &app.state.audit_key).await.unwrap(),
        Verified::Intact {
            rows: usize::try_from(rows).unwrap()
        }
    );
}
both!(auth_1_a_card_signing_in_many_times_at_once_keeps_its_audit_chain_whole);

// AUTH-1 / RA-4, on PostgreSQL, where a sign-in takes no lock: a sign-in whose chain
// moved after its load read the head spends its challenge and writes nothing else — no
// session without its event, no link after a stale head — and is finished after the
// head as it now is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_1_a_sign_in_whose_audit_chain_moved_writes_only_its_spending_postgres() {
    let app = TestApp::spawn(Db::Postgres).await;
    let card = app.enroll_unlocked().await;
    let state = &app.state;
    let (backend, key) = (state.store.backend, &state.audit_key);
    let mut conn = state.store.acquire().await.unwrap();
    let event = |detail: &str| AuditEntry {
        actor: card.guid.to_hex(),
        action: "login".into(),
        outcome: "ok".into(),
        card_guid: Some(card.guid.to_hex()),
        user_uuid: Some(card.uuid.clone()),
        client_addr: None,
        detail: detail.into(),
    };
    let chain = audit::chain_of(&card.guid.to_hex());
    let stale = audit::locked_head(&mut conn, backend, chain).await.unwrap();
    // Another step of the card's chain comes between the read and the sign-in.
    audit::append(&mut conn, backend, key, 1, &event("between"))
        .await
        .unwrap();
    let session = Session {
        secret_hash: vec![7; 32],
        user_uuid: UserUuid::parse(&card.uuid).unwrap(),
        card_guid: card.guid,
        created_at: 1,
        last_seen_at: 1,
        expires_at: 100,
        ended_at: None,
        card_proven_at: 1,
    };
    let entry = event("sign-in");
    let spend = Some(("a nonce", 100));
    let (events, spent) = (
        app.count("audit_log").await,
        app.count("spent_logins").await,
    );
    let after_stale = Link::after(key, stale, 2, &entry);
    let signed = sessions::sign_in(&mut conn, backend, spend, &session, &after_stale).await;
    assert_eq!(signed.unwrap(), SignIn::ChainMoved);
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count("audit_log").await, events);
    assert_eq!(app.count("spent_logins").await, spent + 1);
    // Spent now: answering it again writes nothing at all.
    let head = audit::locked_head(&mut conn, backend, chain).await.unwrap();
    let again = Link::after(key, head, 2, &entry);
    let signed = sessions::sign_in(&mut conn, backend, spend, &session, &again).await;
    assert_eq!(signed.unwrap(), SignIn::SpentBefore);
    assert_eq!(app.count("audit_log").await, events);
    // Its own spending done, the sign-in goes in after the head as it is now.
    let signed = sessions::sign_in(&mut conn, backend, None, &session, &again).await;
    assert_eq!(signed.unwrap(), SignIn::Begun);
    assert_eq!(app.count("sessions").await, 1);
    let rows = app.count("audit_log").await;
    assert_eq!(rows, events + 1);
    assert_eq!(
        verify(&state.store.pool, key).await.unwrap(),
        Verified::Intact {
            rows: usize::try_from(rows).unwrap()
        }
    );
}
