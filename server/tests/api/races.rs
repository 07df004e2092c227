//! UNL-4 under races: right answers racing the wrong answer that closes self-service.

use futures_util::future::join_all;
use sqlx::Row;

use crate::both;
use crate::helpers::*;

// UNL-4: whichever way the requests are ordered, a closed account never gets an unlock
// code. (Before the fix, on PostgreSQL, right answers read the user before the closing
// wrong answer committed and still emailed a code.)
async fn no_code_once_a_racing_wrong_answer_closes_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    for _round in 0..8 {
        let card = app.enroll(true).await;
        // Two failures already: the next wrong answer closes self-service.
        let (id, proof) = app.start_and_prove(&card).await;
        assert_eq!(proof["status"], 200, "{proof}");
        for _ in 0..2 {
            let (status, body) = app.answer(&id, &proof, false).await;
            assert_eq!(status, 422, "{body}");
        }
        let mut rights = Vec::new();
        for _ in 0..4 {
            let (id, proof) = app.start_and_prove(&card).await;
            assert_eq!(proof["status"], 200, "{proof}");
            rights.push((id, proof));
        }
        let wrong = app.answer(&id, &proof, false);
        let right = join_all(rights.iter().map(|(id, proof)| app.answer(id, proof, true)));
        let ((wrong_status, _), right_results) = tokio::join!(wrong, right);
        let row = sqlx::query("SELECT self_service_closed FROM users WHERE uuid = $1")
            .bind(&card.uuid)
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
        let closed = row.try_get::<i64, _>(0).unwrap() == 1;
        let codes_sent = right_results
            .iter()
            .filter(|(status, _)| *status == 200)
            .count();
        if closed {
            // The wrong answer came first, so every right one must hear "closed".
            assert_eq!(wrong_status, 423);
            assert_eq!(
                codes_sent, 0,
                "a code was sent to a closed account: {right_results:?}"
            );
            assert!(right_results
                .iter()
                .all(|(_, e)| e["code"] == "self_service_closed"));
        } else {
            // A right answer came first and reset the count, so the wrong one didn't close.
            assert!(codes_sent >= 1, "{right_results:?}");
            assert_eq!(wrong_status, 422);
        }
    }
}
both!(no_code_once_a_racing_wrong_answer_closes_self_service);
