//! What went wrong, in plain language, with the stable reason code support staff use.

use api_types::{ApiError, ErrorCode};
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: String,
    pub message: String,
    pub tries_left: Option<u32>,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: message.to_owned(),
            tries_left: None,
            help: None,
        }
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code.as_str()
    }

    pub fn bridge_unreachable() -> Self {
        Self::new(
            "bridge_unreachable",
            "The Smartcard Self-Service card bridge is not running on this computer, so this \
             page cannot reach your smartcard. Start the card bridge (ask your IT team if it \
             is not installed), then try again.",
        )
    }

    pub fn network() -> Self {
        Self::new(
            "network",
            "We could not reach the Smartcard Self-Service. Check your connection and try again.",
        )
    }
}

impl From<ApiError> for Problem {
    fn from(error: ApiError) -> Self {
        Self {
            code: error.code.as_str().to_owned(),
            message: message(error.code).to_owned(),
            tries_left: error.tries_left,
            help: error.help,
        }
    }
}

/// Plain-language text for every code the server or the bridge can send.
pub fn message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadRequest => "Something in the request was not right. Please check and try again.",
        ErrorCode::NotFound => "This unlock could not be found. Please start again.",
        ErrorCode::MethodNotAllowed | ErrorCode::Internal => {
            "Something went wrong on our side. Please try again."
        }
        ErrorCode::RateLimited => "Too many tries. Please wait a few minutes and try again.",
        ErrorCode::UnknownCard => {
            "This smartcard is not known to the self-service system. Please contact your \
             Registration Authority."
        }
        ErrorCode::NotRegistered => {
            "You have not registered for self-service unlock, so your smartcard cannot be \
             unlocked here. Your Registration Authority can unlock it."
        }
        ErrorCode::CardNotGenuine => {
            "This smartcard could not prove it is genuine. Please contact your Registration \
             Authority."
        }
        ErrorCode::SelfServiceClosed => {
            "After 3 failed attempts at the security questions, self-service unlock is closed \
             for your account. Please contact your Registration Authority to unlock your \
             smartcard."
        }
        ErrorCode::WrongAnswers => "One or more of your answers was not right.",
        ErrorCode::AttemptExpired => "This unlock took too long and has expired. Please start again.",
        ErrorCode::WrongStep => "This step has already been done. Please start again.",
        ErrorCode::CodeInvalid => "That Smartcard Unlock Code is not right. Check the email and try again.",
        ErrorCode::CodeExpired => "That Smartcard Unlock Code has expired. Please start again.",
        ErrorCode::CodeTriesExhausted => "Too many wrong codes. Please start again.",
        ErrorCode::CardUpdateFailed => {
            "Your smartcard was not updated. Keep it in the reader and press Confirm again."
        }
        ErrorCode::HostNotAllowed | ErrorCode::OriginNotAllowed => {
            "The card bridge on this computer is not set up to work with this website. Please \
             contact your IT team."
        }
        ErrorCode::UnsupportedMediaType
        | ErrorCode::MissingBridgeHeader
        | ErrorCode::PayloadTooLarge
        | ErrorCode::CommandNotAllowed => {
            "The card bridge refused the request. Please refresh the page and try again."
        }
        ErrorCode::NoReader => "No smartcard reader was found. Connect your reader and try again.",
        ErrorCode::NoCard => "No smartcard was found. Insert your smartcard and try again.",
        ErrorCode::CardRemoved => {
            "Your smartcard was removed before we finished. Put it back in the reader and try again."
        }
        ErrorCode::CardChanged => {
            "A different smartcard is in the reader. Insert the card you started with."
        }
        ErrorCode::CardBusy => "Your smartcard is busy. Wait a moment and try again.",
        ErrorCode::CardError => "Your smartcard did not respond as expected. Remove it, reinsert it and try again.",
        ErrorCode::PcscUnavailable => {
            "The smartcard service on this computer is not running. Please contact your IT team."
        }
        ErrorCode::WrongPin => "The smartcard did not accept the passcode.",
        ErrorCode::PinBlocked => "The smartcard passcode is locked.",
        ErrorCode::InvalidPasscode => {
            "The passcode must be between 4 and 8 characters long, using standard keyboard characters."
        }
    }
}

#[component]
pub fn ProblemSummary(problem: Problem) -> impl IntoView {
    view! {
        <div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
            <h2 class="nhsuk-error-summary__title" id="error-summary-title">"There is a problem"</h2>
            <div class="nhsuk-error-summary__body">
                <p>{problem.message}</p>
                {problem.tries_left.map(|n| view! {
                    <p>{format!("You have {n} {} left.", if n == 1 { "try" } else { "tries" })}</p>
                })}
                {problem.help.map(|help| view! { <p>{help}</p> })}
                <p class="reason-code">"Reason code: " {problem.code}</p>
            </div>
        </div>
    }
}
