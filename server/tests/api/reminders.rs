//! JOB-1 / JOB-2 / CERT-2: the daily certificate reminder, run by every instance on the
//! injected clock: once a day per user whatever the number of instances, restarts or
//! runs; nothing lost or sent twice when an instance dies between claim and send; the
//! 30-day edge and the day after, with the clock moved; what operators see of it.

use api_types::ra::UserUuid;
use server::mail::renewal::REMINDER_SUBJECT;
use server::store::jobs;
use server::{AppState, Clock};

use crate::both;
use crate::helpers::*;

const DAY: i64 = 24 * 60 * 60;
/// When the certificates issued at enrolment (at `START`, three years) end.
const ENDS: i64 = START + 3 * 365 * DAY;

/// Reminders queued for `card`'s holder (sent or not): the outbox keeps the row.
async fn reminders_queued(app: &TestApp, card: &TestCard) -> i64 {
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND subject = $2")
            .bind(&card.email)
            .bind(REMINDER_SUBJECT)
            .fetch_one(&app.state.store.pool)
            .await
            .unwrap();
    row.0
}

async fn run(app: &TestApp) {
    app.state.run_jobs().await.unwrap();
}

both!(job_1_one_reminder_a_day_whatever_the_instances_restarts_and_runs);
async fn job_1_one_reminder_a_day_whatever_the_instances_restarts_and_runs(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let later = app.enroll(true).await;
    // CERT-2: nothing until the last 30 days.
    app.clock.set(ENDS - 30 * DAY - 1);
    run(&app).await;
    assert_eq!(reminders_queued(&app, &card).await, 0);

    app.clock.set(ENDS - 25 * DAY);
    let (b, c) = (app.restart().await, app.restart().await);
    // Three instances at once, each running twice.
    tokio::join!(run(&app), run(&b), run(&c));
    tokio::join!(run(&app), run(&b), run(&c));
    let text = wait_for_mail(&card.email, REMINDER_SUBJECT).await;
    assert!(text.contains(&api_types::time::utc_date(ENDS)), "{text}");
    assert!(text.contains(&format!("{ORIGIN}/renew")), "{text}");
    assert!(
        text.contains(&format!(
            "From {} you will be asked to renew",
            api_types::time::utc_date(ENDS - 20 * DAY)
        )),
        "{text}"
    );
    assert_eq!(reminders_queued(&app, &card).await, 1);
    assert_eq!(reminders_queued(&app, &later).await, 1);
    // A restart the same day (a minute before midnight UTC) sends nothing more.
    let restarted = app.restart().await;
    let day_end = (ENDS - 25 * DAY).div_euclid(DAY) * DAY + DAY - 60;
    app.clock.set(day_end);
    run(&restarted).await;
    assert_eq!(reminders_queued(&app, &card).await, 1);
    // The next day UTC, one more; the holder sees each on My card's events.
    app.clock.set(day_end + 60);
    tokio::join!(run(&restarted), run(&b));
    assert_eq!(reminders_queued(&app, &card).await, 2);
    let _ = wait_for_mail(&card.email, REMINDER_SUBJECT).await;
    let events = app.audit_events(&card).await;
    let reminded = events
        .iter()
        .filter(|(action, _)| action == "cert.reminder");
    assert_eq!(reminded.count(), 2, "{events:?}");
    // Within 20 days the words say sign-in leads to renewal.
    app.clock.set(ENDS - 15 * DAY);
    run(&app).await;
    let text = wait_for_mail(&card.email, REMINDER_SUBJECT).await;
    assert!(text.contains("when you next sign in"), "{text}");
    // Once ended, no reminder: only the RA can help, and a mail cannot.
    app.clock.set(ENDS);
    run(&app).await;
    assert_eq!(reminders_queued(&app, &card).await, 3);
}

both!(job_1_an_instance_that_dies_between_claim_and_send_loses_nothing);
async fn job_1_an_instance_that_dies_between_claim_and_send_loses_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    app.clock.set(ENDS - 10 * DAY);
    // Killed inside its transaction, after the claim: nothing stays claimed.
    let user = UserUuid::parse(&card.uuid).unwrap();
    let day = app.clock.now().div_euclid(DAY);
    {
        let mut tx = app.state.store.begin().await.unwrap();
        let kind = "certificate_expiry";
        assert!(
            jobs::claim_reminder(&mut tx, &user, kind, day, app.clock.now())
                .await
                .unwrap()
        );
    }
    assert_eq!(app.count("reminders").await, 0);
    // An instance that claims and queues, then dies before its mail worker sends: it
    // runs no mail worker at all here.
    let settings = (*app.state.settings).clone();
    let dying = AppState::new(settings, app.clock.clone()).await.unwrap();
    dying.run_jobs().await.unwrap();
    drop(dying);
    assert_eq!(app.count("reminders").await, 1);
    // Another instance's worker sends it, once; its own runs claim nothing again.
    let other = app.restart().await;
    run(&other).await;
    app.state.mail_waker.notify_one();
    let text = wait_for_mail(&card.email, REMINDER_SUBJECT).await;
    assert!(text.contains("when you next sign in"), "{text}");
    assert_eq!(reminders_queued(&app, &card).await, 1);
}

both!(job_1_operators_see_each_jobs_last_run_and_lag);
async fn job_1_operators_see_each_jobs_last_run_and_lag(db: Db) {
    let app = TestApp::spawn(db).await;
    let _card = app.enroll(true).await;
    app.clock.set(ENDS - 5 * DAY);
    run(&app).await;
    let ran_at = app.clock.now();
    let runs = jobs::runs(&app.state.store.pool).await.unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r.job.as_str()).collect();
    assert_eq!(
        names,
        [
            server::jobs::CERTIFICATE_REMINDERS,
            server::jobs::PASSCODE_REMINDERS
        ]
    );
    let run = &runs[0];
    assert_eq!(&*run.instance, &*app.state.instance);
    assert_eq!((run.succeeded_at, run.queued), (Some(ran_at), 1));
    app.clock.advance(90);
    let line = server::jobs::describe(run, app.clock.now());
    assert!(line.contains("lag 90 s"), "{line}");
    assert!(line.contains("queued 1"), "{line}");
}
