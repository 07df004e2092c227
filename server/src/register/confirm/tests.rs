#![allow(clippy::unwrap_used)]
use super::*;
use crate::fixtures::{john_uuid, mailed_to};
use crate::flow::codes::FreshCode;
use crate::store::registrations::HashedAnswer;
use crate::store::users::UnlockCounters;
use api_types::register::RegistrationId;
use api_types::CardGuid;

const SENDER: Sender<'static> = Sender {
    organisation: "Org",
    ra_help: "Call the RA.",
};

fn pepper() -> CodePepper {
    CodePepper::new(&[6; 32]).unwrap()
}

/// A registration whose code "135790" was sent at 1000.
fn sent(code_failures: i64) -> Registration {
    let fresh = FreshCode {
        code: UnlockCode::parse("135790").unwrap(),
        salt: [1; 16],
    };
    Registration {
        id: RegistrationId::from_bytes([3; 16]),
        user_uuid: john_uuid(),
        session_hash: vec![4; 32],
        state: RegistrationState::CodeSent,
        created_at: 900,
        expires_at: 900 + super::super::REGISTRATION_TTL,
        email: Some("john.rigby@nhs.net".into()),
        answers: vec![HashedAnswer {
            question_id: 1,
            hash: "h".into(),
        }],
        code: Some(fresh.stored(CodeKind::Registration, &pepper(), 1000)),
        code_failures,
        completed_at: None,
    }
}

fn user() -> User {
    User {
        uuid: john_uuid(),
        display_name: "Mr John Rigby".into(),
        email: "old@nhs.net".into(),
        registered: false,
        counters: UnlockCounters::default(),
        question_ids: vec![],
        mobile: None,
        family_name: "Rigby".into(),
        role: api_types::ra::Role::Staff,
        passcodes_set_at: None,
        passcodes_unlocked_at: None,
    }
}

fn confirm(r: Registration, typed: &str, now: i64) -> Outcome<RegisterConfirmResponse> {
    confirm_for(user(), r, typed, now)
}

fn confirm_for(
    user: User,
    r: Registration,
    typed: &str,
    now: i64,
) -> Outcome<RegisterConfirmResponse> {
    let pepper = pepper();
    let code = UnlockCode::parse(typed).unwrap();
    let given = Given {
        subject: Subject::card_of(CardGuid::from_bytes([2; 16]), &john_uuid()),
        user: Some(user),
        code: &code,
        pepper: &pepper,
        sender: &SENDER,
        not_me: crate::flow::notice::NotMeDraw::for_tests(),
    };
    decide(r, given, now)
}

fn saved(outcome: &Outcome<RegisterConfirmResponse>) -> Option<&Registration> {
    outcome.writes().iter().find_map(|w| match w {
        Write::Registration(r) => Some(r),
        _ => None,
    })
}

#[test]
fn reg_4_the_right_code_in_time_registers_and_tells_the_new_address_with_a_not_me_link() {
    let outcome = confirm(sent(2), "135790", 1000 + 15 * 60 - 1);
    assert!(outcome.reply.is_ok());
    let writes = outcome.writes();
    assert!(writes.iter().any(|w| matches!(w,
        Write::ApplyRegistration { email, .. } if email == "john.rigby@nhs.net")));
    assert!(writes.iter().any(|w| matches!(w, Write::NotMeLink(_))));
    assert!(writes.iter().any(|w| matches!(w,
        Write::Mail(m) if m.to == "john.rigby@nhs.net" && m.text.contains("/not-me#"))));
    let completed = saved(&outcome).unwrap();
    assert_eq!(completed.state, RegistrationState::Completed);
    assert!(completed.code.is_none());
}

#[test]
fn reg_4_a_code_a_second_too_late_ends_the_registration() {
    let outcome = confirm(sent(0), "135790", 1000 + 15 * 60);
    assert!(matches!(outcome.reply, Err(AppError::CodeExpired)));
    assert_eq!(saved(&outcome).unwrap().state, RegistrationState::Failed);
    // The registration's own end bounds the code, whatever the code's own time says.
    let mut short = sent(0);
    short.expires_at = 1100;
    let outcome = confirm(short, "135790", 1100);
    assert!(matches!(outcome.reply, Err(AppError::CodeExpired)));
}

#[test]
fn reg_4_wrong_codes_count_down_and_the_fifth_ends_the_registration() {
    let outcome = confirm(sent(0), "000000", 1100);
    assert!(matches!(
        outcome.reply,
        Err(AppError::CodeInvalid { tries_left: 4 })
    ));
    let counted = saved(&outcome).unwrap();
    assert_eq!(
        (counted.code_failures, counted.state),
        (1, RegistrationState::CodeSent)
    );
    let outcome = confirm(sent(4), "000000", 1100);
    assert!(matches!(outcome.reply, Err(AppError::CodeTriesExhausted)));
    let dead = saved(&outcome).unwrap();
    assert_eq!(
        (dead.code_failures, dead.state),
        (5, RegistrationState::Failed)
    );
    assert!(!outcome.writes().iter().any(|w| matches!(w, Write::Mail(_))));
}

#[test]
fn reg_4_a_used_or_unsent_code_is_refused_without_a_write() {
    let done = Registration {
        state: RegistrationState::Completed,
        ..sent(0)
    };
    let outcome = confirm(done, "135790", 1100);
    assert!(matches!(outcome.reply, Err(AppError::CodeAlreadyUsed)));
    assert!(outcome.writes().is_empty());
    let early = Registration {
        state: RegistrationState::Started,
        ..sent(0)
    };
    let outcome = confirm(early, "135790", 1100);
    assert!(matches!(outcome.reply, Err(AppError::WrongStep)));
    assert!(outcome.writes().is_empty());
}

#[test]
fn reg_4_a_first_registration_tells_only_the_new_address() {
    // Not registered before: the address on record was never a recovery route.
    let outcome = confirm(sent(0), "135790", 1100);
    assert_eq!(mailed_to(&outcome), ["john.rigby@nhs.net"]);
}

#[test]
fn reg_4_re_registering_elsewhere_tells_the_address_it_leaves_with_the_not_me_link() {
    let registered = User {
        registered: true,
        ..user()
    };
    let outcome = confirm_for(registered.clone(), sent(0), "135790", 1100);
    assert_eq!(mailed_to(&outcome), ["old@nhs.net", "john.rigby@nhs.net"]);
    let links: Vec<&str> = outcome
        .writes()
        .iter()
        .filter_map(|w| match w {
            Write::Mail(m) => m.text.split_whitespace().find(|w| w.contains("/not-me#")),
            _ => None,
        })
        .collect();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0], links[1]);
    // Same address again (any case): nothing moved, one notice.
    let same = User {
        email: "John.Rigby@NHS.net".into(),
        ..registered
    };
    let outcome = confirm_for(same, sent(0), "135790", 1100);
    assert_eq!(mailed_to(&outcome), ["john.rigby@nhs.net"]);
}

#[test]
fn ra_6_a_closed_account_cannot_finish_registering_even_with_the_right_code() {
    let mut closed = user();
    closed.counters.self_service_closed = true;
    let outcome = confirm_for(closed, sent(0), "135790", 1100);
    assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
    assert_eq!(saved(&outcome).unwrap().state, RegistrationState::Failed);
    assert!(mailed_to(&outcome).is_empty());
}
