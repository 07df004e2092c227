//! ALL-6 tried as an attacker would: a leaked attempt id without the browser's flow
//! cookie, cross-site form posts, other origins; and API answers that caches must not keep.

use api_types::unlock::{
    Answer, Answers, AnswersRequest, CardProof, CardProofRequest, Channel, ChannelRequest,
    Complete, CompleteRequest, Config, Start, StartRequest,
};
use api_types::values::{BoundedVec, SecurityAnswer};
use api_types::Endpoint;
use api_types::ErrorCode;
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

// ALL-6: someone who saw `/api/unlock/<id>/…` in a proxy log, with no cookie or with the
// cookie of another attempt, can move no step; the owner carries on untouched, and the
// tries are recorded under the card (RA-4).
async fn all_6_an_attempt_id_without_its_flow_cookie_is_worthless(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let other = app.enroll(true).await;
    let started = app.start(card.guid).await.unwrap();
    let id = started.attempt_id.clone();
    let other_started = app.start(other.guid).await.unwrap();
    let strangers = [None, app.flow_cookie(&other_started.attempt_id)];
    let signature = card.sign(&started.challenge);
    for cookie in &strangers {
        let refused = app
            .step_with_cookie::<CardProof>(
                &id,
                cookie.as_deref(),
                &CardProofRequest {
                    signature: signature.clone(),
                },
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
    }
    let proof = app.prove(&id, signature).await.unwrap();
    let answers = AnswersRequest {
        answers: BoundedVec::new(
            proof
                .questions
                .iter()
                .map(|q| Answer {
                    question_id: q.id,
                    answer: SecurityAnswer::parse("wrong").unwrap(),
                })
                .collect(),
        )
        .unwrap(),
    };
    for cookie in &strangers {
        let refused = app
            .step_with_cookie::<Answers>(&id, cookie.as_deref(), &answers)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
    }
    // Nothing was counted against the owner, who goes on to get a code.
    assert_eq!(app.counters(&card).await.answer_failures, 0);
    app.answer(&id, &proof, true).await.unwrap();
    let code = code_in(&wait_for_mail(&card.email, "Smartcard Unlock Code").await);
    app.code(&id, &code).await.unwrap();
    // Nor is a channel to the card opened for a stranger.
    for cookie in &strangers {
        let refused = app
            .step_with_cookie::<Channel>(&id, cookie.as_deref(), &ChannelRequest {})
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
        let forged = CompleteRequest {
            script_responses: BoundedVec::new(vec![]).unwrap(),
            pin_changed: true,
        };
        let refused = app
            .step_with_cookie::<Complete>(&id, cookie.as_deref(), &forged)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound);
    }
    let refused_tries = app
        .audit_events(&card)
        .await
        .iter()
        .filter(|(_, outcome)| outcome == "not_found")
        .count();
    assert_eq!(refused_tries, 8);
}
both!(all_6_an_attempt_id_without_its_flow_cookie_is_worthless);

// ALL-6: what a page on another origin can send without a preflight — a form post, a
// text/plain beacon, a body-less POST — and any foreign or missing Origin are refused
// before anything is read or written.
async fn all_6_cross_site_requests_are_refused_and_write_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, proof) = app.start_and_prove(&card).await;
    proof.unwrap();
    let cookie = app.flow_cookie(&id).unwrap();
    let audit = app.count("audit_log").await;
    let attempts = app.count("unlock_attempts").await;
    // The bodies as strings: each case sends them under its own content type.
    let start = serde_json::to_string(&StartRequest {
        card_guid: card.guid,
        route: Default::default(),
    })
    .unwrap();
    let form = format!("card_guid={}", card.guid.to_hex());
    let script = Channel::path(&id);
    let json = Some("application/json");
    let (not_json, foreign) = (ErrorCode::UnsupportedMediaType, ErrorCode::OriginNotAllowed);
    let cases = [
        (
            Start::ROUTE,
            Some(ORIGIN),
            Some("application/x-www-form-urlencoded"),
            &form,
            not_json,
        ),
        (
            Start::ROUTE,
            Some(ORIGIN),
            Some("text/plain"),
            &start,
            not_json,
        ),
        (
            Start::ROUTE,
            Some("https://evil.example"),
            json,
            &start,
            foreign,
        ),
        (
            Start::ROUTE,
            Some("http://localhost.evil.example"),
            json,
            &start,
            foreign,
        ),
        (Start::ROUTE, None, json, &start, foreign),
        (Start::ROUTE, Some("null"), json, &start, foreign),
        (&script, Some(ORIGIN), None, &String::new(), not_json),
        (
            &script,
            Some("https://evil.example"),
            json,
            &serde_json::to_string(&ChannelRequest {}).unwrap(),
            foreign,
        ),
    ];
    for (path, origin, content_type, body, code) in cases {
        let mut post = app
            .client
            .post(app.url(path))
            .header("cookie", &cookie)
            .body(body.clone());
        if let Some(origin) = origin {
            post = post.header("origin", origin);
        }
        if let Some(content_type) = content_type {
            post = post.header("content-type", content_type);
        }
        let response = post.send().await.unwrap();
        let case = format!("{path} {origin:?} {content_type:?}");
        assert_eq!(response.status().as_u16(), code.http_status(), "{case}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let error: api_types::ApiError = response.json().await.unwrap();
        assert_eq!(error.code, code, "{case}");
    }
    assert_eq!(app.count("audit_log").await, audit);
    assert_eq!(app.count("unlock_attempts").await, attempts);
}
both!(all_6_cross_site_requests_are_refused_and_write_nothing);

// ALL-6: served over HTTPS, the flow cookie is `__Host-` and `Secure`; every API answer,
// reads included, says `no-store`.
#[tokio::test]
async fn all_6_an_https_origin_gets_a_host_prefixed_secure_cookie() {
    let db = std::sync::Arc::new(TestDb::new(Db::Sqlite).await);
    let mut settings = settings(&db.url);
    settings.public_origin = "https://selfservice.example.nhs.uk".into();
    let app =
        server::Application::build(settings, std::sync::Arc::new(server::TestClock::new(START)))
            .await
            .unwrap();
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    // The database lives as long as the app that holds it.
    let app = TestApp::attach(port, state, db).await;
    let card = app.enroll(true).await;
    let start = StartRequest {
        card_guid: card.guid,
        route: Default::default(),
    };
    let response = app
        .request_from::<Start>("https://selfservice.example.nhs.uk", None, &(), &start)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-scss-flow="), "{cookie}");
    for attribute in ["; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let config = app.request::<Config>(None, &(), &()).send().await.unwrap();
    assert_eq!(config.headers()["cache-control"], "no-store");
}
