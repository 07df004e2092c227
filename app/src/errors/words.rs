//! The words for every problem (ALL-2, ALL-3), in one place: a general sentence per code
//! that names no particular flow ([`general`]), and one table of the sentences a flow says
//! in its own words instead ([`sentence_in`]): a code in a registration is a registration
//! code, an unlock's is a Smartcard Unlock Code, and in the RA console the reader is the
//! RA. The match over [`ErrorCode`] is exhaustive, so a new code cannot ship without its
//! words.

use api_types::ErrorCode;

use super::ProblemCode;

/// Where a problem is shown: each flow may say some problems in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Self-service unlock (UNL-1…UNL-8).
    Unlock,
    /// The unlock with a code the RA team read out on the phone (RA-3).
    PhoneCode,
    /// Registration for self-service unlock (REG-1…REG-4).
    Register,
    /// Sign in with the smartcard (AUTH-1).
    SignIn,
    /// "My card" and its contact change (REG-5).
    MyCard,
    /// The RA console (RA-1…RA-4).
    Ra,
}

impl Flow {
    pub const ALL: [Self; 6] = [
        Self::Unlock,
        Self::PhoneCode,
        Self::Register,
        Self::SignIn,
        Self::MyCard,
        Self::Ra,
    ];
}

/// The sentence for a problem in `flow`: the flow's own words where it has them, else
/// the general sentence.
pub fn sentence_in(flow: Flow, code: ProblemCode) -> &'static str {
    own_words(flow, code).unwrap_or_else(|| general(code))
}

/// The one table of per-flow words; `None` where the general sentence fits.
fn own_words(flow: Flow, code: ProblemCode) -> Option<&'static str> {
    use ErrorCode as C;
    use Flow as F;
    let ProblemCode::Api(code) = code else {
        return None;
    };
    let words = match (flow, code) {
        (F::Unlock, C::NotFound) => "This unlock could not be found. Please start again.",
        (F::Unlock, C::NotRegistered) => {
            "You have not registered for self-service unlock, so your smartcard cannot be \
             unlocked here. Your Registration Authority can unlock it."
        }
        (F::Unlock, C::SelfServiceClosed) => {
            "After 3 failed attempts at the security questions, self-service unlock is closed \
             for your account. Please contact your Registration Authority to unlock your \
             smartcard."
        }
        (F::Unlock, C::AttemptExpired) => {
            "This unlock took too long and has expired. Please start again."
        }
        (F::Unlock, C::AttemptEnded) => "This unlock attempt has ended. Please start again.",
        (F::Unlock, C::CodeInvalid) => {
            "That Smartcard Unlock Code is not right. Check the email and try again."
        }
        (F::Unlock, C::CodeExpired) => {
            "That Smartcard Unlock Code has expired. Please start again."
        }
        (F::Unlock, C::CodeAlreadyUsed) => {
            "That Smartcard Unlock Code has already been used. Please start again."
        }
        (F::Unlock, C::CardUpdateFailed) => {
            "Your smartcard was not updated. Keep it in the reader and press Confirm again."
        }
        (F::Unlock, C::CardRefusedUpdate) => {
            "Your smartcard refused the update, so it cannot be unlocked here. Please contact \
             your Registration Authority."
        }
        (F::Unlock, C::ChannelFailed) => {
            "We could not open a secure connection to your smartcard. Keep it in the reader \
             and press Confirm again."
        }
        (F::Unlock, C::GrantExpired | C::GrantReplayed) => {
            "The permission for this card update has run out. Press Confirm again."
        }
        (F::PhoneCode, C::CodeInvalid) => {
            "That code from the RA team is not right. Check it and try again."
        }
        (F::PhoneCode, C::CodeExpired) => {
            "That code from the RA team has expired. Ask the RA team for a new code."
        }
        (F::PhoneCode, C::CodeTriesExhausted | C::CodeAlreadyUsed) => {
            "That code from the RA team cannot be used any more. Ask the RA team for a new code."
        }
        (F::Register, C::CodeInvalid) => {
            "That registration code is not right. Check the email and try again."
        }
        (F::Register, C::CodeExpired) => "That registration code has expired. Please start again.",
        (F::Register, C::CodeTriesExhausted) => {
            "Too many wrong registration codes. Please start again."
        }
        (F::Register, C::CodeAlreadyUsed) => "That registration code has already been used.",
        (F::Register, C::NotFound) => "This registration could not be found. Please start again.",
        (F::Register, C::AttemptExpired) => {
            "This registration took too long and has expired. Please start again."
        }
        (F::Register, C::WrongStep | C::AttemptEnded) => {
            "This registration has ended. Please start again."
        }
        (F::Register | F::MyCard, C::CardChanged) => {
            "A different smartcard is in the reader. Insert the smartcard you signed in with."
        }
        (F::SignIn, C::LoginExpired) => "That sign-in took too long. Please try again.",
        (F::MyCard, C::SelfServiceClosed) => {
            "Self-service is closed for your account, so your contact details cannot be \
             changed here. Please contact your Registration Authority."
        }
        (F::Ra, C::NotFound) => "That user or report could not be found.",
        (F::Ra, C::NotSignedIn) => "Your session has ended. Sign in again with your smartcard.",
        _ => return None,
    };
    Some(words)
}

