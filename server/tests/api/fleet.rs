//! OPS-6 with real processes: two `smartcard-server` instances on one database; one is
//! killed with SIGKILL in the middle of an unlock, and the other finishes it with nothing
//! lost, nothing sent twice and the audit trail intact.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use server::store::audit::{self, Verified};
use server::store::outbox;
use server::{AppState, TestClock};

use crate::both;
use crate::helpers::*;
use crate::process::ServerProcess;

/// How many messages the mail catcher holds to `to` with `subject`.
async fn mails_to(to: &str, subject: &str) -> usize {
    let api = std::env::var("MAILDEV_API_URL").unwrap_or_else(|_| "http://127.0.0.1:1080".into());
    let mails: Vec<Value> = reqwest::get(format!("{api}/api/email"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    mails
        .iter()
        .filter(|m| {
            m["subject"] == subject
                && m["to"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|a| a["address"] == to))
        })
        .count()
}

async fn ops_6_an_instance_killed_mid_unlock_loses_nothing(db: Db) {
    let test_db = Arc::new(TestDb::new(db).await);
    let dir = std::env::temp_dir();
    let log = |name: &str| dir.join(format!("scss-{name}-{}.txt", rand::random::<u64>()));
    let (mut first, first_port) = ServerProcess::start(&test_db.url, &log("first"), &[]).await;
    let (_second, second_port) = ServerProcess::start(&test_db.url, &log("second"), &[]).await;
    // Enrolled through the library at real time, as at_rest.rs says why.
    let now = server::Clock::now(&server::SystemClock);
    let state = || async {
        AppState::new(settings(&test_db.url), Arc::new(TestClock::new(now)))
            .await
            .unwrap()
    };
    let on_first = TestApp::attach(first_port, state().await, test_db.clone()).await;
    let on_second = TestApp::attach(second_port, state().await, test_db.clone()).await;

    let card = on_first.enroll(true).await;
    let (id, code) = on_first.up_to_code(&card).await;
    on_first.code(&id, &code).await.unwrap();
    let script = on_first.update_card(&card, &id).await;
    card.change_pin(&script, "Later123");
    // The card holds its new passcode; the instance that sealed it dies before the
    // unlock is recorded as complete.
    first.kill_now();

    on_second.adopt_flow(&on_first, &id);
    let completed = on_second.complete(&id, Vec::new(), true).await.unwrap();
    assert!(completed.unlocked);
    card.verify_pin("Later123");
    wait_for_mail(&card.email, "Your smartcard has been unlocked").await;

    let pool = &on_second.state.store.pool;
    for _ in 0..50 {
        if outbox::unsent_count(pool).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outbox::unsent_count(pool).await.unwrap(), 0, "nothing lost");
    assert_eq!(mails_to(&card.email, "Smartcard Unlock Code").await, 1);
    assert_eq!(
        mails_to(&card.email, "Your smartcard has been unlocked").await,
        1,
        "nothing sent twice"
    );
    let verified = audit::verify(pool, &on_second.state.audit_key)
        .await
        .unwrap();
    assert!(matches!(verified, Verified::Intact { .. }), "{verified:?}");
}
both!(ops_6_an_instance_killed_mid_unlock_loses_nothing);
