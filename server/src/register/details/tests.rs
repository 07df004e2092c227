#![allow(clippy::unwrap_used)]
use super::*;
use crate::fixtures::john_uuid;
use api_types::register::RegistrationId;
use api_types::{CardGuid, UnlockCode};

const SENDER: Sender<'static> = Sender {
    organisation: "Org",
    ra_help: "Call the RA.",
};

fn registration(state: RegistrationState, code_failures: i64) -> Registration {
    Registration {
        id: RegistrationId::from_bytes([3; 16]),
        user_uuid: john_uuid(),
        session_hash: vec![4; 32],
        state,
        created_at: 1000,
        expires_at: 1000 + super::super::REGISTRATION_TTL,
        email: Some("john.rigby@nhs.net".into()),
        answers: vec![],
        code: None,
        code_failures,
        completed_at: None,
    }
}

fn with<T>(f: impl FnOnce(Given<'_>) -> T) -> T {
    let pepper = CodePepper::new(&[6; 32]).unwrap();
    f(Given {
        subject: Subject::card_of(CardGuid::from_bytes([2; 16]), &john_uuid()),
        name: "Mr John Rigby".into(),
        closed: false,
        fresh: FreshCode {
            code: UnlockCode::parse("246802").unwrap(),
            salt: [1; 16],
        },
        pepper: &pepper,
        sender: SENDER,
    })
}

fn checked() -> Result<(String, Vec<HashedAnswer>), AppError> {
    Ok(("new@nhs.net".into(), vec![]))
}

#[test]
fn reg_3_details_send_the_drawn_code_to_the_new_address_for_15_minutes() {
    let started = registration(RegistrationState::Started, 0);
    let outcome = with(|given| decide_details(started, checked(), given, 1100));
    let sent = outcome.reply.as_ref().unwrap();
    assert_eq!(sent.code_expires_at, 1100 + 15 * 60);
    assert_eq!(sent.email_hint, "n***@nhs.net");
    let writes = outcome.writes();
    assert!(writes.iter().any(|w| matches!(w,
        Write::Mail(m) if m.to == "new@nhs.net" && m.text.contains("246802"))));
    assert!(writes.iter().any(|w| matches!(w,
        Write::Registration(r) if r.state == RegistrationState::CodeSent
            && r.code.as_ref().is_some_and(|c| c.expires_at == 1100 + 15 * 60))));
}

#[test]
fn reg_3_refused_details_and_a_late_registration_write_nothing() {
    let started = registration(RegistrationState::Started, 0);
    let refused =
        with(|given| decide_details(started, Err(AppError::EmailNotApproved), given, 1100));
    assert!(matches!(refused.reply, Err(AppError::EmailNotApproved)));
    assert!(refused.writes().is_empty());
    let late = registration(RegistrationState::Started, 0);
    let expires_at = late.expires_at;
    let outcome = with(|given| decide_details(late, checked(), given, expires_at));
    assert!(matches!(outcome.reply, Err(AppError::AttemptExpired)));
    assert!(outcome.writes().is_empty());
}

#[test]
fn reg_4_a_resend_keeps_the_tries_already_used_and_none_after_the_last() {
    let sent = registration(RegistrationState::CodeSent, 3);
    let outcome = with(|given| decide_resend(sent, given, 1100));
    assert!(outcome.writes().iter().any(|w| matches!(w,
        Write::Registration(r) if r.code_failures == 3)));
    let spent = registration(RegistrationState::CodeSent, 5);
    let outcome = with(|given| decide_resend(spent, given, 1100));
    assert!(matches!(outcome.reply, Err(AppError::CodeTriesExhausted)));
    let early = registration(RegistrationState::Started, 0);
    let outcome = with(|given| decide_resend(early, given, 1100));
    assert!(matches!(outcome.reply, Err(AppError::WrongStep)));
}

#[test]
fn ra_6_a_closed_account_gets_no_registration_code() {
    let closed = |r: Registration, resend: bool| {
        with(|given| {
            let given = Given {
                closed: true,
                ..given
            };
            if resend {
                decide_resend(r, given, 1100)
            } else {
                decide_details(r, checked(), given, 1100)
            }
        })
    };
    for (r, resend) in [
        (registration(RegistrationState::Started, 0), false),
        (registration(RegistrationState::CodeSent, 0), true),
    ] {
        let outcome = closed(r, resend);
        assert!(matches!(outcome.reply, Err(AppError::SelfServiceClosed)));
        assert!(outcome.writes().is_empty());
    }
}
