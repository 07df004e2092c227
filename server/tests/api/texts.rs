//! Text messages through GOV.UK Notify's API (SMS-1), against the stand-in (SMS-2) run
//! in-process with the templates the demo and a real Notify service use: the SCSC's One
//! Time Passcode by SMS, retries on 429 and 500, a refusal given up at once, and an
//! expired code never sent (ALL-7).

use std::time::Duration;

use api_types::recovery::{Delivery, UnlockRoute};
use api_types::ErrorCode;
use notify_standin::auth::ApiKey;
use notify_standin::templates::Templates;
use notify_standin::{Message, Shared, Standin};
use server::Clock;

use crate::both;
use crate::helpers::*;
use crate::scsc::{
    details, give_recovery, recover, scsc_proven, send_code, type_code, unlock_with, RECOVERY,
};

const KEY: &str = "tests-9b1f3c2e-5a4d-4e6f-8a7b-1c2d3e4f5a6b-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const TEMPLATE: &str = "4a3b9a10-6d1e-4c5e-9d7a-2f1b8c3e5a01";
const MOBILE: &str = "+447700900123";

/// A Notify stand-in of the test's own, holding the templates in `deploy/notify`.
pub struct Notify {
    pub url: String,
    shared: Shared,
}

impl Notify {
    pub async fn start() -> Self {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/notify/templates.toml"
        );
        let templates = Templates::parse(&std::fs::read_to_string(file).unwrap()).unwrap();
        let shared = Standin::new(vec![ApiKey::parse(KEY).unwrap()], templates);
        let (addr, _) = notify_standin::spawn(shared.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Self {
            url: format!("http://{addr}"),
            shared,
        }
    }

    pub fn texts_to(&self, to: &str) -> Vec<Message> {
        self.shared
            .messages()
            .into_iter()
            .filter(|m| m.to_normalised == to)
            .collect()
    }

    pub async fn behave(&self, mode: &str, count: Option<u32>) {
        reqwest::Client::new()
            .post(format!("{}/_standin/behaviour", self.url))
            .json(&serde_json::json!({ "mode": mode, "count": count }))
            .send()
            .await
            .unwrap();
    }
}

/// A server that sends texts to its own stand-in.
pub async fn with_texts(db: Db) -> (TestApp, Notify) {
    with_texts_as(db, TEMPLATE).await
}

/// The same, sending with `template`.
async fn with_texts_as(db: Db, template: &'static str) -> (TestApp, Notify) {
    let notify = Notify::start().await;
    let url = notify.url.clone();
    let app = TestApp::spawn_with(db, move |s| {
        s.notify_base_url = url;
        s.notify_api_key = KEY.into();
        s.notify_sms_template_id = template.into();
    })
    .await;
    (app, notify)
}