/// The general sentence for every problem the page can meet: it names no particular
/// flow, so it reads right wherever it is shown.
pub(super) fn general(code: ProblemCode) -> &'static str {
    use ErrorCode as C;
    let code = match code {
        ProblemCode::BridgeUnreachable => {
            return "The Smartcard Self-Service card bridge is not running on this computer, so \
                    this page cannot reach your smartcard. Start the card bridge (ask your IT \
                    team if it is not installed), then try again.";
        }
        ProblemCode::Network => {
            return "We could not reach the Smartcard Self-Service. Check your connection and try \
                    again.";
        }
        ProblemCode::Api(code) => code,
    };
    match code {
        C::BadRequest => "Something in the request was not right. Please check and try again.",
        C::NotFound => "What you were doing could not be found. Please start again.",
        C::MethodNotAllowed | C::Internal => "Something went wrong on our side. Please try again.",
        C::RateLimited => "Too many tries. Please wait a few minutes and try again.",
        C::UnknownCard => {
            "This smartcard is not known to the self-service system. Please contact your \
             Registration Authority."
        }
        C::NotRegistered => {
            "You have not registered for self-service unlock. Your Registration Authority can \
             help."
        }
        C::CardNotGenuine => {
            "This smartcard could not prove it is genuine. Please contact your Registration \
             Authority."
        }
        C::SelfServiceClosed => {
            "Self-service is closed for your account. Please contact your Registration \
             Authority."
        }
        C::WrongAnswers => "One or more of your answers was not right.",
        C::AttemptExpired => "This took too long and has expired. Please start again.",
        C::WrongStep => "This step has already been done. Please start again.",
        C::CodeInvalid => "That code is not right. Check it and try again.",
        C::CodeExpired => "That code has expired. Please start again.",
        C::CodeTriesExhausted => "Too many wrong codes. Please start again.",
        C::CardUpdateFailed => {
            "Your smartcard was not updated. Keep it in the reader and try again."
        }
        C::AttemptEnded => "This has ended. Please start again.",
        C::AlreadyUnlocked => {
            "This smartcard has already been unlocked. Remove and reinsert it, then log in with \
             your new passcode."
        }
        C::CodeAlreadyUsed => "That code has already been used. Please start again.",
        C::CardRefusedUpdate => {
            "Your smartcard refused the update. Please contact your Registration Authority."
        }
        C::HostNotAllowed | C::OriginNotAllowed => {
            "The card bridge on this computer is not set up to work with this website. Please \
             contact your IT team."
        }
        C::UnsupportedMediaType
        | C::MissingBridgeHeader
        | C::PayloadTooLarge
        | C::CommandNotAllowed => {
            "The card bridge refused the request. Please refresh the page and try again."
        }
        C::NoReader => "No smartcard reader was found. Connect your reader and try again.",
        C::NoCard => "No smartcard was found. Insert your smartcard and try again.",
        C::CardRemoved => {
            "Your smartcard was taken out of the reader before we finished. Nothing has been \
             lost: put it back in the reader and try again."
        }
        C::CardChanged | C::GrantWrongCard => {
            "A different smartcard is in the reader. Insert the card you started with."
        }
        C::CardBusy => "Your smartcard is busy. Wait a moment and try again.",
        C::CardError => {
            "Your smartcard did not respond as expected. Remove it, reinsert it and try again."
        }
        C::PcscUnavailable => {
            "The smartcard service on this computer is not running. Please contact your IT team."
        }
        C::WrongPin => "The smartcard did not accept the passcode.",
        C::PinBlocked => "The smartcard passcode is locked.",
        C::InvalidPasscode => {
            "The passcode must be between 4 and 8 characters long, using standard keyboard \
             characters."
        }
        C::ChannelFailed => {
            "We could not open a secure connection to your smartcard. Keep it in the reader \
             and try again."
        }
        C::GrantMissing
        | C::GrantInvalid
        | C::GrantWrongOrigin
        | C::GrantWrongOperation
        | C::GrantWrongScript
        | C::GrantWrongAttempt => {
            "The card bridge did not accept this website's permission for the card update. \
             Refresh the page and try again; if it happens again, contact your IT team."
        }
        C::GrantExpired | C::GrantReplayed => {
            "The permission for this card update has run out. Please try again."
        }
        C::LastTryNeedsConfirmation => {
            "Your smartcard has one passcode try left. If that try is wrong, the card locks."
        }
        C::NotSignedIn => "You are not signed in, or your session has ended. Please sign in again.",
        C::CertificateNotValid => {
            "Your smartcard's certificate is not valid any more. Please contact your \
             Registration Authority."
        }
        C::LoginExpired => "Confirming your smartcard took too long. Please try again.",
        C::QuestionsInvalid => "Choose 4 different questions and answer each of them.",
        C::EmailNotApproved => {
            "That email address is not on an approved domain. Use your work address, for \
             example one ending nhs.net."
        }
        C::PinReused => {
            "That passcode is one of your last five. Choose a passcode you have not used \
             recently."
        }
        C::RaRoleRequired => {
            "Your account does not have the Registration Authority role this needs. Ask an RA \
             manager if you should have it."
        }
        C::OwnAccount => {
            "You cannot make changes to your own account. Ask another member of the RA team to \
             do it."
        }
        C::CardProofRequired => {
            "To do this, confirm it is you: enter your smartcard passcode again, with your \
             smartcard in the reader."
        }
        C::ManagerRequired => {
            "Only an RA manager can make changes to the account of a member of the RA team."
        }
        C::NoRaCode => {
            "There is no code from the RA team waiting for you. Ask the RA team to give you a \
             new code on the phone."
        }
        C::RenewalNotDue => {
            "Your smartcard's certificates do not need renewing yet. We will email you, and offer \
             renewal when you sign in, once they do."
        }
        C::RenewalByRa => "Your Registration Authority renews your certificates this time.",
        C::AccountRecoveryPasscodeReused => {
            "You have used this Account Recovery Passcode in your last five. Choose another."
        }
        C::VerificationPasscodeReused => {
            "You have used this Verification Passcode in your last five. Choose another."
        }
        C::HelpdeskRoleRequired => "Only a helpdesk agent can check a caller's passcode.",
        C::VerificationLocked => {
            "Too many wrong Verification Passcodes for this caller. They must set a new one on \
             Manage Passcodes before it can be checked again."
        }
        C::PasscodesLocked => {
            "Your account is locked because your passcodes expired and were not changed in \
             time. Contact your Registration Authority to unlock it."
        }
        C::NothingToUpdate => "Enter a new passcode, or tick \"Blank passcode\", to update.",
        C::RenewalUnfinished => {
            "Your smartcard's certificate renewal did not finish. Leave your card in the reader \
             and sign in again to finish it."
        }
        C::RecoveryNotRecognised => {
            "The details you entered do not match our records. Check your User's Unique \
             Identifier, Family Name and Account Recovery Passcode, and try again."
        }
        C::RecoveryClosed => {
            "Too many wrong Account Recovery details, so unlocking with them is closed for your \
             account. Please contact your Registration Authority."
        }
        C::RouteNotOffered => {
            "This way of unlocking a smartcard is not offered here. Please start again."
        }
        C::NoDeliveryChannel => {
            "We have no approved email address or mobile number to send you a One Time Passcode, \
             so your smartcard cannot be unlocked here. Please contact your Registration \
             Authority."
        }
        C::DeliveryNotOffered => "We cannot send a code that way. Please choose another way.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::every_problem;

    #[test]
    fn all_2_every_error_code_has_a_sentence_in_every_flow() {
        for flow in Flow::ALL {
            for code in every_problem() {
                let text = sentence_in(flow, code);
                assert!(!text.is_empty(), "{flow:?} {code:?} has no sentence");
                assert!(text.ends_with('.'), "{flow:?} {code:?}: {text}");
                assert!(
                    !text.contains(code.as_str()),
                    "{flow:?} {code:?} leaks its code into the sentence"
                );
            }
        }
    }

    #[test]
    fn all_3_a_flow_without_its_own_words_says_the_general_sentence() {
        let wrong_code = ProblemCode::Api(ErrorCode::CodeInvalid);
        assert!(sentence_in(Flow::Register, wrong_code).contains("registration code"));
        assert!(sentence_in(Flow::Unlock, wrong_code).contains("Smartcard Unlock Code"));
        assert!(sentence_in(Flow::PhoneCode, wrong_code).contains("RA team"));
        for flow in [Flow::SignIn, Flow::MyCard, Flow::Ra] {
            assert_eq!(
                sentence_in(flow, wrong_code),
                general(wrong_code),
                "{flow:?}"
            );
        }
        // A flow's words are for some codes only; the rest fall back.
        let busy = ProblemCode::Api(ErrorCode::CardBusy);
        for flow in Flow::ALL {
            assert_eq!(sentence_in(flow, busy), general(busy), "{flow:?}");
        }
        assert_eq!(
            sentence_in(Flow::Unlock, ProblemCode::Network),
            general(ProblemCode::Network)
        );
    }

    #[test]
    fn all_3_the_general_sentences_name_no_particular_flow() {
        for code in every_problem() {
            let text = general(code).to_lowercase();
            for flow_words in [
                "this unlock",
                "unlock code",
                "unlock attempt",
                "registration code",
                "this registration",
                "sign-in",
                "press confirm",
                "contact details",
            ] {
                assert!(!text.contains(flow_words), "{code:?}: {text}");
            }
        }
    }
}
