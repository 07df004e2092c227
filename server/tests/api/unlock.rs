//! The unlock flow, UNL-1…UNL-8, on both databases.

use api_types::ErrorCode;
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

// UNL-1..UNL-7, CARD-3, CARD-6, RA-4: the whole unlock, and the card really is unlocked.
async fn unl_1_to_7_a_locked_card_is_unlocked_with_the_emailed_code(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    assert_eq!(proof.holder_name, "Mr John Rigby"); // UNL-2
    assert_eq!(proof.questions.len(), 3); // UNL-3 (default 3 of 4)
    assert!(proof
        .questions
        .iter()
        .all(|q| ANSWERS.iter().any(|(id, _)| i64::from(q.id) == *id)));
    assert_eq!(proof.attempts_left, 3);

    let sent = app.answer(&id, &proof, true).await.unwrap(); // REG-2: case, spaces ignored
    assert!(sent.email_hint.ends_with("@nhs.net"));
    let mail = wait_for_mail(&card.email, "Smartcard Unlock Code").await; // UNL-5
    assert!(mail.contains("valid for 15 minutes"), "{mail}");
    assert!(mail.contains("Registration Authority"), "{mail}");
    let code = code_in(&mail);

    app.finish_unlock(&card, &id, &code, "N3w!").await;
    card.card.with_card(|c| {
        assert!(c.pin_matches("N3w!")); // UNL-6/7: the passcode the user chose
        assert_eq!(c.pin_tries_left(), 3);
        assert_eq!(c.puk_tries_left(), 3);
    });
    wait_for_mail(&card.email, "Your smartcard has been unlocked").await; // UNL-7
                                                                          // ALL-7: both messages were sent, and neither body (the code) stays in the outbox.
    for _ in 0..50 {
        if server::store::outbox::bodies_kept(&app.state.store.pool)
            .await
            .unwrap()
            == 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        server::store::outbox::bodies_kept(&app.state.store.pool)
            .await
            .unwrap(),
        0
    );

    // CARD-3: the PUK was rotated and the server knows the new one — a second unlock works.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let (id2, code2) = app.up_to_code(&card).await;
    app.finish_unlock(&card, &id2, &code2, "again1").await;
    card.card.with_card(|c| assert!(c.pin_matches("again1")));

    // RA-4: every step audited, and the chains link up under the key.
    let verified = server::store::audit::verify(&app.state.store.pool, &app.state.audit_key)
        .await
        .unwrap();
    assert!(
        matches!(verified, server::store::audit::Verified::Intact { rows } if rows >= 10),
        "{verified:?}"
    );
}
both!(unl_1_to_7_a_locked_card_is_unlocked_with_the_emailed_code);

// ALL-1 / UNL-5: the code is stored only as a salted hash, and is gone once used.
async fn all_1_the_code_is_stored_hashed_and_dropped_once_used(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    #[derive(sqlx::FromRow)]
    struct Stored {
        code_hash: Option<Vec<u8>>,
    }
    let stored = || async {
        sqlx::query_as::<_, Stored>("SELECT code_hash FROM unlock_attempts WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(&app.state.store.pool)
            .await
            .unwrap()
            .code_hash
    };
    let hash = stored().await.unwrap();
    assert_eq!(hash.len(), 32);
    assert_ne!(hash, code.expose().as_bytes());
    app.code(&id, &code).await.unwrap();
    assert_eq!(stored().await, None);
}
both!(all_1_the_code_is_stored_hashed_and_dropped_once_used);

// UNL-4: three failed attempts close self-service until the RA reopens it; the counter
// is in the database and survives a restart.
async fn unl_4_three_wrong_answers_close_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    for tries_left in [2, 1] {
        let refused = app.answer(&id, &proof, false).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.code(), ErrorCode::WrongAnswers);
        assert_eq!(refused.error.tries_left, Some(tries_left));
    }
    let refused = app.answer(&id, &proof, false).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::LOCKED);
    assert_eq!(refused.code(), ErrorCode::SelfServiceClosed);

    // Right answers no longer help, on this attempt or a new one, after a restart too.
    assert!(app.answer(&id, &proof, true).await.is_err());
    let restarted = app.restart().await;
    let (_, proof) = restarted.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
    // RA-4: each failure and the closing are in the audit trail.
    let events = app.audit_events(&card).await;
    let answers: Vec<&str> = events
        .iter()
        .filter(|(action, _)| action == "unlock.answers")
        .map(|(_, outcome)| outcome.as_str())
        .collect();
    assert_eq!(
        answers,
        [
            "wrong_answers",
            "wrong_answers",
            "self_service_closed",
            "self_service_closed"
        ]
    );
}
both!(unl_4_three_wrong_answers_close_self_service);

