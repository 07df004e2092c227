//! How a problem shows during a registration: the ones that end it get a page of their
//! own (signed out, spent code, a card that cannot be used), the rest stay on the screen
//! in the registration's own words, beside the input they are about.

use api_types::ErrorCode;

use super::code::CODE_FIELD;
use super::rules;
use super::Next;
use crate::account::card_check::PASSCODE_FIELD;
use crate::errors::{Problem, ProblemCode};

/// Problems that end this registration get a page of their own; the rest stay on the
/// screen, where the user can put them right.
pub(super) fn stop_heading(code: ProblemCode) -> Option<(&'static str, Next)> {
    use ErrorCode as C;
    let ProblemCode::Api(code) = code else {
        // The bridge or the server did not answer: the user can try again here.
        return None;
    };
    match code {
        C::NotSignedIn => Some(("You are not signed in", Next::SignIn)),
        C::CodeExpired
        | C::CodeTriesExhausted
        | C::CodeAlreadyUsed
        | C::AttemptExpired
        | C::AttemptEnded
        | C::WrongStep
        | C::NotFound => Some(("Please start again", Next::StartAgain)),
        C::SelfServiceClosed => Some(("You cannot register for self-service unlock", Next::AskRa)),
        C::UnknownCard | C::CardNotGenuine | C::CertificateNotValid => {
            Some(("This smartcard cannot be used to register", Next::AskRa))
        }
        C::BadRequest
        | C::MethodNotAllowed
        | C::Internal
        | C::RateLimited
        | C::NotRegistered
        | C::WrongAnswers
        | C::CodeInvalid
        | C::CardUpdateFailed
        | C::AlreadyUnlocked
        | C::CardRefusedUpdate
        | C::ChannelFailed
        | C::LoginExpired
        | C::QuestionsInvalid
        | C::EmailNotApproved
        | C::HostNotAllowed
        | C::OriginNotAllowed
        | C::UnsupportedMediaType
        | C::MissingBridgeHeader
        | C::PayloadTooLarge
        | C::NoReader
        | C::NoCard
        | C::CardRemoved
        | C::CardChanged
        | C::CardBusy
        | C::CardError
        | C::PcscUnavailable
        | C::WrongPin
        | C::PinBlocked
        | C::InvalidPasscode
        | C::CommandNotAllowed
        | C::GrantMissing
        | C::GrantInvalid
        | C::GrantExpired
        | C::GrantReplayed
        | C::GrantWrongOrigin
        | C::GrantWrongCard
        | C::GrantWrongOperation
        | C::GrantWrongScript
        | C::LastTryNeedsConfirmation
        | C::PinReused
        | C::RaRoleRequired
        | C::OwnAccount
        | C::NoRaCode => None,
    }
}

/// The shared sentences speak of the unlock; here the code is a registration code. A
/// problem about one input is also put beside that input.
pub(super) fn in_registration_words(problem: Problem) -> Problem {
    use ErrorCode as C;
    let ProblemCode::Api(code) = problem.code else {
        return problem;
    };
    let message = match code {
        C::CodeInvalid => {
            Some("That registration code is not right. Check the email and try again.")
        }
        C::CodeExpired => Some("That registration code has expired. Please start again."),
        C::CodeTriesExhausted => Some("Too many wrong registration codes. Please start again."),
        C::CodeAlreadyUsed => Some("That registration code has already been used."),
        C::NotFound => Some("This registration could not be found. Please start again."),
        C::AttemptExpired => {
            Some("This registration took too long and has expired. Please start again.")
        }
        C::WrongStep | C::AttemptEnded => Some("This registration has ended. Please start again."),
        C::CardChanged => {
            Some("A different smartcard is in the reader. Insert the smartcard you signed in with.")
        }
        _ => None,
    };
    let field = match code {
        C::CodeInvalid => Some(CODE_FIELD),
        C::EmailNotApproved => Some(rules::EMAIL_FIELD),
        C::WrongPin | C::InvalidPasscode => Some(PASSCODE_FIELD),
        _ => None,
    };
    let problem = match message {
        Some(message) => problem.with_message(message),
        None => problem,
    };
    match (field, problem.field) {
        (Some(field), None) => problem.on_field(field),
        _ => problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(code: ErrorCode) -> Option<Next> {
        stop_heading(ProblemCode::Api(code)).map(|(_, next)| next)
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
        assert_eq!(stop_heading(ProblemCode::BridgeUnreachable), None);
        assert_eq!(stop_heading(ProblemCode::Network), None);
    }

    #[test]
    fn reg_4_a_wrong_code_is_a_registration_code_by_its_input_with_the_tries_left() {
        let wrong = in_registration_words(Problem {
            tries_left: Some(2),
            ..Problem::from_code(ErrorCode::CodeInvalid)
        });
        assert!(wrong.message.contains("registration code"));
        assert_eq!(wrong.field, Some(CODE_FIELD));
        assert_eq!(wrong.tries_left, Some(2));
        assert!(wrong.is(ErrorCode::CodeInvalid));
        let email = in_registration_words(Problem::from_code(ErrorCode::EmailNotApproved));
        assert_eq!(email.field, Some(rules::EMAIL_FIELD));
        let pin = in_registration_words(Problem::from_code(ErrorCode::WrongPin));
        assert_eq!(pin.field, Some(PASSCODE_FIELD));
        let network = in_registration_words(Problem::network());
        assert_eq!(network, Problem::network());
    }
}
