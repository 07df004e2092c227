//! PASS-4: the passcodes age from the day they were set (enrolment, or an Update): a
//! reminder at sign-in in the 14 days before they expire, a change before anything else
//! once expired, and 21 days after that, unchanged, the account locks for sign-in and
//! self-service (a session open then ends). An Update starts the year again.

use api_types::auth::SessionInfo;
use api_types::auth::{LoginStart, LoginStartRequest};
use api_types::passcodes::{
    AccountPasscode, PasscodeChange, PasscodeExpiry, PasscodeUpdateRequest, PasscodesDue,
    UpdatePasscodes,
};
use api_types::ra::{Role, UnlockPasscodes, ViewUser};
use api_types::ErrorCode;
use server::mail::passcodes::REMINDER_SUBJECT as PASSCODE_REMINDER;
use server::mail::templates::RA_CHANGED_SUBJECT;
use server::Clock;

use crate::auth::{card_signs, login, session};
use crate::both;
use crate::helpers::*;
use crate::ra::{as_ra, reason, signed_in, uuid};

const DAY: i64 = 24 * 60 * 60;

async fn expiring(db: Db) -> TestApp {
    TestApp::spawn_with(db, |s| s.passcode_expiry = PasscodeExpiry::default()).await
}

/// What sign-in at `START + days` says of the passcodes.
async fn due_at(app: &TestApp, card: &TestCard, days: i64) -> Result<PasscodesDue, ErrorCode> {
    app.clock.set(START + days * DAY);
    login(app, card)
        .await
        .map(|(info, _): (SessionInfo, String)| info.passcodes)
        .map_err(|refused| refused.code())
}

async fn pass_4_reminded_then_forced_then_locked_as_the_clock_moves(db: Db) {
    let app = expiring(db).await;
    let card = app.enroll_unlocked().await;
    let expires_at = START + 365 * DAY;
    assert_eq!(due_at(&app, &card, 350).await, Ok(PasscodesDue::NotDue));
    assert_eq!(
        due_at(&app, &card, 351).await,
        Ok(PasscodesDue::Reminder { expires_at })
    );
    assert_eq!(
        due_at(&app, &card, 365).await,
        Ok(PasscodesDue::Expired {
            expires_at,
            locks_at: START + 386 * DAY
        })
    );
    // Signed in just before the lock: the session ends with it.
    app.clock.set(START + 386 * DAY - 60);
    let (_, cookie) = login(&app, &card).await.unwrap();
    app.clock.advance(60);
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::PasscodesLocked
    );
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    assert_eq!(
        due_at(&app, &card, 386).await,
        Err(ErrorCode::PasscodesLocked)
    );
    // Self-service too: the unlock stops at the card's proof.
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::PasscodesLocked);
    let events = app.audit_events(&card).await;
    assert!(
        events
            .iter()
            .any(|(action, outcome)| action == "auth.login" && outcome == "passcodes_locked"),
        "{events:?}"
    );
}
both!(pass_4_reminded_then_forced_then_locked_as_the_clock_moves);

async fn pass_4_an_update_once_expired_starts_the_year_again(db: Db) {
    let app = expiring(db).await;
    let card = app.enroll_unlocked().await;
    app.clock.set(START + 370 * DAY);
    let (info, cookie) = login(&app, &card).await.unwrap();
    assert!(matches!(info.passcodes, PasscodesDue::Expired { .. }));
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = PasscodeUpdateRequest {
        signature: card_signs(&card, started.challenge.as_bytes()),
        login_id: started.login_id,
        account_recovery: PasscodeChange::Keep,
        verification: PasscodeChange::Set(AccountPasscode::parse("Verify pass 1").unwrap()),
        new_card_passcode: false,
    };
    app.send::<UpdatePasscodes>(Some(&cookie), &(), &request)
        .await
        .unwrap();
    assert_eq!(due_at(&app, &card, 370).await, Ok(PasscodesDue::NotDue));
    assert_eq!(
        due_at(&app, &card, 370 + 351).await,
        Ok(PasscodesDue::Reminder {
            expires_at: START + (370 + 365) * DAY
        })
    );
}
both!(pass_4_an_update_once_expired_starts_the_year_again);