// UNL-4: concurrent wrong answers, from several attempts and two server instances, never
// count past 3.
async fn unl_4_concurrent_wrong_answers_never_count_past_three(db: Db) {
    let app = TestApp::spawn(db).await;
    let second = app.restart().await;
    let card = app.enroll(true).await;
    let mut attempts = Vec::new();
    for i in 0..5 {
        let server = if i % 2 == 0 { &app } else { &second };
        let (id, proof) = server.start_and_prove(&card).await;
        attempts.push((id, proof.unwrap()));
    }
    let mut calls = Vec::new();
    for (i, (id, proof)) in attempts.iter().enumerate() {
        for _ in 0..2 {
            let server = if i % 2 == 0 { &app } else { &second };
            calls.push(server.answer(id, proof, false));
        }
    }
    let results = futures_util::future::join_all(calls).await;
    let codes: Vec<ErrorCode> = results
        .iter()
        .map(|r| r.as_ref().unwrap_err().code())
        .collect();
    let wrong = codes
        .iter()
        .filter(|c| **c == ErrorCode::WrongAnswers)
        .count();
    let closed = codes
        .iter()
        .filter(|c| **c == ErrorCode::SelfServiceClosed)
        .count();
    assert_eq!((wrong, closed), (2, 8), "{codes:?}");
    let counters = app.counters(&card).await;
    assert_eq!(counters.answer_failures, 3);
    assert!(counters.self_service_closed);
}
both!(unl_4_concurrent_wrong_answers_never_count_past_three);

// UNL-5 / ALL-1: the code expires after 15 minutes (time moved, not slept).
async fn unl_5_an_expired_code_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.clock.advance(16 * 60);
    let refused = app.code(&id, &code).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::GONE);
    assert_eq!(refused.code(), ErrorCode::CodeExpired);
}
both!(unl_5_an_expired_code_is_refused);

// UNL-5: just inside 15 minutes the code still works.
async fn unl_5_the_code_works_until_it_expires(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.clock.advance(15 * 60 - 1);
    app.code(&id, &code).await.unwrap();
}
both!(unl_5_the_code_works_until_it_expires);

// UNL-5 / ALL-1: single use.
async fn unl_5_a_used_code_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.code(&id, &code).await.unwrap();
    let refused = app.code(&id, &code).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), ErrorCode::CodeAlreadyUsed);
}
both!(unl_5_a_used_code_is_refused);

// UNL-5 / ALL-1: limited tries; the fifth wrong code closes self-service (the per-user
// daily limit, default 5, is reached with the code's own), and then even the right
// code is refused.
async fn unl_5_wrong_codes_are_limited(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    let wrong = wrong_code(&code);
    for tries_left in [4, 3, 2, 1] {
        let refused = app.code(&id, &wrong).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::CodeInvalid);
        assert_eq!(refused.error.tries_left, Some(tries_left));
    }
    let refused = app.code(&id, &wrong).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::LOCKED);
    assert_eq!(refused.code(), ErrorCode::SelfServiceClosed);
    assert_eq!(
        app.code(&id, &code).await.unwrap_err().code(),
        ErrorCode::SelfServiceClosed
    );
}
both!(unl_5_wrong_codes_are_limited);

// UNL-1 / UNL-8: unknown cards and unregistered users are told so; no questions shown;
// both refusals are audited (RA-4).
async fn unl_8_unknown_cards_and_unregistered_users_go_to_the_ra(db: Db) {
    let app = TestApp::spawn(db).await;
    let unknown = api_types::CardGuid::from_bytes([0xAB; 16]);
    let refused = app.start(unknown).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(refused.code(), ErrorCode::UnknownCard);

    let card = app.enroll(false).await;
    let (_, proof) = app.start_and_prove(&card).await;
    let refused = proof.unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), ErrorCode::NotRegistered);
    assert_eq!(
        app.audit_events(&card).await,
        [
            ("card.issue".to_owned(), "ok".to_owned()),
            ("unlock.card_proof".to_owned(), "not_registered".to_owned())
        ]
    );
}
both!(unl_8_unknown_cards_and_unregistered_users_go_to_the_ra);

