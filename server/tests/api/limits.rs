//! ALL-5: rate limits on the steps a stranger can call, shared by every instance, with
//! 429 + Retry-After + `rate_limited`; a flood leaves a bounded trace.

use api_types::auth::{LoginFinish, LoginFinishRequest, LoginStart, LoginStartRequest};
use api_types::endpoint::Endpoint;
use api_types::unlock::{Code, CodeRequest, Start, StartRequest};
use api_types::values::{CardSignature, UnlockCode};
use api_types::{AttemptId, CardGuid, ErrorCode};
use reqwest::StatusCode;

use crate::auth::login;
use crate::both;
use crate::helpers::*;

async fn start_from(app: &TestApp, guid: CardGuid, forwarded_for: &str) -> StatusCode {
    app.request::<Start>(
        None,
        &(),
        &StartRequest {
            card_guid: guid,
            route: Default::default(),
        },
    )
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
        route: Default::default(),
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

/// Endpoint `E` from `address`, as our trusted proxy forwards it.
async fn from<E: Endpoint>(
    app: &TestApp,
    address: &str,
    params: &E::Params,
    request: &E::Request,
) -> Result<E::Response, ErrorCode> {
    let response = app
        .request::<E>(None, params, request)
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap();
    if response.status().is_success() {
        Ok(response.json().await.unwrap())
    } else {
        Err(response.json::<api_types::ApiError>().await.unwrap().code)
    }
}

// ALL-5 (issue 17, item 1): a card's GUID is no secret — it is on the card, in the
// bridge's status and in the RA console. Strangers asking for challenges with it, from
// as many addresses as they like, and failing its signature, cannot lock its holder out
// of signing in or unlocking.
async fn all_5_a_cards_guid_alone_cannot_lock_its_holder_out(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.rate_limit_per_client = 2;
        s.rate_limit_per_card = 3;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let card = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    for n in 1..=11 {
        let stranger = format!("198.51.100.{n}");
        let started = from::<LoginStart>(&app, &stranger, &(), &start)
            .await
            .unwrap();
        let unlock = StartRequest {
            card_guid: card.guid,
            route: Default::default(),
        };
        from::<Start>(&app, &stranger, &(), &unlock).await.unwrap();
        // A signature the card never made: the first few are recorded, the rest only
        // counted — and none of them counts against the holder's own card.
        let forged = LoginFinishRequest {
            login_id: started.login_id,
            signature: CardSignature::from_bytes(vec![0x30, 0x00]).unwrap(),
        };
        let refused = from::<LoginFinish>(&app, &stranger, &(), &forged)
            .await
            .unwrap_err();
        let expected = if n <= 3 {
            ErrorCode::CardNotGenuine
        } else {
            ErrorCode::RateLimited
        };
        assert_eq!(refused, expected, "forgery {n}");
    }
    let (info, _) = login(&app, &card).await.unwrap();
    assert_eq!(info.card_guid, card.guid);
    app.start(card.guid).await.unwrap();
}
both!(all_5_a_cards_guid_alone_cannot_lock_its_holder_out);

// ALL-5 / RA-4 (issue 17, found against the demo): a challenge asked for with a known
// card's GUID proves nothing, so it is no event — a hundred login starts and unlock
// starts naming John's card, from one address or many, leave the trail as it was; the
// sign-in that answers a challenge is the event.
async fn all_5_challenges_asked_for_a_known_card_leave_the_trail_as_it_was(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let card = app.enroll_unlocked().await;
    let before = app.count("audit_log").await;
    let spent = app.count("spent_logins").await;
    for n in 1..=50 {
        let stranger = format!("198.51.100.{}", n % 5);
        let login = LoginStartRequest {
            card_guid: card.guid,
        };
        from::<LoginStart>(&app, &stranger, &(), &login)
            .await
            .unwrap();
        let unlock = StartRequest {
            card_guid: card.guid,
            route: Default::default(),
        };
        from::<Start>(&app, &stranger, &(), &unlock).await.unwrap();
    }
    assert_eq!(app.count("audit_log").await, before);
    // Sealed, a login challenge is no row at all (issue 22): asking cannot grow anything.
    assert_eq!(app.count("spent_logins").await, spent);
    login(&app, &card).await.unwrap();
    assert_eq!(app.count("spent_logins").await, spent + 1);
    let events = app.audit_events(&card).await;
    let sign_ins = events.iter().filter(|(action, _)| action == "auth.login");
    assert_eq!(sign_ins.count(), 1, "{events:?}");
}
both!(all_5_challenges_asked_for_a_known_card_leave_the_trail_as_it_was);

// ALL-5: X-Forwarded-For names the client only when the peer is a trusted proxy, and an
// IPv6 client is counted per /64, however many addresses it draws from it.
async fn all_5_forwarded_for_only_from_trusted_proxies_and_ipv6_per_64(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.rate_limit_per_client = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let card = app.enroll(true).await;
    for client in ["2001:db8:5:6::1", "2001:db8:5:6:ffff::2"] {
        assert_eq!(
            start_from(&app, card.guid, client).await,
            StatusCode::CREATED
        );
    }
    let status = start_from(&app, card.guid, "2001:db8:5:6:1:2:3:4").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let status = start_from(&app, card.guid, "2001:db8:5:7::1").await;
    assert_eq!(status, StatusCode::CREATED);

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
both!(all_5_forwarded_for_only_from_trusted_proxies_and_ipv6_per_64);

// ALL-5 / RA-4 (issue 17, item 3): a flood of requests naming nothing — unknown card
// GUIDs, random attempt ids — adds no audit row per request: each window's refusals are
// tallied per step and reason, and rolled into one audit event when the window closes.
async fn all_5_a_refusal_flood_leaves_one_audit_event_per_step_and_reason(db: Db) {
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
    let code = CodeRequest {
        code: UnlockCode::parse("123456").unwrap().into(),
    };
    let mut codes_refused = Vec::new();
    for _ in 0..60 {
        let id = AttemptId::from_bytes(rand::random());
        let refused = app.call::<Code>(&id, &code).await.unwrap_err();
        codes_refused.push(refused.code());
    }
    assert!(codes_refused[..20]
        .iter()
        .all(|c| *c == ErrorCode::NotFound));
    assert!(codes_refused[20..]
        .iter()
        .all(|c| *c == ErrorCode::RateLimited));
    assert_eq!(app.count("audit_log").await, audit);
    assert_eq!(app.count("refusal_tally").await, 2);

    // The window closes: one event per step and reason, with its count; the counters
    // of closed windows are swept.
    app.clock.advance(600);
    app.state.sweep_rate_limits().await.unwrap();
    assert_eq!(app.count("audit_log").await, audit + 2);
    assert_eq!(app.count("refusal_tally").await, 0);
    assert_eq!(app.count("rate_limits").await, 0);
    let events = app.anonymous_events().await;
    for (action, code) in [
        ("unlock.start", "unknown_card"),
        ("unlock.code", "not_found"),
    ] {
        let rolled_up = events.iter().find(|(a, c, _)| a == action && c == code);
        let (_, _, detail) = rolled_up.unwrap_or_else(|| panic!("{action} {code}: {events:?}"));
        assert!(
            detail.starts_with("refused 20 times, tied to no user"),
            "{detail}"
        );
    }
}
both!(all_5_a_refusal_flood_leaves_one_audit_event_per_step_and_reason);

// ALL-5 (issue 17, item 2): a hospital's staff reach us from one NAT address. Card-proven
// sign-ins cost that address nothing, so 5,000 of them complete with the production
// limits, while a stranger's anonymous bad requests from the same address meet 429.
async fn all_5_five_thousand_sign_ins_from_one_address_while_its_bad_requests_meet_429(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        let defaults = server::Settings::default();
        s.rate_limit_per_client = defaults.rate_limit_per_client;
        s.rate_limit_per_card = defaults.rate_limit_per_card;
        s.rate_limit_window_secs = defaults.rate_limit_window_secs;
    })
    .await;
    let mut staff = Vec::new();
    for _ in 0..20 {
        staff.push(app.enroll_unlocked().await);
    }
    let mut bad = Vec::new();
    for n in 0..5000 {
        let (info, _) = login(&app, &staff[n % staff.len()]).await.unwrap();
        assert_eq!(info.card_guid, staff[n % staff.len()].guid);
        if n % 25 == 0 {
            let stranger = LoginStartRequest {
                card_guid: CardGuid::from_bytes(rand::random()),
            };
            let refused = app
                .send::<LoginStart>(None, &(), &stranger)
                .await
                .unwrap_err();
            bad.push(refused.code());
        }
    }
    assert_eq!(bad.len(), 200);
    assert!(bad[..100].iter().all(|c| *c == ErrorCode::UnknownCard));
    assert!(bad[100..].iter().all(|c| *c == ErrorCode::RateLimited));
}
both!(all_5_five_thousand_sign_ins_from_one_address_while_its_bad_requests_meet_429);

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
