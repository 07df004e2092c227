//! REG-1…REG-4 as a user and as an attacker would try them: register after proving the
//! card again, then unlock with the new answers; wrong, resent and expired codes;
//! duplicate questions and unapproved domains; another session, no session.

use api_types::auth::{LoginStart, LoginStartRequest};
use api_types::register::{
    CodeSent, RegisterBegin, RegisterBeginRequest, RegisterBeginResponse, RegisterConfirm,
    RegisterConfirmRequest, RegisterDetails, RegisterDetailsRequest, RegisterResend, ResendRequest,
};
use api_types::unlock::Answer;
use api_types::values::{BoundedVec, SecurityAnswer};
use api_types::{ErrorCode, UnlockCode};

use crate::auth::{card_signs, login};
use crate::both;
use crate::helpers::*;

/// REG-1: the passcode again on the card, a fresh challenge signed, registration begun.
async fn begin(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
) -> Result<RegisterBeginResponse, Refused> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await?;
    let request = RegisterBeginRequest {
        signature: card_signs(card, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    app.call_as::<RegisterBegin>(cookie, &(), &request).await
}

fn answers(pairs: &[(i64, &str)]) -> BoundedVec<Answer, 4> {
    BoundedVec::new(
        pairs
            .iter()
            .map(|(id, text)| Answer {
                question_id: u32::try_from(*id).unwrap(),
                answer: SecurityAnswer::parse(text).unwrap(),
            })
            .collect(),
    )
    .unwrap()
}

async fn details(
    app: &TestApp,
    begun: &RegisterBeginResponse,
    cookie: &str,
    pairs: &[(i64, &str)],
    email: &str,
) -> Result<CodeSent, Refused> {
    let request = RegisterDetailsRequest {
        answers: answers(pairs),
        email: email.into(),
    };
    app.step_with_cookie::<RegisterDetails>(&begun.registration_id, Some(cookie), &request)
        .await
}

async fn confirm(
    app: &TestApp,
    begun: &RegisterBeginResponse,
    cookie: &str,
    code: UnlockCode,
) -> Result<bool, Refused> {
    let request = RegisterConfirmRequest { code };
    app.step_with_cookie::<RegisterConfirm>(&begun.registration_id, Some(cookie), &request)
        .await
        .map(|r| r.registered)
}

async fn reg_1_to_4_a_user_registers_and_then_unlocks_with_those_answers(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unregistered_unlocked().await;
    // Not registered yet: self-service unlock sends them to the RA.
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::NotRegistered);

    // Each run its own address: both databases' runs read the same mail catcher.
    let new_email = format!("new.{}@trust.nhs.uk", &card.uuid);
    let new_email = new_email.as_str();
    let (_, cookie) = login(&app, &card).await.unwrap();
    let begun = begin(&app, &card, &cookie).await.unwrap();
    assert_eq!(begun.questions.len(), 20);
    assert_eq!(begun.email, card.email);
    assert!(begun.approved_domains.contains(&"nhs.net".to_owned()));
    let sent = details(&app, &begun, &cookie, ANSWERS, new_email)
        .await
        .unwrap();
    assert_eq!(sent.email_hint, "n***@trust.nhs.uk");
    let code = code_in(&wait_for_mail(new_email, "Smartcard Self-Service registration code").await);
    assert!(confirm(&app, &begun, &cookie, code.clone()).await.unwrap());
    wait_for_mail(new_email, "You have registered for Smartcard Self-Service").await;
    // Single use.
    let used = confirm(&app, &begun, &cookie, code).await.unwrap_err();
    assert_eq!(used.code(), ErrorCode::CodeAlreadyUsed);

    // The card locks; the new answers unlock it, and the code goes to the new address.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let card = TestCard {
        email: new_email.into(),
        ..card
    };
    let (id, code) = app.up_to_code(&card).await;
    app.finish_unlock(&card, &id, &code, "Reg1st").await;
    let events = app.audit_events(&card).await;
    for action in ["register.begin", "register.details", "register.confirm"] {
        assert!(events.iter().any(|(a, _)| a == action), "{events:?}");
    }
}
both!(reg_1_to_4_a_user_registers_and_then_unlocks_with_those_answers);

