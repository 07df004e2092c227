//! RA-3: the RA's actions on a user — reopening a locked account, a phone code in place
//! of the questions, new contact details — each with a reason, audited under the RA's
//! name and told to the user.

use api_types::ra::{
    ChangeUserContact, ContactRequest, IssuePhoneCode, Reopen, Role, StopSelfService, ViewUser,
};
use api_types::unlock::{CodeRequest, RaCode};
use api_types::{AttemptId, Endpoint, ErrorCode, UnlockCode};
use serde_json::json;
use server::Clock;

use super::{as_ra, because, card_again, code_of, lock_out, reason, signed_in, trail, uuid};
use crate::both;
use crate::helpers::*;

async fn ra_3_unl_4_reopening_a_locked_account_restores_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    lock_out(&app, &john).await;
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert!(record.locks.self_service_closed && record.locks.questions_locked);
    assert!(!record.locks.code_locked);
    assert_eq!(record.locks.answer_failures, 3);
    // A reason is required, and must say something: bodies no typed request can hold,
    // so raw JSON on purpose.
    for bad in [
        json!({}),
        json!({ "reason": "" }),
        json!({ "reason": "ok" }),
    ] {
        let refused = app
            .client
            .post(app.url(&Reopen::path(&uuid(&john))))
            .header("origin", ORIGIN)
            .header("cookie", &cookie)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(code_of(refused).await, ErrorCode::BadRequest, "{bad}");
    }
    assert!(app.counters(&john).await.self_service_closed);
    as_ra::<Reopen>(&app, &cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert!(!record.locks.self_service_closed && record.locks.answer_failures == 0);
    wait_for_mail(
        &john.email,
        "Your Registration Authority changed your smartcard account",
    )
    .await;
    // John unlocks his card himself again.
    let (id, code) = app.up_to_code(&john).await;
    app.finish_unlock(&john, &id, &code, "Mine12").await;
    let events = trail(&app, &cookie, &john).await;
    let reopen = events.iter().find(|e| e.1 == "ra.reopen").unwrap();
    assert_eq!(reopen.0, format!("ra:{}", agent.uuid));
    assert_eq!(
        (reopen.2.as_str(), reopen.3.as_str()),
        (
            "reopened",
            "Identity checked on the phone against the HR record"
        )
    );
    assert!(events
        .iter()
        .any(|e| e.1 == "unlock.complete" && e.2 == "unlocked"));
    // RA-2: the unlock told the server the card has all its tries again.
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert_eq!(record.cards[0].pin_tries_left, Some(3));
    assert!(record
        .events
        .iter()
        .any(|e| e.action.as_str() == "ra.view_user" && e.actor == format!("ra:{}", agent.uuid)));
}
both!(ra_3_unl_4_reopening_a_locked_account_restores_self_service);

/// The unlock with a phone code in place of the questions, up to the card update.
async fn ra_code(app: &TestApp, id: &AttemptId, code: &UnlockCode) -> Result<(), ErrorCode> {
    app.step::<RaCode>(
        id,
        &CodeRequest {
            code: code.clone().into(),
        },
    )
    .await
    .map(|_| ())
    .map_err(|refused| refused.code())
}

