//! How a problem shows during a registration: the ones that end it get a page of their
//! own (signed out, spent code, a card that cannot be used — see
//! [`stop_in`](crate::errors::stop_in)), the rest stay on the screen in the
//! registration's own words ([`Flow::Register`]), beside the input they are about.

use api_types::ErrorCode;

use super::code::CODE_FIELD;
use super::rules;
use crate::card_check::{by_passcode, PASSCODE_FIELD};
use crate::errors::{Flow, Problem};

/// The problem in the registration's words, beside the input it is about.
pub(super) fn in_registration(problem: Problem) -> Problem {
    let problem = by_passcode(problem.in_flow(Flow::Register), PASSCODE_FIELD);
    let field = if problem.is(ErrorCode::CodeInvalid) {
        Some(CODE_FIELD)
    } else if problem.is(ErrorCode::EmailNotApproved) {
        Some(rules::EMAIL_FIELD)
    } else {
        None
    };
    match (field, problem.field) {
        (Some(field), None) => problem.on_field(field),
        _ => problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{stop_in, Next, ProblemCode};

    fn next(code: ErrorCode) -> Option<Next> {
        stop_in(Flow::Register, ProblemCode::Api(code)).map(|(_, next)| next)
    }

    #[test]
    fn reg_1_without_a_session_the_page_sends_the_user_to_sign_in() {
        assert_eq!(next(ErrorCode::NotSignedIn), Some(Next::SignIn));
    }

    #[test]
    fn reg_4_a_spent_registration_starts_again_and_fixable_problems_stay() {
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::CodeTriesExhausted,
            ErrorCode::AttemptExpired,
            ErrorCode::WrongStep,
            ErrorCode::NotFound,
        ] {
            assert_eq!(next(code), Some(Next::StartAgain), "{code:?}");
        }
        for code in [
            ErrorCode::CodeInvalid,
            ErrorCode::WrongPin,
            ErrorCode::LastTryNeedsConfirmation,
            ErrorCode::QuestionsInvalid,
            ErrorCode::EmailNotApproved,
            ErrorCode::LoginExpired,
            ErrorCode::CardChanged,
            ErrorCode::RateLimited,
        ] {
            assert_eq!(next(code), None, "{code:?}");
        }
        assert_eq!(next(ErrorCode::CertificateNotValid), Some(Next::AskRa));
        assert_eq!(next(ErrorCode::SelfServiceClosed), Some(Next::AskRa));
        assert_eq!(
            stop_in(Flow::Register, ProblemCode::BridgeUnreachable),
            None
        );
        assert_eq!(stop_in(Flow::Register, ProblemCode::Network), None);
    }

    #[test]
    fn reg_4_a_wrong_code_is_a_registration_code_by_its_input_with_the_tries_left() {
        let wrong = in_registration(Problem {
            tries_left: Some(2),
            ..Problem::from_code(ErrorCode::CodeInvalid)
        });
        assert!(wrong.message.contains("registration code"));
        assert_eq!(wrong.field, Some(CODE_FIELD));
        assert_eq!(wrong.tries_left, Some(2));
        assert!(wrong.is(ErrorCode::CodeInvalid));
        let email = in_registration(Problem::from_code(ErrorCode::EmailNotApproved));
        assert_eq!(email.field, Some(rules::EMAIL_FIELD));
        let pin = in_registration(Problem::from_code(ErrorCode::WrongPin));
        assert_eq!(pin.field, Some(PASSCODE_FIELD));
        let other_card = in_registration(Problem::from_code(ErrorCode::CardChanged));
        assert!(other_card.message.contains("signed in with"));
        let network = in_registration(Problem::network());
        assert_eq!(network, Problem::network());
    }
}
