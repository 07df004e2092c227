//! The one-time-passcode unlocks end to end: the Smartcard Service Centre route (SCSC-1…
//! SCSC-4, seed 000) and the NHS's 2023 route (POL-3), with a real virtual card, the real
//! mail catcher and the real secure channel; tried as the holder would and as an attacker
//! would (guessing details for a difference in answer or time, replaying a code, using it
//! with another card).

use std::time::{Duration, Instant};

use api_types::passcodes::AccountPasscode;
use api_types::passcodes::PasscodeKind;
use api_types::policy::Policy;
use api_types::ra::UserUuid;
use api_types::recovery::{
    Delivery, FamilyName, OneTimePasscode, Recovery, RecoveryAccepted, RecoveryRequest, SendCode,
    SendCodeRequest, UnlockRoute,
};
use api_types::unlock::{Answers, AnswersRequest, Code, CodeAccepted, CodeRequest};
use api_types::values::BoundedVec;
use api_types::{AttemptId, ErrorCode};
use server::store::passcodes::NewPasscode;
use server::Clock;

use crate::both;
use crate::helpers::*;
use crate::ra;
use api_types::ra::{Reopen, Role, ViewUser};

pub const RECOVERY: &str = "Recovery pass 1";
pub const SUBJECT: &str = "Your Smartcard One Time Passcode";

/// PASS-1: gives the card's holder an Account Recovery Passcode and, if any, a mobile.
pub async fn give_recovery(app: &TestApp, card: &TestCard, passcode: &str, mobile: Option<&str>) {
    let hasher = &app.state.passcodes;
    let new = NewPasscode {
        hash: hasher.hash(passcode).unwrap(),
        keyed: server::store::attempts::HexBytes(
            hasher
                .keyed(&card.uuid, PasscodeKind::AccountRecovery.as_str(), passcode)
                .unwrap(),
        ),
    };
    let uuid = UserUuid::parse(&card.uuid).unwrap();
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let now = app.clock.now();
    server::store::passcodes::set(&mut conn, &uuid, PasscodeKind::AccountRecovery, &new, now)
        .await
        .unwrap();
    server::store::users::set_contact(&mut conn, &uuid, &card.email, mobile)
        .await
        .unwrap();
}

pub fn details(uuid: &str, family_name: &str, passcode: &str) -> RecoveryRequest {
    RecoveryRequest {
        uuid: UserUuid::parse(uuid).unwrap(),
        family_name: FamilyName::parse(family_name).unwrap(),
        recovery_passcode: AccountPasscode::parse(passcode).unwrap(),
    }
}

/// SCSC-1: start on the SCSC route and prove the card.
pub async fn scsc_proven(app: &TestApp, card: &TestCard) -> AttemptId {
    let started = app.start_on(card.guid, UnlockRoute::Scsc).await.unwrap();
    let proof = app
        .prove(&started.attempt_id, card.sign(&started.challenge))
        .await
        .unwrap();
    assert_eq!(proof.holder_name, "Mr John Rigby");
    assert!(proof.questions.is_empty());
    started.attempt_id
}

pub async fn recover(app: &TestApp, id: &AttemptId, request: &RecoveryRequest) -> Reply<Recovery> {
    app.step::<Recovery>(id, request).await
}

pub async fn send_code(app: &TestApp, id: &AttemptId, delivery: Delivery) -> Reply<SendCode> {
    app.step::<SendCode>(id, &SendCodeRequest { delivery })
        .await
}

pub async fn type_code(app: &TestApp, id: &AttemptId, code: &str) -> Reply<Code> {
    let code = api_types::recovery::TypedCode::parse(code).unwrap();
    app.step::<Code>(id, &CodeRequest { code }).await
}

/// The 12-character One Time Passcode in a message.
pub fn passcode_in(text: &str) -> OneTimePasscode {
    let alphabet = api_types::recovery::ONE_TIME_PASSCODE_ALPHABET;
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() == 12 && w.bytes().all(|b| alphabet.contains(&b)))
        .find_map(|w| OneTimePasscode::parse(w).ok())
        .unwrap_or_else(|| panic!("no One Time Passcode in {text}"))
}

