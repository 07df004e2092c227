//! The unlock flow, UNL-1…UNL-8, on both databases.

use serde_json::{json, Value};
use sqlx::Row;

use crate::both;
use crate::helpers::*;

async fn code_step(app: &TestApp, id: &str, code: &str) -> (reqwest::StatusCode, Value) {
    app.post(&format!("/api/unlock/{id}/code"), json!({ "code": code }))
        .await
}

async fn complete(
    app: &TestApp,
    id: &str,
    responses: Vec<String>,
    pin_changed: bool,
) -> (reqwest::StatusCode, Value) {
    app.post(
        &format!("/api/unlock/{id}/complete"),
        json!({ "script_responses": responses, "pin_changed": pin_changed }),
    )
    .await
}

/// Code → script on the card → local PIN change → complete.
async fn finish(app: &TestApp, card: &TestCard, id: &str, code: &str, new_pin: &str) {
    let (status, script) = code_step(app, id, code).await;
    assert_eq!(status, 200, "{script}");
    let responses = card.run_script(&script);
    card.change_pin(&script, new_pin);
    let (status, done) = complete(app, id, responses, true).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["unlocked"], true);
}

// UNL-1..UNL-7, CARD-3, CARD-6, RA-4: the whole unlock, and the card really is unlocked.
async fn happy_path(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof["status"], 200, "{proof}");
    let body = &proof["body"];
    assert_eq!(body["holder_name"], "Mr John Rigby"); // UNL-2
    let questions = body["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 3); // UNL-3 (default 3 of 4)
    assert!(questions
        .iter()
        .all(|q| ANSWERS.iter().any(|(id, _)| q["id"] == *id)));
    assert_eq!(body["attempts_left"], 3);

    let (status, sent) = app.answer(&id, &proof, true).await; // REG-2: case and spaces ignored
    assert_eq!(status, 200, "{sent}");
    assert!(sent["email_hint"].as_str().unwrap().ends_with("@nhs.net"));
    let mail = wait_for_mail(&card.email, "Smartcard Unlock Code").await; // UNL-5
    assert!(mail.contains("valid for 15 minutes"), "{mail}");
    assert!(mail.contains("Registration Authority"), "{mail}");
    let code = code_in(&mail);
    // ALL-1: the code is stored hashed, never in clear.
    let stored: Option<Vec<u8>> =
        sqlx::query("SELECT code_hash FROM unlock_attempts WHERE id = $1")
            .bind(&id)
            .fetch_one(&app.state.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    assert!(stored.is_some_and(|h| h.len() == 32 && h != code.as_bytes()));

    finish(&app, &card, &id, &code, "N3w!").await;
    card.card.with_card(|c| {
        assert!(c.pin_matches("N3w!")); // UNL-6/7: the passcode the user chose
        assert_eq!(c.pin_tries_left(), 3);
        assert_eq!(c.puk_tries_left(), 3);
    });
    wait_for_mail(&card.email, "Your smartcard has been unlocked").await; // UNL-7

    // CARD-3: the PUK was rotated and the server knows the new one — a second unlock works.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let (id2, code2) = app.up_to_code(&card).await;
    finish(&app, &card, &id2, &code2, "again1").await;
    card.card.with_card(|c| assert!(c.pin_matches("again1")));

    // RA-4: every step audited, and the chain shows tampering.
    let chain = server::store::verify_audit_chain(&app.state.pool)
        .await
        .unwrap();
    assert!(matches!(chain, Ok(n) if n >= 10), "{chain:?}");
    sqlx::query("UPDATE audit_log SET outcome = 'forged' WHERE seq = 2")
        .execute(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(
        server::store::verify_audit_chain(&app.state.pool)
            .await
            .unwrap(),
        Err(2)
    );
}
both!(happy_path);

// UNL-4: three failed attempts close self-service until the RA reopens it; the counter
// is in the database and survives a restart.
async fn three_strikes_close_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    for tries_left in [2, 1] {
        let (status, error) = app.answer(&id, &proof, false).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["code"], "wrong_answers");
        assert_eq!(error["tries_left"], tries_left);
    }
    let (status, error) = app.answer(&id, &proof, false).await;
    assert_eq!(status, 423, "{error}");
    assert_eq!(error["code"], "self_service_closed");
    assert!(error["help"]
        .as_str()
        .unwrap()
        .contains("Registration Authority"));

    // Right answers no longer help, on this attempt or a new one, after a restart too.
    let (status, _) = app.answer(&id, &proof, true).await;
    assert_ne!(status, 200);
    let restarted = app.restart().await;
    let (_, proof) = restarted.start_and_prove(&card).await;
    assert_eq!(proof["status"], 423, "{proof}");
    assert_eq!(proof["body"]["code"], "self_service_closed");
}
both!(three_strikes_close_self_service);

