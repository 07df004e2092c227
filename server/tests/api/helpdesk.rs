//! PASS-5: the helpdesk check through the real server: a helpdesk agent learns yes or no
//! only — the same no for a wrong passcode, an unknown caller and one with none set —
//! only a helpdesk agent may ask, wrong passcodes in a row lock the check until the
//! caller sets a new one, and every check is in the caller's trail under the agent.

use api_types::helpdesk::{HelpdeskAnswer, HelpdeskCheck, HelpdeskCheckRequest};
use api_types::passcodes::{AccountPasscode, PasscodeChange};
use api_types::ra::{Role, UserUuid};
use api_types::ErrorCode;
use server::helpdesk::MAX_FAILURES;

use crate::auth::login;
use crate::both;
use crate::helpers::*;
use crate::passcodes::update;
use crate::ra::{as_ra, signed_in, uuid};

fn ask(caller: &UserUuid, said: &str) -> HelpdeskCheckRequest {
    HelpdeskCheckRequest {
        uuid: caller.clone(),
        verification_passcode: AccountPasscode::parse(said).unwrap(),
    }
}

async fn set_verification(app: &TestApp, card: &TestCard, passcode: &str) {
    let (_, cookie) = login(app, card).await.unwrap();
    let set = PasscodeChange::Set(AccountPasscode::parse(passcode).unwrap());
    update(app, card, &cookie, (PasscodeChange::Keep, set, false))
        .await
        .unwrap();
}

async fn pass_5_yes_or_no_only_for_a_helpdesk_agent_and_locked_after_wrong_ones(db: Db) {
    let app = TestApp::spawn(db).await;
    let caller = app.enroll_unlocked().await;
    let without = app.enroll_unlocked().await;
    set_verification(&app, &caller, "Verify pass 1").await;
    let (_, agent) = signed_in(&app, Role::Helpdesk, ("Hana", "Helpdesk")).await;
    let check = |who: UserUuid, said: &'static str| {
        let app = &app;
        let agent = agent.clone();
        async move { as_ra::<HelpdeskCheck>(app, &agent, &(), &ask(&who, said)).await }
    };
    let yes = Ok(HelpdeskAnswer { matches: true });
    let no = Ok(HelpdeskAnswer { matches: false });
    assert_eq!(check(uuid(&caller), "Verify pass 1").await, yes);
    assert_eq!(check(uuid(&caller), "Verify pass 2").await, no);
    // Nothing else to learn: no caller, or no passcode set, is the same no.
    assert_eq!(
        check(UserUuid::parse("999999999999").unwrap(), "Verify pass 1").await,
        no
    );
    assert_eq!(check(uuid(&without), "Verify pass 1").await, no);
    // Only a helpdesk agent asks (an RA agent is not one).
    let (_, ra) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let refused =
        as_ra::<HelpdeskCheck>(&app, &ra, &(), &ask(&uuid(&caller), "Verify pass 1")).await;
    assert_eq!(refused, Err(ErrorCode::HelpdeskRoleRequired));
    // Wrong ones in a row lock the check, the right one included, until a new passcode.
    for _ in 1..MAX_FAILURES {
        assert_eq!(check(uuid(&caller), "Verify pass 2").await, no);
    }
    assert_eq!(
        check(uuid(&caller), "Verify pass 1").await,
        Err(ErrorCode::VerificationLocked)
    );
    set_verification(&app, &caller, "Verify pass 3").await;
    assert_eq!(check(uuid(&caller), "Verify pass 3").await, yes);
    // The caller's trail has every check, with its answer, under the agent.
    let events = app.audit_events(&caller).await;
    let checks: Vec<&str> = events
        .iter()
        .filter(|(action, _)| action == "helpdesk.check")
        .map(|(_, outcome)| outcome.as_str())
        .collect();
    assert_eq!(
        checks.iter().filter(|o| **o == "yes").count(),
        2,
        "{checks:?}"
    );
    assert!(checks.contains(&"verification_locked"), "{checks:?}");
}
both!(pass_5_yes_or_no_only_for_a_helpdesk_agent_and_locked_after_wrong_ones);

async fn pass_5_checks_are_limited_per_caller_and_per_agent(db: Db) {
    let app = TestApp::spawn(db).await;
    let caller = app.enroll_unlocked().await;
    set_verification(&app, &caller, "Verify pass 1").await;
    let (_, agent) = signed_in(&app, Role::Helpdesk, ("Hana", "Helpdesk")).await;
    let (_, other_agent) = signed_in(&app, Role::Helpdesk, ("Ivo", "Helpdesk")).await;
    // Ten checks of one caller an hour, whoever asks (right ones, so none lock it).
    for _ in 0..10 {
        let answer =
            as_ra::<HelpdeskCheck>(&app, &agent, &(), &ask(&uuid(&caller), "Verify pass 1")).await;
        assert_eq!(answer, Ok(HelpdeskAnswer { matches: true }));
    }
    let limited = as_ra::<HelpdeskCheck>(
        &app,
        &other_agent,
        &(),
        &ask(&uuid(&caller), "Verify pass 1"),
    )
    .await;
    assert_eq!(limited, Err(ErrorCode::RateLimited));
    // Sixty an hour per agent, whoever they ask about.
    let (_, busy) = signed_in(&app, Role::Helpdesk, ("Jo", "Helpdesk")).await;
    for n in 0..60 {
        let someone = UserUuid::parse(&format!("9{n:011}")).unwrap();
        let answer =
            as_ra::<HelpdeskCheck>(&app, &busy, &(), &ask(&someone, "Verify pass 1")).await;
        assert_eq!(answer, Ok(HelpdeskAnswer { matches: false }), "{n}");
    }
    let someone = UserUuid::parse("988888888888").unwrap();
    let limited = as_ra::<HelpdeskCheck>(&app, &busy, &(), &ask(&someone, "Verify pass 1")).await;
    assert_eq!(limited, Err(ErrorCode::RateLimited));
    // An hour on, the caller may be checked again (by an agent signed in afresh).
    app.clock.advance(60 * 60);
    let (_, agent) = signed_in(&app, Role::Helpdesk, ("Kim", "Helpdesk")).await;
    let answer =
        as_ra::<HelpdeskCheck>(&app, &agent, &(), &ask(&uuid(&caller), "Verify pass 1")).await;
    assert_eq!(answer, Ok(HelpdeskAnswer { matches: true }));
}
both!(pass_5_checks_are_limited_per_caller_and_per_agent);