async fn pass_4_ra_3_only_the_ra_unlocks_a_locked_account_and_the_user_changes_them_next(db: Db) {
    let app = expiring(db).await;
    let card = app.enroll_unlocked().await;
    app.clock.set(START + 390 * DAY);
    assert_eq!(
        due_at(&app, &card, 390).await,
        Err(ErrorCode::PasscodesLocked)
    );
    // The RA (their own passcodes set today) sees the lock, and unlocks it with their
    // card proven in the last 5 minutes (RA-5).
    let (_, ra) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let record = as_ra::<ViewUser>(&app, &ra, &uuid(&card), &())
        .await
        .unwrap();
    assert!(record.locks.passcodes_locked);
    app.clock.advance(5 * 60);
    let stale = as_ra::<UnlockPasscodes>(&app, &ra, &uuid(&card), &reason()).await;
    assert_eq!(stale.unwrap_err(), ErrorCode::CardProofRequired);
    let (_, ra) = signed_in(&app, Role::RaAgent, ("Bea", "Agent")).await;
    as_ra::<UnlockPasscodes>(&app, &ra, &uuid(&card), &reason())
        .await
        .unwrap();
    let record = as_ra::<ViewUser>(&app, &ra, &uuid(&card), &())
        .await
        .unwrap();
    assert!(!record.locks.passcodes_locked);
    let text = wait_for_mail(&card.email, RA_CHANGED_SUBJECT).await;
    assert!(text.contains("unlocked your account"), "{text}");
    // Signed in again, straight to Manage Passcodes, with the lock period from now.
    let now = app.clock.now();
    let (info, _) = login(&app, &card).await.unwrap();
    assert_eq!(
        info.passcodes,
        PasscodesDue::Expired {
            expires_at: START + 365 * DAY,
            locks_at: now + 21 * DAY
        }
    );
    app.clock.set(now + 21 * DAY);
    assert_eq!(
        login(&app, &card).await.unwrap_err().code(),
        ErrorCode::PasscodesLocked
    );
}
both!(pass_4_ra_3_only_the_ra_unlocks_a_locked_account_and_the_user_changes_them_next);

/// Passcode reminders queued for `card`'s holder (sent or not).
async fn reminders_queued(app: &TestApp, card: &TestCard) -> i64 {
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND subject = $2")
            .bind(&card.email)
            .bind(PASSCODE_REMINDER)
            .fetch_one(&app.state.store.pool)
            .await
            .unwrap();
    row.0
}

async fn pass_4_job_2_a_reminder_a_day_in_the_14_days_before_across_instances(db: Db) {
    let app = expiring(db).await;
    let card = app.enroll_unlocked().await;
    let second = app.restart().await;
    let run = |app: &TestApp| {
        let state = app.state.clone();
        async move { state.run_jobs().await.unwrap() }
    };
    app.clock.set(START + 351 * DAY - 1);
    tokio::join!(run(&app), run(&second));
    assert_eq!(reminders_queued(&app, &card).await, 0);
    app.clock.set(START + 351 * DAY);
    tokio::join!(run(&app), run(&second));
    tokio::join!(run(&app), run(&second));
    assert_eq!(reminders_queued(&app, &card).await, 1);
    let text = wait_for_mail(&card.email, PASSCODE_REMINDER).await;
    let date = api_types::time::utc_date;
    for said in [
        date(START + 365 * DAY),
        date(START + 386 * DAY),
        format!("{ORIGIN}/passcodes"),
    ] {
        assert!(text.contains(&said), "{said}: {text}");
    }
    app.clock.set(START + 352 * DAY);
    tokio::join!(run(&app), run(&second));
    assert_eq!(reminders_queued(&app, &card).await, 2);
    // Expired: no more mail (sign-in says it now).
    app.clock.set(START + 365 * DAY);
    run(&app).await;
    assert_eq!(reminders_queued(&app, &card).await, 2);
    let events = app.audit_events(&card).await;
    let reminded = events
        .iter()
        .filter(|(action, _)| action == "passcodes.reminder");
    assert_eq!(reminded.count(), 2, "{events:?}");
}
both!(pass_4_job_2_a_reminder_a_day_in_the_14_days_before_across_instances);