async fn reg_4_wrong_resent_and_expired_codes(db: Db) {
    // The session outlives the code here, so the code's own expiry is what refuses it.
    let app = TestApp::spawn_with(db, |s| s.session_idle_secs = 3600).await;
    let card = app.enroll_unregistered_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let begun = begin(&app, &card, &cookie).await.unwrap();
    details(&app, &begun, &cookie, ANSWERS, &card.email)
        .await
        .unwrap();
    let first =
        code_in(&wait_for_mail(&card.email, "Smartcard Self-Service registration code").await);
    let wrong = confirm(&app, &begun, &cookie, wrong_code(&first))
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.code(), wrong.error.tries_left),
        (ErrorCode::CodeInvalid, Some(4))
    );
    // A new code: the old one stops working, and the tries used still count.
    let resend = ResendRequest {};
    app.step_with_cookie::<RegisterResend>(&begun.registration_id, Some(&cookie), &resend)
        .await
        .unwrap();
    let second =
        code_in(&wait_for_mail(&card.email, "Smartcard Self-Service registration code").await);
    if first != second {
        let old = confirm(&app, &begun, &cookie, first).await.unwrap_err();
        assert_eq!(
            (old.code(), old.error.tries_left),
            (ErrorCode::CodeInvalid, Some(3))
        );
    }
    // Expired after 15 minutes.
    app.clock.advance(15 * 60);
    let late = confirm(&app, &begun, &cookie, second).await.unwrap_err();
    assert_eq!(late.code(), ErrorCode::CodeExpired);

    // Five wrong codes end a registration, resends or not.
    let (_, cookie) = login(&app, &card).await.unwrap();
    let begun = begin(&app, &card, &cookie).await.unwrap();
    details(&app, &begun, &cookie, ANSWERS, &card.email)
        .await
        .unwrap();
    let code =
        code_in(&wait_for_mail(&card.email, "Smartcard Self-Service registration code").await);
    for _ in 0..4 {
        confirm(&app, &begun, &cookie, wrong_code(&code))
            .await
            .unwrap_err();
    }
    let last = confirm(&app, &begun, &cookie, wrong_code(&code))
        .await
        .unwrap_err();
    assert_eq!(last.code(), ErrorCode::CodeTriesExhausted);
    let after = confirm(&app, &begun, &cookie, code).await.unwrap_err();
    assert_eq!(after.code(), ErrorCode::WrongStep);
}
both!(reg_4_wrong_resent_and_expired_codes);

async fn reg_2_3_duplicate_questions_and_unapproved_domains_are_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unregistered_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let begun = begin(&app, &card, &cookie).await.unwrap();
    let twice = [(1, "a"), (1, "b"), (2, "c"), (3, "d")];
    let refused = details(&app, &begun, &cookie, &twice, &card.email)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::QuestionsInvalid);
    let three = [(1, "a"), (2, "b"), (3, "c")];
    let refused = details(&app, &begun, &cookie, &three, &card.email)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::QuestionsInvalid);
    let unknown = [(1, "a"), (2, "b"), (3, "c"), (99, "d")];
    let refused = details(&app, &begun, &cookie, &unknown, &card.email)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::QuestionsInvalid);
    for email in ["someone@gmail.com", "x@nhs.net.example.com"] {
        let refused = details(&app, &begun, &cookie, ANSWERS, email)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::EmailNotApproved, "{email}");
    }
    // Nothing was sent, and the user is still unregistered.
    assert_eq!(app.count("outbox").await, 0);
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::NotRegistered);
}
both!(reg_2_3_duplicate_questions_and_unapproved_domains_are_refused);