/// The card update after an accepted code, as the page does it (CARD-3, UNL-7).
pub async fn unlock_with(app: &TestApp, card: &TestCard, id: &AttemptId, new_pin: &str) {
    let sealed = app.update_card(card, id).await;
    card.change_pin(&sealed, new_pin);
    let done = app.complete(id, Vec::new(), true).await.unwrap();
    assert!(done.unlocked);
}

async fn scsc_1_to_3_a_locked_card_is_unlocked_with_the_emailed_one_time_passcode(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    give_recovery(&app, &card, RECOVERY, None).await;
    let id = scsc_proven(&app, &card).await;
    // The name in any case and spacing; the UUID as given.
    let typed = details(&card.uuid, "  RIGBY ", RECOVERY);
    let RecoveryAccepted { options } = recover(&app, &id, &typed).await.unwrap();
    assert_eq!(options.len(), 1, "no mobile: email only");
    assert_eq!(options[0].delivery, Delivery::Email);
    let sent = send_code(&app, &id, Delivery::Email).await.unwrap();
    assert_eq!(sent.code_expires_at, app.clock.now() + 600);
    let mail = wait_for_mail(&card.email, SUBJECT).await;
    assert!(mail.contains("within 10 minutes"), "{mail}");
    assert!(mail.contains("/not-me#"), "{mail}");
    let passcode = passcode_in(&mail);
    // Typed in lower case with a dash, as a person copies it.
    let typed = format!(
        "{}-{}",
        &passcode.expose()[..6].to_lowercase(),
        &passcode.expose()[6..]
    );
    let CodeAccepted { card_guid } = type_code(&app, &id, &typed).await.unwrap();
    assert_eq!(card_guid, card.guid);
    unlock_with(&app, &card, &id, "Mine5678").await;
    card.verify_pin("Mine5678");
    let events: Vec<String> = app
        .audit_events(&card)
        .await
        .into_iter()
        .map(|(action, outcome)| format!("{action}:{outcome}"))
        .collect();
    for event in ["unlock.recovery:recognised", "unlock.send_code:code_sent"] {
        assert!(events.contains(&event.to_owned()), "{events:?}");
    }
}
both!(scsc_1_to_3_a_locked_card_is_unlocked_with_the_emailed_one_time_passcode);

/// What a guesser types, given the card in the reader.
type WrongDetails = dyn Fn(&TestCard) -> RecoveryRequest;

/// One wrong guess on a fresh holder's attempt: what the page is told, and how long it took.
async fn first_refusal(
    app: &TestApp,
    wrong: impl Fn(&TestCard) -> RecoveryRequest,
) -> (String, Duration) {
    let card = app.enroll(true).await;
    give_recovery(app, &card, RECOVERY, None).await;
    let id = scsc_proven(app, &card).await;
    let request = wrong(&card);
    let began = Instant::now();
    let refused = recover(app, &id, &request).await.unwrap_err();
    let took = began.elapsed();
    (
        format!(
            "{} {}",
            refused.status,
            serde_json::to_string(&refused.error).unwrap()
        ),
        took,
    )
}