/// Wakes the outbox worker and waits until `done` holds (or 10 s pass).
async fn until(app: &TestApp, done: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        app.state.mail_waker.notify_one();
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

/// Texts whose personalisation (their code) is still at rest in the outbox.
async fn texts_kept(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND body <> ''")
        .fetch_one(&app.state.store.pool)
        .await
        .unwrap()
}

/// Waits (waking the worker) until the text has been tried `n` times.
async fn tries(app: &TestApp, n: i64) -> bool {
    for _ in 0..100 {
        let tried: i64 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE channel = 'sms'")
            .fetch_one(&app.state.store.pool)
            .await
            .unwrap();
        if tried >= n {
            return tried == n;
        }
        app.state.mail_waker.notify_one();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// SCSC-1: a locked card's holder recognised, choosing SMS.
async fn texted(app: &TestApp) -> (TestCard, api_types::AttemptId) {
    let card = app.enroll(true).await;
    give_recovery(app, &card, RECOVERY, Some(MOBILE)).await;
    let id = scsc_proven(app, &card).await;
    let recognised = recover(app, &id, &details(&card.uuid, "Rigby", RECOVERY))
        .await
        .unwrap();
    let offered: Vec<Delivery> = recognised.options.iter().map(|o| o.delivery).collect();
    assert_eq!(offered, [Delivery::Email, Delivery::Sms]);
    let sent = send_code(app, &id, Delivery::Sms).await.unwrap();
    assert_eq!(sent.hint, "07*** ***123");
    (card, id)
}

async fn scsc_2_sms_1_the_one_time_passcode_arrives_by_text_through_notify(db: Db) {
    let (app, notify) = with_texts(db).await;
    let (card, id) = texted(&app).await;
    assert!(until(&app, || !notify.texts_to(MOBILE).is_empty()).await);
    let text = &notify.texts_to(MOBILE)[0];
    // The words are the template's; the code only personalisation (SMS-1).
    assert!(text.body.contains("One Time Passcode") && text.body.contains("10 minutes"));
    assert!(text.body.contains("/not-me#"));
    let code = text.personalisation["code"].clone();
    assert!(text.reference.is_some(), "the outbox row, for tracing");
    type_code(&app, &id, &code).await.unwrap();
    unlock_with(&app, &card, &id, "Text5678").await;
    // ALL-7: sent, so wiped.
    assert_eq!(texts_kept(&app).await, 0);
}
both!(scsc_2_sms_1_the_one_time_passcode_arrives_by_text_through_notify);

async fn sms_1_a_429_and_a_500_from_notify_are_tried_again_with_backoff(db: Db) {
    let (app, notify) = with_texts(db).await;
    notify.behave("rate_limit", Some(1)).await;
    let (_, _) = texted(&app).await;
    assert!(tries(&app, 1).await, "the 429 was one try");
    assert!(notify.texts_to(MOBILE).is_empty());
    // Not before its back-off…
    notify.behave("server_error", Some(1)).await;
    app.state.mail_waker.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(tries(&app, 1).await);
    // …then a 500, then through.
    app.clock.advance(5);
    assert!(tries(&app, 2).await, "the 500 was another");
    app.clock.advance(10);
    assert!(until(&app, || notify.texts_to(MOBILE).len() == 1).await);
    let last_error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM outbox WHERE channel = 'sms'")
            .fetch_one(&app.state.store.pool)
            .await
            .unwrap();
    assert!(last_error.unwrap_or_default().contains("500"));
}
both!(sms_1_a_429_and_a_500_from_notify_are_tried_again_with_backoff);

async fn all_7_a_texted_code_that_expires_while_notify_is_down_is_never_sent(db: Db) {
    let (app, notify) = with_texts(db).await;
    notify.behave("server_error", None).await;
    let (_, id) = texted(&app).await;
    // Tried, and refused, before the code runs out.
    assert!(tries(&app, 1).await, "the first try met Notify's 500");
    app.clock.advance(600);
    notify.behave("normal", None).await;
    for _ in 0..100 {
        if texts_kept(&app).await == 0 {
            break;
        }
        app.state.mail_waker.notify_one();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(texts_kept(&app).await, 0, "the expired code is wiped");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(notify.texts_to(MOBILE).is_empty(), "and never sent");
    // And the code would not have worked anyway.
    let late = type_code(&app, &id, "ABCDEFGH2345").await.unwrap_err();
    assert_eq!(late.code(), ErrorCode::CodeExpired);
}
both!(all_7_a_texted_code_that_expires_while_notify_is_down_is_never_sent);

async fn sms_1_what_notify_refuses_outright_is_dropped_not_retried(db: Db) {
    // A template this Notify service does not hold: 400 "Template not found".
    let (app, notify) = with_texts_as(db, "00000000-0000-4000-8000-000000000000").await;
    let (_, _) = texted(&app).await;
    let pool = app.state.store.pool.clone();
    let dropped = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT last_error FROM outbox WHERE channel = 'sms' AND dropped_at IS NOT NULL",
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
    };
    for _ in 0..100 {
        if dropped().await.is_some() {
            break;
        }
        app.state.mail_waker.notify_one();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let why = dropped().await.flatten().unwrap_or_default();
    assert!(why.contains("Template not found"), "{why}");
    // Given up for good: time passing sends nothing more.
    app.clock.advance(3600);
    for _ in 0..5 {
        app.state.mail_waker.notify_one();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(notify.texts_to(MOBILE).is_empty());
}
both!(sms_1_what_notify_refuses_outright_is_dropped_not_retried);

async fn pol_3_under_nhs_2023_the_code_goes_by_text_too(db: Db) {
    let notify = Notify::start().await;
    let url = notify.url.clone();
    let app = TestApp::spawn_with(db, move |s| {
        s.policy = api_types::policy::Policy::Nhs2023;
        s.notify_base_url = url;
        s.notify_api_key = KEY.into();
        s.notify_sms_template_id = TEMPLATE.into();
    })
    .await;
    let card = app.enroll(false).await;
    give_recovery(&app, &card, RECOVERY, Some(MOBILE)).await;
    let started = app.start_on(card.guid, UnlockRoute::Nhs2023).await.unwrap();
    let id = started.attempt_id.clone();
    let proof = app.prove(&id, card.sign(&started.challenge)).await.unwrap();
    assert_eq!(proof.options.len(), 2);
    let sent = send_code(&app, &id, Delivery::Sms).await.unwrap();
    assert_eq!(sent.code_expires_at, app.clock.now() + 15 * 60);
    assert!(until(&app, || !notify.texts_to(MOBILE).is_empty()).await);
    let text = &notify.texts_to(MOBILE)[0];
    assert_eq!(text.personalisation["minutes"], "15");
    type_code(&app, &id, &text.personalisation["code"])
        .await
        .unwrap();
    unlock_with(&app, &card, &id, "13572468").await;
}
both!(pol_3_under_nhs_2023_the_code_goes_by_text_too);
