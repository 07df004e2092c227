//! UNL-4 under races: right answers racing the wrong answer that closes self-service.

use api_types::ErrorCode;
use futures_util::future::join_all;

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