async fn scsc_4_a_wrong_uuid_name_or_passcode_or_another_users_card_gets_one_answer(db: Db) {
    let app = TestApp::spawn(db).await;
    // Someone else's real details: right for them, wrong for this card.
    let other = app.enroll_person(("Jane", "Doe"), true, true).await;
    give_recovery(&app, &other, "Jane's passcode", None).await;
    let other_uuid = other.uuid.clone();
    let wrong_uuid = |card: &TestCard| {
        let mut uuid = card.uuid.clone().into_bytes();
        uuid[11] = if uuid[11] == b'9' { b'0' } else { uuid[11] + 1 };
        details(&String::from_utf8(uuid).unwrap(), "Rigby", RECOVERY)
    };
    let cases: [(&str, Box<WrongDetails>); 4] = [
        ("uuid", Box::new(wrong_uuid)),
        (
            "name",
            Box::new(|card| details(&card.uuid, "Rigbey", RECOVERY)),
        ),
        (
            "passcode",
            Box::new(|card| details(&card.uuid, "Rigby", "Recovery pass 2")),
        ),
        (
            "another user's card",
            Box::new(move |_| details(&other_uuid, "Doe", "Jane's passcode")),
        ),
    ];
    let mut answers = Vec::new();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for round in 0..3 {
        for (n, (_, wrong)) in cases.iter().enumerate() {
            let (answer, took) = first_refusal(&app, wrong).await;
            if round == 0 {
                answers.push(answer);
            }
            times[n].push(took);
        }
    }
    assert!(
        answers[0].starts_with("422 Unprocessable Entity")
            && answers[0].contains("recovery_not_recognised")
            && answers[0].contains("\"tries_left\":4"),
        "{}",
        answers[0]
    );
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer, &answers[0], "{} answers differently", cases[n].0);
    }
    // The same work whatever was wrong: the medians within noise of one another.
    let medians: Vec<Duration> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            t[1]
        })
        .collect();
    let (fastest, slowest) = (medians.iter().min().unwrap(), medians.iter().max().unwrap());
    assert!(
        *slowest < *fastest * 3 + Duration::from_millis(50),
        "{medians:?}"
    );
}
both!(scsc_4_a_wrong_uuid_name_or_passcode_or_another_users_card_gets_one_answer);

async fn scsc_1_an_scsc_attempt_has_no_questions_to_answer_its_way_past_the_details(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    give_recovery(&app, &card, RECOVERY, None).await;
    let id = scsc_proven(&app, &card).await;
    // No questions were asked: answering none of them must not send a code.
    let none = AnswersRequest {
        answers: BoundedVec::new(Vec::new()).unwrap(),
    };
    let refused = app.step::<Answers>(&id, &none).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::WrongStep);
    // Nor does asking for a code before the details.
    let early = send_code(&app, &id, Delivery::Email).await.unwrap_err();
    assert_eq!(early.code(), ErrorCode::WrongStep);
    assert_eq!(app.count("outbox").await, 0);
}
both!(scsc_1_an_scsc_attempt_has_no_questions_to_answer_its_way_past_the_details);

async fn scsc_4_five_wrong_details_close_the_route_until_the_ra_reopens_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    give_recovery(&app, &card, RECOVERY, None).await;
    let wrong = details(&card.uuid, "Rigby", "Recovery pass 9");
    let id = scsc_proven(&app, &card).await;
    for left in (1..=4).rev() {
        let refused = recover(&app, &id, &wrong).await.unwrap_err();
        assert_eq!(refused.error.tries_left, Some(left));
    }
    let closed = recover(&app, &id, &wrong).await.unwrap_err();
    assert_eq!(closed.code(), ErrorCode::RecoveryClosed);
    // Starting again buys nothing, and the right details no longer help.
    let started = app.start_on(card.guid, UnlockRoute::Scsc).await.unwrap();
    let proof = app
        .prove(&started.attempt_id, card.sign(&started.challenge))
        .await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::RecoveryClosed);
    let right = details(&card.uuid, "Rigby", RECOVERY);
    let after = recover(&app, &started.attempt_id, &right)
        .await
        .unwrap_err();
    assert_ne!(after.code(), ErrorCode::RecoveryNotRecognised);
    assert_eq!(app.counters(&card).await.recovery_failures, 5);
    // The RA sees why, and reopening self-service opens the route again.
    let (_, cookie) = ra::signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let holder = ra::uuid(&card);
    let record = ra::as_ra::<ViewUser>(&app, &cookie, &holder, &())
        .await
        .unwrap();
    assert!(record.locks.recovery_locked && !record.locks.self_service_closed);
    ra::as_ra::<Reopen>(&app, &cookie, &holder, &ra::reason())
        .await
        .unwrap();
    let id = scsc_proven(&app, &card).await;
    recover(&app, &id, &right).await.unwrap();
}
both!(scsc_4_five_wrong_details_close_the_route_until_the_ra_reopens_it);