// UNL-4: concurrent wrong answers, from several attempts and two server instances, never
// count past 3.
async fn concurrent_wrong_answers_never_exceed_three(db: Db) {
    let app = TestApp::spawn(db).await;
    let second = app.restart().await;
    let card = app.enroll(true).await;
    let mut attempts = Vec::new();
    for i in 0..5 {
        let server = if i % 2 == 0 { &app } else { &second };
        attempts.push(server.start_and_prove(&card).await);
    }
    let mut calls = Vec::new();
    for (i, (id, proof)) in attempts.iter().enumerate() {
        for _ in 0..2 {
            let server = if i % 2 == 0 { &app } else { &second };
            calls.push(server.answer(id, proof, false));
        }
    }
    let results = futures_util::future::join_all(calls).await;
    let wrong = results
        .iter()
        .filter(|(_, e)| e["code"] == "wrong_answers")
        .count();
    let closed = results
        .iter()
        .filter(|(_, e)| e["code"] == "self_service_closed")
        .count();
    assert_eq!(wrong, 2, "{results:?}");
    assert_eq!(closed, 8, "{results:?}");
    let row = sqlx::query("SELECT unlock_failures, self_service_closed FROM users WHERE uuid = $1")
        .bind(&card.uuid)
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>(0).unwrap(), 3);
    assert_eq!(row.try_get::<i64, _>(1).unwrap(), 1);
}
both!(concurrent_wrong_answers_never_exceed_three);

// UNL-5 / ALL-1: the code expires after 15 minutes (time moved, not slept).
async fn expired_code_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.clock.advance(16 * 60);
    let (status, error) = code_step(&app, &id, &code).await;
    assert_eq!(status, 410, "{error}");
    assert_eq!(error["code"], "code_expired");
}
both!(expired_code_is_refused);

// UNL-5: just inside 15 minutes the code still works.
async fn code_works_until_it_expires(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.clock.advance(15 * 60 - 1);
    let (status, body) = code_step(&app, &id, &code).await;
    assert_eq!(status, 200, "{body}");
}
both!(code_works_until_it_expires);

// UNL-5 / ALL-1: single use.
async fn reused_code_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    assert_eq!(code_step(&app, &id, &code).await.0, 200);
    let (status, error) = code_step(&app, &id, &code).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "wrong_step");
}
both!(reused_code_is_refused);

// UNL-5 / ALL-1: limited tries; after them even the right code is refused.
async fn wrong_code_limit(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for tries_left in [4, 3, 2, 1] {
        let (status, error) = code_step(&app, &id, wrong).await;
        assert_eq!(status, 422, "{error}");
        assert_eq!(error["code"], "code_invalid");
        assert_eq!(error["tries_left"], tries_left);
    }
    let (status, error) = code_step(&app, &id, wrong).await;
    assert_eq!(status, 410, "{error}");
    assert_eq!(error["code"], "code_tries_exhausted");
    let (status, _) = code_step(&app, &id, &code).await;
    assert_ne!(status, 200);
}
both!(wrong_code_limit);

// UNL-1 / UNL-8: unknown cards and unregistered users are told so; no questions shown.
async fn unknown_card_and_unregistered_user(db: Db) {
    let app = TestApp::spawn(db).await;
    let (status, error) = app
        .post("/api/unlock/start", json!({ "card_guid": "ab".repeat(16) }))
        .await;
    assert_eq!(status, 404, "{error}");
    assert_eq!(error["code"], "unknown_card");

    let card = app.enroll(false).await;
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof["status"], 403, "{proof}");
    assert_eq!(proof["body"]["code"], "not_registered");
    assert!(proof["body"]["help"].as_str().is_some());
    assert!(proof["body"].get("questions").is_none());
}
both!(unknown_card_and_unregistered_user);

