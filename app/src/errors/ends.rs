//! Which problems end a flow with a page of their own, and what the user can do next
//! (UNL-4, UNL-8, REG-1, REG-4): each code's ending is decided once, exhaustively, for
//! every flow; the table below gives a flow's heading for the endings it stops on.

use api_types::ErrorCode;

use super::{Flow, ProblemCode};

/// What the user can do after a problem that ends the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    SignIn,
    StartAgain,
    /// Only the Registration Authority can help (their help text is shown).
    AskRa,
}

/// What a refusal means for the flow it ends, whichever flow that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The user can put it right, or try again, on the same screen.
    Stays,
    SignedOut,
    /// The attempt or its code is spent: only a new start helps.
    Spent,
    Closed,
    NotRegistered,
    /// The card cannot be used for self-service.
    CardUnusable,
    AlreadyUnlocked,
}

/// Every code's ending, once for every flow.
fn ending(code: ErrorCode) -> Ending {
    use Ending as E;
    use ErrorCode as C;
    match code {
        C::NotSignedIn => E::SignedOut,
        C::AttemptEnded
        | C::AttemptExpired
        | C::CodeAlreadyUsed
        | C::CodeExpired
        | C::CodeTriesExhausted
        | C::WrongStep
        | C::RouteNotOffered
        | C::NotFound => E::Spent,
        C::SelfServiceClosed | C::RecoveryClosed | C::NoDeliveryChannel => E::Closed,
        C::NotRegistered => E::NotRegistered,
        C::UnknownCard | C::CardNotGenuine | C::CardRefusedUpdate | C::CertificateNotValid => {
            E::CardUnusable
        }
        C::AlreadyUnlocked => E::AlreadyUnlocked,
        C::BadRequest
        | C::MethodNotAllowed
        | C::Internal
        | C::RateLimited
        | C::WrongAnswers
        | C::CodeInvalid
        | C::CardUpdateFailed
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
        | C::ChannelFailed
        | C::GrantMissing
        | C::GrantInvalid
        | C::GrantExpired
        | C::GrantReplayed
        | C::GrantWrongOrigin
        | C::GrantWrongCard
        | C::GrantWrongOperation
        | C::GrantWrongScript
        | C::GrantWrongAttempt
        | C::LastTryNeedsConfirmation
        | C::PinReused
        | C::LoginExpired
        | C::QuestionsInvalid
        | C::EmailNotApproved
        | C::RaRoleRequired
        | C::OwnAccount
        | C::CardProofRequired
        | C::ManagerRequired
        | C::RenewalNotDue
        | C::RenewalByRa
        | C::RenewalUnfinished
        | C::AccountRecoveryPasscodeReused
        | C::VerificationPasscodeReused
        | C::NothingToUpdate
        | C::PasscodesLocked
        | C::HelpdeskRoleRequired
        | C::VerificationLocked
        | C::RecoveryNotRecognised
        | C::DeliveryNotOffered
        | C::NoRaCode => E::Stays,
    }
}

/// A problem that ends `flow` gets a page of its own: its heading and what to do next.
/// `None`: the problem stays on the screen, where the user can put it right (the bridge
/// or the server not answering always does).
pub fn stop_in(flow: Flow, code: ProblemCode) -> Option<(&'static str, Next)> {
    use Ending as E;
    use Flow as F;
    let ProblemCode::Api(code) = code else {
        return None;
    };
    let stop = match (flow, ending(code)) {
        (F::Unlock | F::Register, E::Spent) => ("Please start again", Next::StartAgain),
        (F::Unlock, E::Closed) => ("You cannot use self-service unlock", Next::AskRa),
        (F::Unlock, E::NotRegistered) => (
            "You are not registered for self-service unlock",
            Next::AskRa,
        ),
        (F::Unlock, E::CardUnusable) => ("This smartcard cannot be unlocked here", Next::AskRa),
        (F::Unlock, E::AlreadyUnlocked) => ("Your smartcard is already unlocked", Next::AskRa),
        (F::Register, E::SignedOut) => ("You are not signed in", Next::SignIn),
        (F::Register, E::Closed) => ("You cannot register for self-service unlock", Next::AskRa),
        (F::Register, E::CardUnusable) => {
            ("This smartcard cannot be used to register", Next::AskRa)
        }
        _ => return None,
    };
    Some(stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::every_problem;

    #[test]
    fn unl_4_reg_4_only_the_unlock_and_the_registration_end_on_a_page_of_their_own() {
        for code in every_problem() {
            for flow in [Flow::PhoneCode, Flow::SignIn, Flow::MyCard, Flow::Ra] {
                assert_eq!(stop_in(flow, code), None, "{flow:?} {code:?}");
            }
        }
        for flow in [Flow::Unlock, Flow::Register] {
            assert_eq!(stop_in(flow, ProblemCode::Network), None);
            assert_eq!(stop_in(flow, ProblemCode::BridgeUnreachable), None);
        }
    }
}
