#![allow(clippy::unwrap_used)]
use super::*;
use crate::fixtures::mailed_to as mails;
use crate::fixtures::{john, john_uuid, pepper, uuid, SENDER};
use crate::flow::codes::{judge_code, CodeVerdict, HeldCode};
use crate::flow::Subject;
use api_types::audit::AuditAction;
use api_types::ra::Role;
use api_types::{CardGuid, UnlockCode};

fn begun<T>(action: AuditAction) -> Outcome<T> {
    Outcome::new(action, Subject::user(&john_uuid())).by("ra:999999999901".into())
}

/// The notices' sender and link, at 1000.
fn notify() -> Notify<'static> {
    Notify {
        sender: SENDER,
        not_me: crate::flow::notice::NotMeDraw::for_tests(),
        now: 1000,
    }
}

fn ra() -> RaActor {
    RaActor {
        uuid: uuid("999999999901"),
        role: Role::RaAgent,
        card_guid: CardGuid::from_bytes([4; 16]),
        card_proven_at: 1000,
    }
}

/// A user with `role`.
fn with_role(role: Role) -> User {
    User { role, ..john() }
}

#[test]
fn ra_5_agents_act_on_staff_only_and_managers_on_rs_too_never_on_themselves() {
    let agent = ra();
    let manager = RaActor {
        role: Role::RaManager,
        ..ra()
    };
    for (actor, target, allowed) in [
        (&agent, Role::Staff, true),
        (&agent, Role::RaAgent, false),
        (&agent, Role::RaManager, false),
        (&manager, Role::Staff, true),
        (&manager, Role::RaAgent, true),
        (&manager, Role::RaManager, true),
    ] {
        let verdict = actor.may_act_on(&with_role(target), Gives::NoAccess, 1000);
        match allowed {
            true => assert!(verdict.is_ok(), "{:?} on {target:?}", actor.role),
            false => assert!(matches!(verdict, Err(AppError::ManagerRequired))),
        }
    }
    let themselves = User {
        uuid: manager.uuid.clone(),
        ..with_role(Role::RaManager)
    };
    assert!(matches!(
        manager.may_act_on(&themselves, Gives::NoAccess, 1000),
        Err(AppError::OwnAccount)
    ));
}

#[test]
fn ra_5_giving_access_needs_the_card_proven_within_5_minutes_stopping_does_not() {
    let staff = with_role(Role::Staff);
    assert!(ra().may_act_on(&staff, Gives::Access, 1000 + 299).is_ok());
    assert!(matches!(
        ra().may_act_on(&staff, Gives::Access, 1000 + 300),
        Err(AppError::CardProofRequired)
    ));
    assert!(ra()
        .may_act_on(&staff, Gives::NoAccess, 1000 + 3600)
        .is_ok());
}

#[test]
fn ra_3_reopening_clears_the_counters_and_the_drawn_questions_and_tells_the_user() {
    let mut closed = john();
    closed.counters = UnlockCounters {
        answer_failures: 3,
        self_service_closed: true,
        ..UnlockCounters::default()
    };
    let outcome = decide_reopen(begun(REOPEN), &closed, notify());
    assert!(outcome.reply.is_ok());
    assert!(outcome.writes().iter().any(|w| matches!(w,
        Write::UnlockCounters { before, after, .. }
            if before.self_service_closed && *after == UnlockCounters::default())));
    assert!(outcome.writes().iter().any(|w| matches!(w,
        Write::UnlockQuestions { question_ids, .. } if question_ids.is_empty())));
    assert_eq!(mails(&outcome), ["john.rigby@nhs.net"]);
}

#[test]
fn ra_3_a_contact_change_tells_the_old_and_the_new_address_once_each() {
    let approved = ["nhs.net".to_owned()];
    let new = parse_contact("new@nhs.net", None, &approved);
    let outcome = decide_contact(begun(CONTACT), &john(), new, notify());
    assert!(outcome.reply.is_ok());
    assert_eq!(mails(&outcome), ["john.rigby@nhs.net", "new@nhs.net"]);
    let same = parse_contact("John.Rigby@nhs.net", Some("07700900123"), &approved);
    let outcome = decide_contact(begun(CONTACT), &john(), same, notify());
    assert_eq!(mails(&outcome), ["john.rigby@nhs.net"]);
    let refused = decide_contact(
        begun(CONTACT),
        &john(),
        Err(AppError::MobileMalformed),
        notify(),
    );
    assert!(matches!(refused.reply, Err(AppError::MobileMalformed)));
    assert!(refused.writes().is_empty());
}

#[test]
fn ra_3_a_phone_code_is_kept_only_as_a_hash_that_its_code_matches_for_ten_minutes() {
    let fresh = FreshCode {
        code: UnlockCode::parse("112233").unwrap(),
        salt: [5; 16],
    };
    let pepper = pepper();
    let outcome = decide_phone_code(
        begun(PHONE_CODE),
        (&ra(), &john()),
        (fresh, &pepper),
        notify(),
    );
    let shown = outcome.reply.as_ref().unwrap();
    assert_eq!(shown.code.expose(), "112233");
    assert_eq!((shown.expires_at, shown.tries), (1000 + 600, 3));
    let kept = outcome.writes().iter().find_map(|w| match w {
        Write::NewPhoneCode(kept) => Some(kept),
        _ => None,
    });
    let Some(kept) = kept else {
        panic!("no phone code written");
    };
    assert_eq!(kept.issued_by.as_str(), "999999999901");
    assert_ne!(kept.code_hash, b"112233".to_vec());
    // The mail says a code was given, never the code.
    assert!(outcome.writes().iter().any(|w| matches!(w,
        Write::Mail(m) if !m.text.contains("112233"))));
    let held = HeldCode {
        hash: &kept.code_hash,
        salt: &kept.code_salt,
        expires_at: kept.expires_at,
        failures: 0,
        used: false,
    };
    let typed = UnlockCode::parse("112233").unwrap();
    let verdict = judge_code(CodeKind::RaPhone, held, &typed, &pepper, 1599);
    assert_eq!(verdict, CodeVerdict::Right);
}

#[test]
fn ra_1_a_role_change_is_recorded_from_and_to_with_the_reason() {
    let request = RoleRequest {
        role: Role::RaAgent,
        reason: Reason::parse("new starter").unwrap(),
    };
    let outcome = decide_role(begun(ROLE), &john(), &request, notify());
    assert!(outcome.writes().iter().any(|w| matches!(
        w,
        Write::Role {
            role: Role::RaAgent,
            ..
        }
    )));
    assert_eq!(
        outcome.audit_detail(),
        "role staff -> ra_agent: new starter"
    );
    assert_eq!(mails(&outcome), ["john.rigby@nhs.net"]);
}

#[test]
fn ra_6_the_incident_stop_closes_self_service_stops_every_flow_and_tells_the_user() {
    let outcome = decide_stop(begun(STOP), &john(), notify());
    assert!(outcome.reply.is_ok());
    assert!(outcome.writes().iter().any(|w| matches!(w,
        Write::UnlockCounters { after, .. } if after.self_service_closed)));
    assert!(outcome
        .writes()
        .iter()
        .any(|w| matches!(w, Write::StopFlows { user_uuid }
        if user_uuid.as_str() == "555555555501")));
    assert_eq!(mails(&outcome), ["john.rigby@nhs.net"]);
}