async fn ra_3_unl_8_a_phone_code_unlocks_once_within_ten_minutes_with_the_users_own_card(db: Db) {
    let app = TestApp::spawn(db).await;
    let (agent, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    // Jane never registered (UNL-8) and her card is locked.
    let jane = app.enroll(false).await;
    let other = app.enroll(false).await;
    let (id, proof) = app.start_and_prove(&jane).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::NotRegistered);
    let some_code = UnlockCode::parse("123456").unwrap();
    assert_eq!(
        ra_code(&app, &id, &some_code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );
    // Time passes in this test: the RA's card proves itself before each code (RA-5).
    let phone_code = |card: &TestCard| {
        let (app, cookie, user, agent) = (&app, &cookie, uuid(card), &agent);
        async move {
            card_again(app, cookie, agent).await.unwrap();
            as_ra::<IssuePhoneCode>(app, cookie, &user, &reason())
                .await
                .unwrap()
        }
    };

    let issued = phone_code(&jane).await;
    assert_eq!(issued.tries, 3);
    assert_eq!(issued.expires_at, app.clock.now() + 600);
    // The user is told a code was given, never the code; nor is it kept in clear.
    let notice = wait_for_mail(
        &jane.email,
        "Your Registration Authority changed your smartcard account",
    )
    .await;
    assert!(!notice.contains(issued.code.expose()));
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&jane), &())
        .await
        .unwrap();
    assert_eq!(record.phone_code.unwrap().tries_left, 3);
    assert!(!trail(&app, &cookie, &jane)
        .await
        .iter()
        .any(|e| e.3.contains(issued.code.expose())));

    // Another user's card cannot use Jane's code.
    let (other_id, _) = app.start_and_prove(&other).await;
    assert_eq!(
        ra_code(&app, &other_id, &issued.code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );
    // Wrong tries are counted; then the right code lets the card update begin.
    let wrong = wrong_code(&issued.code);
    assert_eq!(
        ra_code(&app, &id, &wrong).await.unwrap_err(),
        ErrorCode::CodeInvalid
    );
    ra_code(&app, &id, &issued.code).await.unwrap();
    let sealed = app.update_card(&jane, &id).await;
    jane.change_pin(&sealed, "Jane12");
    assert!(app.complete(&id, Vec::new(), true).await.unwrap().unlocked);
    // Single use: a new attempt cannot use it again.
    let (again, _) = app.start_and_prove(&jane).await;
    assert_eq!(
        ra_code(&app, &again, &issued.code).await.unwrap_err(),
        ErrorCode::NoRaCode
    );

    // Ten minutes, then dead.
    let late = phone_code(&other).await;
    app.clock.advance(601);
    assert_eq!(
        ra_code(&app, &other_id, &late.code).await.unwrap_err(),
        ErrorCode::CodeExpired
    );
    // Three wrong tries, then dead even for the right code.
    let (fresh, _) = app.start_and_prove(&other).await;
    let tries = phone_code(&other).await;
    let wrong = wrong_code(&tries.code);
    for expected in [
        ErrorCode::CodeInvalid,
        ErrorCode::CodeInvalid,
        ErrorCode::CodeTriesExhausted,
    ] {
        assert_eq!(ra_code(&app, &fresh, &wrong).await.unwrap_err(), expected);
    }
    assert_eq!(
        ra_code(&app, &fresh, &tries.code).await.unwrap_err(),
        ErrorCode::CodeTriesExhausted
    );
    let events = app.audit_events(&other).await;
    assert!(events
        .iter()
        .any(|(a, o)| a == "ra.phone_code" && o == "issued"));
}
both!(ra_3_unl_8_a_phone_code_unlocks_once_within_ten_minutes_with_the_users_own_card);

async fn ra_3_contact_details_changed_by_the_ra_tell_both_addresses(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll(true).await;
    let contact = |email: &str, mobile: Option<&str>| ContactRequest {
        email: email.to_owned(),
        mobile: mobile.map(str::to_owned),
        reason: because("Caller asked for it"),
    };
    let outside = contact("john@gmail.com", None);
    assert_eq!(
        as_ra::<ChangeUserContact>(&app, &cookie, &uuid(&john), &outside)
            .await
            .unwrap_err(),
        ErrorCode::EmailNotApproved
    );
    let new_email = format!("new.{}", john.email);
    let change = contact(&new_email, Some("07700 900123"));
    as_ra::<ChangeUserContact>(&app, &cookie, &uuid(&john), &change)
        .await
        .unwrap();
    let subject = "Your Registration Authority changed your smartcard account";
    wait_for_mail(&john.email, subject).await;
    wait_for_mail(&new_email, subject).await;
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&john), &())
        .await
        .unwrap();
    assert_eq!(record.summary.email, new_email);
    assert_eq!(record.mobile.as_deref(), Some("+447700900123"));
}
both!(ra_3_contact_details_changed_by_the_ra_tell_both_addresses);

async fn ra_6_the_incident_stop_ends_an_unlock_mid_way_and_every_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, ra_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll_unlocked().await;
    let (_, johns_session) = crate::auth::login(&app, &john).await.unwrap();
    // Someone is past the code with John's card when the RA is called.
    john.card.with_card(|c| c.lock_pin().unwrap());
    let (id, code) = app.up_to_code(&john).await;
    app.code(&id, &code).await.unwrap();
    as_ra::<StopSelfService>(&app, &ra_cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    assert_eq!(
        app.channel(&id).await.unwrap_err().code(),
        ErrorCode::AttemptEnded
    );
    assert_eq!(
        crate::auth::session(&app, Some(&johns_session))
            .await
            .unwrap_err(),
        ErrorCode::NotSignedIn
    );
    let (_, proof) = app.start_and_prove(&john).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
    let events = trail(&app, &ra_cookie, &john).await;
    assert!(events
        .iter()
        .any(|(actor, action, outcome, detail)| actor.starts_with("ra:")
            && action == "ra.stop"
            && outcome == "stopped"
            && detail.contains("Identity checked")));
    // Reopening after the incident lets John unlock himself again.
    as_ra::<Reopen>(&app, &ra_cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    let (id, code) = app.up_to_code(&john).await;
    app.finish_unlock(&john, &id, &code, "After1").await;
}
both!(ra_6_the_incident_stop_ends_an_unlock_mid_way_and_every_session);