// CARD-6: a signature from another card's key is refused and the attempt is dead.
async fn card_not_genuine(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let impostor = app.enroll(true).await;
    let (_, started) = app
        .post("/api/unlock/start", json!({ "card_guid": card.guid }))
        .await;
    let id = started["attempt_id"].as_str().unwrap();
    let forged = impostor.sign(started["challenge"].as_str().unwrap());
    let (status, error) = app
        .post(
            &format!("/api/unlock/{id}/card-proof"),
            json!({ "signature": forged }),
        )
        .await;
    assert_eq!(status, 403, "{error}");
    assert_eq!(error["code"], "card_not_genuine");
    // The real card can't reuse the dead attempt.
    let real = card.sign(started["challenge"].as_str().unwrap());
    let (status, _) = app
        .post(
            &format!("/api/unlock/{id}/card-proof"),
            json!({ "signature": real }),
        )
        .await;
    assert_eq!(status, 409);
    // A stale challenge (over 5 minutes) is refused too.
    let (_, started) = app
        .post("/api/unlock/start", json!({ "card_guid": card.guid }))
        .await;
    app.clock.advance(5 * 60 + 1);
    let late = card.sign(started["challenge"].as_str().unwrap());
    let id = started["attempt_id"].as_str().unwrap();
    let (status, error) = app
        .post(
            &format!("/api/unlock/{id}/card-proof"),
            json!({ "signature": late }),
        )
        .await;
    assert_eq!(status, 410, "{error}");
}
both!(card_not_genuine);

// CARD-3 / BRG-4: the card pulled mid-script, and a report that never arrived, both
// reconcile without a stranded PUK.
async fn interrupted_card_update_reconciles(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;

    // The page reports only part of the card's answers: nothing is assumed.
    let (id, code) = app.up_to_code(&card).await;
    let (_, script) = code_step(&app, &id, &code).await;
    let (status, error) = complete(&app, &id, vec!["9000".into()], false).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "card_update_failed");

    // Pulled after SELECT + RESET RETRY COUNTER: the bridge reports the card removed and
    // the page asks for a fresh script for the same attempt, which finishes the job.
    card.card.remove_after(2);
    let apdus: Vec<Vec<u8>> = script["script"]["apdus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| hex::decode(a.as_str().unwrap()).unwrap())
        .collect();
    let pulled = card_protocol::client::PivClient::new(card.card.clone()).run_script(&apdus);
    assert!(pulled.is_err());
    card.card.insert();
    let (status, fresh) = app
        .post(&format!("/api/unlock/{id}/script"), json!(null))
        .await;
    assert_eq!(status, 200, "{fresh}");
    let responses = card.run_script(&fresh);
    card.change_pin(&fresh, "fresh1");
    assert_eq!(complete(&app, &id, responses, true).await.0, 200);
    card.card.with_card(|c| assert!(c.pin_matches("fresh1")));

    // The whole script ran, but the page never reported back: the card has a PUK the
    // server only holds as pending. The next unlock adopts it after one refused try.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let (id, code) = app.up_to_code(&card).await;
    let (_, script) = code_step(&app, &id, &code).await;
    card.run_script(&script); // never reported
    let (id, code) = app.up_to_code(&card).await;
    let (_, script) = code_step(&app, &id, &code).await;
    let responses = card.run_script(&script);
    let (status, error) = complete(&app, &id, responses, false).await;
    assert_eq!(status, 409, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("one more try"),
        "{error}"
    );
    let (_, fresh) = app
        .post(&format!("/api/unlock/{id}/script"), json!(null))
        .await;
    let responses = card.run_script(&fresh);
    card.change_pin(&fresh, "final1");
    let (status, done) = complete(&app, &id, responses, true).await;
    assert_eq!(status, 200, "{done}");
    card.card.with_card(|c| {
        assert!(c.pin_matches("final1"));
        assert_eq!(c.puk_tries_left(), 3); // the refused try was restored
    });
}
both!(interrupted_card_update_reconciles);
