//! ALL-5: rate limits on the steps a stranger can call, shared by every instance, with
//! 429 + Retry-After + `rate_limited`; a flood leaves a bounded trace.

use api_types::unlock::{Start, StartRequest};
use api_types::{CardGuid, ErrorCode};
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

async fn start_from(app: &TestApp, guid: CardGuid, forwarded_for: &str) -> StatusCode {
    app.request::<Start>(None, &(), &StartRequest { card_guid: guid })
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .status()
}

// ALL-5: per client address: over the limit the answer is 429 with Retry-After and the
// rate_limited code, from every instance; after the window (moved clock) it recovers.
async fn all_5_start_is_limited_per_client_and_recovers_after_the_window(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.rate_limit_per_client = 3;
        s.rate_limit_window_secs = 600;
    })
    .await;
    let card = app.enroll(true).await;
    for _ in 0..3 {
        app.start(card.guid).await.unwrap();
    }
    let second = app.restart().await;
    let request = StartRequest {
        card_guid: card.guid,
    };
    let response = second
        .request::<Start>(None, &(), &request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "600");
    let error: api_types::ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::RateLimited);
    app.clock.advance(599);
    assert_eq!(
        app.start(card.guid).await.unwrap_err().code(),
        ErrorCode::RateLimited
    );
    app.clock.advance(1);
    app.start(card.guid).await.unwrap();
}
both!(all_5_start_is_limited_per_client_and_recovers_after_the_window);

// ALL-5: per card too, whichever address the requests come from; and X-Forwarded-For
// names the client only when the peer is a trusted proxy.
async fn all_5_start_is_limited_per_card_and_forwarded_for_only_from_trusted_proxies(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.rate_limit_per_client = 2;
        s.rate_limit_per_card = 3;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let card = app.enroll(true).await;
    // Behind our proxy, three clients: the per-client limit (2) is not reached...
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(
            start_from(&app, card.guid, client).await,
            StatusCode::CREATED
        );
    }
    // ...but the card's (3) is, for a fourth client as well.
    let status = start_from(&app, card.guid, "198.51.100.4").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Not behind a trusted proxy: a forged X-Forwarded-For buys nothing.
    let direct = TestApp::spawn_with(Db::Sqlite, |s| s.rate_limit_per_client = 2).await;
    let card = direct.enroll(true).await;
    let other = direct.enroll(true).await;
    for (guid, forged) in [(card.guid, "10.0.0.1"), (other.guid, "10.0.0.2")] {
        assert_eq!(start_from(&direct, guid, forged).await, StatusCode::CREATED);
    }
    let status = start_from(&direct, card.guid, "10.0.0.3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}
both!(all_5_start_is_limited_per_card_and_forwarded_for_only_from_trusted_proxies);

// ALL-5 / RA-4: a flood of /start with random card GUIDs from one client leaves a
// bounded trace: the refusals under the limit and one summary of the rest.
async fn all_5_a_start_flood_cannot_grow_the_audit_trail_without_bound(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.rate_limit_per_client = 20).await;
    let audit = app.count("audit_log").await;
    let mut limited = 0;
    for _ in 0..200 {
        let guid = CardGuid::from_bytes(rand::random());
        match app.start(guid).await {
            Err(refused) if refused.code() == ErrorCode::RateLimited => limited += 1,
            Err(refused) => assert_eq!(refused.code(), ErrorCode::UnknownCard),
            Ok(_) => panic!("an unknown card started an unlock"),
        }
    }
    assert_eq!(limited, 180);
    assert_eq!(app.count("audit_log").await - audit, 21);
    // The counters of closed windows are swept.
    app.clock.advance(600);
    app.state.sweep_rate_limits().await.unwrap();
    assert_eq!(app.count("rate_limits").await, 0);
}
both!(all_5_a_start_flood_cannot_grow_the_audit_trail_without_bound);

// ALL-5: the slow step (argon2id) is limited per user, so one card's holder cannot keep
// the server's cores busy; the limit counts only requests from the browser holding the
// attempt, so a stranger with a leaked id cannot lock the user out.
async fn all_5_answers_are_limited_per_user_but_not_by_strangers(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.rate_limit_per_card = 2).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    for _ in 0..5 {
        let request = api_types::unlock::AnswersRequest {
            answers: api_types::values::BoundedVec::new(vec![]).unwrap(),
        };
        let refused = app
            .step_with_cookie::<api_types::unlock::Answers>(&id, None, &request)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
    }
    for _ in 0..2 {
        let refused = app.answer(&id, &proof, false).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::WrongAnswers);
    }
    let refused = app.answer(&id, &proof, true).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::RateLimited);
    assert_eq!(app.counters(&card).await.answer_failures, 2);
}
both!(all_5_answers_are_limited_per_user_but_not_by_strangers);