async fn scsc_2_a_one_time_passcode_works_once_for_ten_minutes_and_only_with_its_card(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    give_recovery(&app, &card, RECOVERY, None).await;
    let id = scsc_proven(&app, &card).await;
    recover(&app, &id, &details(&card.uuid, "Rigby", RECOVERY))
        .await
        .unwrap();
    send_code(&app, &id, Delivery::Email).await.unwrap();
    // One code per attempt: asking again sends nothing.
    let again = send_code(&app, &id, Delivery::Email).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::WrongStep);
    let passcode = passcode_in(&wait_for_mail(&card.email, SUBJECT).await);

    // Another holder's attempt, at its own code step: John's code is just wrong there.
    let jane = app.enroll_person(("Jane", "Rigby"), true, true).await;
    give_recovery(&app, &jane, RECOVERY, None).await;
    let started = app.start_on(jane.guid, UnlockRoute::Scsc).await.unwrap();
    let jane_id = started.attempt_id.clone();
    app.prove(&jane_id, jane.sign(&started.challenge))
        .await
        .unwrap();
    recover(&app, &jane_id, &details(&jane.uuid, "Rigby", RECOVERY))
        .await
        .unwrap();
    send_code(&app, &jane_id, Delivery::Email).await.unwrap();
    let elsewhere = type_code(&app, &jane_id, passcode.expose())
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), ErrorCode::CodeInvalid);
    // And John's own attempt can't be moved from Jane's browser (ALL-6).
    let cookie = app.flow_cookie(&jane_id).unwrap();
    let stolen = app
        .step_with_cookie::<Code>(
            &id,
            Some(&cookie),
            &CodeRequest {
                code: passcode.clone().into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(stolen.code(), ErrorCode::NotFound);

    app.clock.advance(599);
    type_code(&app, &id, passcode.expose()).await.unwrap();
    let replayed = type_code(&app, &id, passcode.expose()).await.unwrap_err();
    assert_eq!(replayed.code(), ErrorCode::CodeAlreadyUsed);

    // Jane's, a second too late.
    app.clock.advance(1);
    let jane_code = passcode_in(&wait_for_mail(&jane.email, SUBJECT).await);
    let late = type_code(&app, &jane_id, jane_code.expose())
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::CodeExpired);
}
both!(scsc_2_a_one_time_passcode_works_once_for_ten_minutes_and_only_with_its_card);

async fn scsc_4_the_questions_three_strikes_leave_the_scsc_route_open_but_not_me_closes_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    give_recovery(&app, &card, RECOVERY, None).await;
    let (id, proof) = app.start_and_prove(&card).await;
    let proof = proof.unwrap();
    for _ in 0..3 {
        let _ = app.answer(&id, &proof, false).await;
    }
    assert!(app.counters(&card).await.self_service_closed);
    // The stop page's link: the SCSC route still unlocks the card.
    let id = scsc_proven(&app, &card).await;
    recover(&app, &id, &details(&card.uuid, "Rigby", RECOVERY))
        .await
        .unwrap();
    send_code(&app, &id, Delivery::Email).await.unwrap();
    let mail = wait_for_mail(&card.email, SUBJECT).await;
    type_code(&app, &id, passcode_in(&mail).expose())
        .await
        .unwrap();
    unlock_with(&app, &card, &id, "Mine5678").await;
    // The holder didn't ask: the code's not-me link closes every route.
    crate::not_me::report(&app, crate::not_me::token_in(&mail))
        .await
        .unwrap();
    let started = app.start_on(card.guid, UnlockRoute::Scsc).await.unwrap();
    let proof = app
        .prove(&started.attempt_id, card.sign(&started.challenge))
        .await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::RecoveryClosed);
}
both!(scsc_4_the_questions_three_strikes_leave_the_scsc_route_open_but_not_me_closes_it);

