//! UNL-4 under races: right answers racing the wrong answer that closes self-service.

use api_types::ErrorCode;
use futures_util::future::join_all;

use crate::both;
use crate::helpers::*;

// UNL-4: whichever way the requests are ordered, a closed account never gets an unlock
// code. (Before the fix, on PostgreSQL, right answers read the user before the closing
// wrong answer committed and still emailed a code.)
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
        let wrong = wrong.unwrap_err().code();
        let codes_sent = rights.iter().filter(|r| r.is_ok()).count();
        if app.counters(&card).await.self_service_closed {
            // The wrong answer came first, so every right one must hear "closed".
            assert_eq!(wrong, ErrorCode::SelfServiceClosed);
            assert_eq!(
                codes_sent, 0,
                "a code was sent to a closed account: {rights:?}"
            );
            assert!(rights.iter().all(|r| r
                .as_ref()
                .is_err_and(|e| e.code() == ErrorCode::SelfServiceClosed)));
        } else {
            // A right answer came first and reset the count, so the wrong one didn't close.
            assert!(codes_sent >= 1, "{rights:?}");
            assert_eq!(wrong, ErrorCode::WrongAnswers);
        }
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