async fn reg_1_needs_the_card_again_and_the_session_that_began_it(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unregistered_unlocked().await;
    let other = app.enroll_unregistered_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    // No session.
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = RegisterBeginRequest {
        signature: card_signs(&card, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    let refused = app
        .send::<RegisterBegin>(None, &(), &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotSignedIn);
    // Another card's signature, for this card's challenge.
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = RegisterBeginRequest {
        signature: card_signs(&other, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    let refused = app
        .send::<RegisterBegin>(Some(&cookie), &(), &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardNotGenuine);
    // Another session (the other user's) cannot move this registration.
    let begun = begin(&app, &card, &cookie).await.unwrap();
    let (_, other_cookie) = login(&app, &other).await.unwrap();
    let refused = details(&app, &begun, &other_cookie, ANSWERS, &card.email)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    details(&app, &begun, &cookie, ANSWERS, &card.email)
        .await
        .unwrap();
}
both!(reg_1_needs_the_card_again_and_the_session_that_began_it);

async fn reg_4_ra_4_re_registering_elsewhere_tells_the_address_it_leaves(db: Db) {
    let app = TestApp::spawn(db).await;
    // Registered, with an address on record that unlock codes go to.
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let begun = begin(&app, &card, &cookie).await.unwrap();
    let elsewhere = format!("elsewhere.{}@trust.nhs.uk", &card.uuid);
    details(&app, &begun, &cookie, ANSWERS, &elsewhere)
        .await
        .unwrap();
    let code =
        code_in(&wait_for_mail(&elsewhere, "Smartcard Self-Service registration code").await);
    assert!(confirm(&app, &begun, &cookie, code).await.unwrap());
    wait_for_mail(&elsewhere, "You have registered for Smartcard Self-Service").await;
    // The address the route left hears of it, and its link closes self-service.
    let told = wait_for_mail(
        &card.email,
        "Your Smartcard Self-Service security questions were replaced",
    )
    .await;
    crate::not_me::report(&app, crate::not_me::token_in(&told))
        .await
        .unwrap();
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
}
both!(reg_4_ra_4_re_registering_elsewhere_tells_the_address_it_leaves);

// REG-4 / ALL-5 (issue 17, item 11): registration codes mailed are capped per user and
// per address each day, so a signed-in user cannot make us mail an approved address
// without end; the caps open again the next day.
async fn reg_4_codes_mailed_are_capped_per_user_and_per_address_each_day(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.session_idle_secs = 3 * 86_400;
        s.session_absolute_secs = 3 * 86_400;
    })
    .await;
    let resend = |begun: &RegisterBeginResponse, cookie: &str| {
        let (id, cookie) = (begun.registration_id.clone(), cookie.to_owned());
        let app = &app;
        async move {
            app.step_with_cookie::<RegisterResend>(&id, Some(&cookie), &ResendRequest {})
                .await
                .map(|_| ())
                .map_err(|refused| refused.code())
        }
    };
    let ann = app.enroll_unregistered_unlocked().await;
    let (_, ann_cookie) = login(&app, &ann).await.unwrap();
    let ann_begun = begin(&app, &ann, &ann_cookie).await.unwrap();
    let target = "target.of.mail@nhs.net";
    details(&app, &ann_begun, &ann_cookie, ANSWERS, target)
        .await
        .unwrap();
    for _ in 1..server::register::CODES_PER_USER_PER_DAY {
        resend(&ann_begun, &ann_cookie).await.unwrap();
    }
    let capped = resend(&ann_begun, &ann_cookie).await;
    assert_eq!(capped, Err(ErrorCode::RateLimited));

    // Another user, the same address: the address's own cap.
    let bob = app.enroll_unregistered_unlocked().await;
    let (_, bob_cookie) = login(&app, &bob).await.unwrap();
    let bob_begun = begin(&app, &bob, &bob_cookie).await.unwrap();
    for _ in 1..server::register::CODES_PER_ADDRESS_PER_DAY {
        let sent = details(&app, &bob_begun, &bob_cookie, ANSWERS, target).await;
        assert_ne!(sent.err().map(|r| r.code()), Some(ErrorCode::RateLimited));
    }
    let capped = details(&app, &bob_begun, &bob_cookie, ANSWERS, target).await;
    assert_eq!(capped.unwrap_err().code(), ErrorCode::RateLimited);
    let own = details(&app, &bob_begun, &bob_cookie, ANSWERS, &bob.email).await;
    assert_ne!(own.err().map(|r| r.code()), Some(ErrorCode::RateLimited));

    app.clock.advance(86_400);
    let (_, ann_cookie) = login(&app, &ann).await.unwrap();
    let ann_begun = begin(&app, &ann, &ann_cookie).await.unwrap();
    details(&app, &ann_begun, &ann_cookie, ANSWERS, target)
        .await
        .unwrap();
}
both!(reg_4_codes_mailed_are_capped_per_user_and_per_address_each_day);