async fn pol_3_under_nhs_2023_the_card_alone_leads_to_an_emailed_code_for_15_minutes_from_the_start(
    db: Db,
) {
    let app = TestApp::spawn_with(db, |s| s.policy = Policy::Nhs2023).await;
    let card = app.enroll(false).await;
    // POL-1: the seeds' routes are not offered.
    for route in [UnlockRoute::Questions, UnlockRoute::Scsc] {
        let refused = app.start_on(card.guid, route).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::RouteNotOffered);
    }
    let started = app.start_on(card.guid, UnlockRoute::Nhs2023).await.unwrap();
    let id = started.attempt_id.clone();
    let proof = app.prove(&id, card.sign(&started.challenge)).await.unwrap();
    assert!(proof.questions.is_empty(), "no questions, no registration");
    assert_eq!(proof.options.len(), 1);
    assert_eq!(proof.options[0].delivery, Delivery::Email);
    // The Account Recovery details are the SCSC's, not asked here.
    let asked = recover(&app, &id, &details(&card.uuid, "Rigby", RECOVERY))
        .await
        .unwrap_err();
    assert_eq!(asked.code(), ErrorCode::WrongStep);
    app.clock.advance(5 * 60);
    let sent = send_code(&app, &id, Delivery::Email).await.unwrap();
    assert_eq!(sent.code_expires_at, started.expires_at - 5 * 60 + 15 * 60);
    let mail = wait_for_mail(&card.email, SUBJECT).await;
    assert!(mail.contains("within 10 minutes"), "{mail}");
    let code = code_in(&mail);
    type_code(&app, &id, code.expose()).await.unwrap();
    // POL-2: the new passcode the page sets is 6–8 digits.
    unlock_with(&app, &card, &id, "24681357").await;
    card.verify_pin("24681357");
}
both!(pol_3_under_nhs_2023_the_card_alone_leads_to_an_emailed_code_for_15_minutes_from_the_start);

async fn pol_3_under_nhs_2023_a_code_past_fifteen_minutes_from_the_start_is_refused(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.policy = Policy::Nhs2023).await;
    let card = app.enroll(false).await;
    let started = app.start_on(card.guid, UnlockRoute::Nhs2023).await.unwrap();
    let id = started.attempt_id.clone();
    app.prove(&id, card.sign(&started.challenge)).await.unwrap();
    app.clock.advance(10 * 60);
    send_code(&app, &id, Delivery::Email).await.unwrap();
    let code = code_in(&wait_for_mail(&card.email, SUBJECT).await);
    app.clock.advance(5 * 60);
    let late = type_code(&app, &id, code.expose()).await.unwrap_err();
    assert_eq!(late.code(), ErrorCode::CodeExpired);
    // And a seed-2006 service offers no 2023 route.
    let seed = app.restart_with(|s| s.policy = Policy::Seed2006).await;
    let refused = seed
        .start_on(card.guid, UnlockRoute::Nhs2023)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::RouteNotOffered);
}
both!(pol_3_under_nhs_2023_a_code_past_fifteen_minutes_from_the_start_is_refused);

async fn pol_3_without_an_approved_email_or_a_mobile_the_holder_is_sent_to_the_ra(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.policy = Policy::Nhs2023).await;
    let card = app.enroll(false).await;
    let uuid = UserUuid::parse(&card.uuid).unwrap();
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    server::store::users::set_contact(&mut conn, &uuid, "john.rigby@gmail.com", None)
        .await
        .unwrap();
    drop(conn);
    let started = app.start_on(card.guid, UnlockRoute::Nhs2023).await.unwrap();
    let id = started.attempt_id.clone();
    let refused = app
        .prove(&id, card.sign(&started.challenge))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NoDeliveryChannel);
    let nothing = send_code(&app, &id, Delivery::Email).await.unwrap_err();
    assert_eq!(nothing.code(), ErrorCode::WrongStep);
    // Certificates past their end: told so, not sent on.
    let later = TestApp::spawn_with(Db::Sqlite, |s| s.policy = Policy::Nhs2023).await;
    let old = later.enroll(false).await;
    later.clock.advance(4 * 365 * 24 * 3600);
    let started = later
        .start_on(old.guid, UnlockRoute::Nhs2023)
        .await
        .unwrap();
    let refused = later
        .prove(&started.attempt_id, old.sign(&started.challenge))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CertificateNotValid);
}
both!(pol_3_without_an_approved_email_or_a_mobile_the_holder_is_sent_to_the_ra);