// CARD-6: a signature from another card's key is refused and the attempt is dead; a
// stale challenge is refused too.
async fn card_6_a_card_that_cannot_prove_itself_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let impostor = app.enroll(true).await;
    let started = app.start(card.guid).await.unwrap();
    let forged = impostor.sign(&started.challenge);
    let refused = app.prove(&started.attempt_id, forged).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), ErrorCode::CardNotGenuine);
    // The real card can't reuse the dead attempt.
    let real = card.sign(&started.challenge);
    let refused = app.prove(&started.attempt_id, real).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::AttemptEnded);
    // A stale challenge (over 5 minutes) is refused too.
    let started = app.start(card.guid).await.unwrap();
    app.clock.advance(5 * 60 + 1);
    let late = card.sign(&started.challenge);
    let refused = app.prove(&started.attempt_id, late).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::GONE);
    assert_eq!(refused.code(), ErrorCode::AttemptExpired);
}
both!(card_6_a_card_that_cannot_prove_itself_is_refused);

// UNL-3: the questions are fixed per user: starting again, even from another server
// instance, asks the same ones, so nobody can re-roll until only known ones are asked.
async fn unl_3_starting_again_asks_the_same_questions(db: Db) {
    let app = TestApp::spawn(db).await;
    let second = app.restart().await;
    let card = app.enroll(true).await;
    let ids = |proof: &api_types::unlock::CardProofResponse| {
        let mut ids: Vec<u32> = proof.questions.iter().map(|q| q.id).collect();
        ids.sort_unstable();
        ids
    };
    let (_, first) = app.start_and_prove(&card).await;
    let first = ids(&first.unwrap());
    for server in [&app, &second, &app, &second, &app] {
        let (_, again) = server.start_and_prove(&card).await;
        assert_eq!(ids(&again.unwrap()), first);
    }
}
both!(unl_3_starting_again_asks_the_same_questions);

// UNL-4: right answers forgive nothing, and abandoning an attempt resets nothing: two
// wrong, then right (code never used), then one more wrong closes self-service.
async fn unl_4_right_answers_and_abandoned_attempts_reset_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    for _ in 0..2 {
        let (id, proof) = app.start_and_prove(&card).await;
        app.answer(&id, &proof.unwrap(), false).await.unwrap_err();
    }
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    assert_eq!(proof.attempts_left, 1);
    app.answer(&id, &proof, true).await.unwrap();
    wait_for_mail(&card.email, "Smartcard Unlock Code").await;
    let (id, proof) = app.start_and_prove(&card).await;
    let refused = app.answer(&id, &proof.unwrap(), false).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SelfServiceClosed);
}
both!(unl_4_right_answers_and_abandoned_attempts_reset_nothing);

// UNL-5 / ALL-1: wrong codes count per user across attempts, so fresh attempts bring no
// fresh tries: the fifth wrong code in 24 hours closes self-service.
async fn unl_5_wrong_codes_across_attempts_close_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;

    for tries_left in [4, 3, 2, 1] {
        let (id, code) = app.up_to_code(&card).await;
        let refused = app.code(&id, &wrong_code(&code)).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::CodeInvalid);
        assert_eq!(refused.error.tries_left, Some(tries_left));
    }
    let (id, code) = app.up_to_code(&card).await;
    let refused = app.code(&id, &wrong_code(&code)).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SelfServiceClosed);
    assert_eq!(
        app.code(&id, &code).await.unwrap_err().code(),
        ErrorCode::SelfServiceClosed
    );
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
}
both!(unl_5_wrong_codes_across_attempts_close_self_service);

// UNL-5: the daily limit is a window, moved with the clock: four wrong codes, a day
// passes, and the next wrong code starts a new count instead of closing self-service.
async fn unl_5_the_wrong_code_count_starts_again_after_24_hours(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    for _ in 0..4 {
        let (id, code) = app.up_to_code(&card).await;
        let wrong = wrong_code(&code);
        app.code(&id, &wrong).await.unwrap_err();
    }
    app.clock.advance(24 * 3600);
    let (id, code) = app.up_to_code(&card).await;
    let wrong = wrong_code(&code);
    let refused = app.code(&id, &wrong).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CodeInvalid);
    assert_eq!(app.counters(&card).await.code_failures, 1);
    app.finish_unlock(&card, &id, &code, "daylater").await;
}
both!(unl_5_the_wrong_code_count_starts_again_after_24_hours);
