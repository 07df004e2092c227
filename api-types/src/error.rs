//! The one error body every API and the bridge return.

use serde::{Deserialize, Serialize};

/// Stable error codes. The UI shows plain language per code; logs and support use the code.
/// Serialized as snake_case strings; never renumber or rename an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Generic request problems.
    BadRequest,
    NotFound,
    MethodNotAllowed,
    Internal,
    RateLimited,
    // Unlock flow (server).
    UnknownCard,
    NotRegistered,
    CardNotGenuine,
    SelfServiceClosed,
    WrongAnswers,
    AttemptExpired,
    WrongStep,
    CodeInvalid,
    CodeExpired,
    CodeTriesExhausted,
    CardUpdateFailed,
    // Card bridge.
    HostNotAllowed,
    OriginNotAllowed,
    UnsupportedMediaType,
    MissingBridgeHeader,
    PayloadTooLarge,
    NoReader,
    NoCard,
    CardRemoved,
    CardChanged,
    CardBusy,
    CardError,
    PcscUnavailable,
    WrongPin,
    PinBlocked,
    InvalidPasscode,
    CommandNotAllowed,
}

impl ErrorCode {
    /// The snake_case string this code has on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::UnknownCard => "unknown_card",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::CardNotGenuine => "card_not_genuine",
            ErrorCode::SelfServiceClosed => "self_service_closed",
            ErrorCode::WrongAnswers => "wrong_answers",
            ErrorCode::AttemptExpired => "attempt_expired",
            ErrorCode::WrongStep => "wrong_step",
            ErrorCode::CodeInvalid => "code_invalid",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::CodeTriesExhausted => "code_tries_exhausted",
            ErrorCode::CardUpdateFailed => "card_update_failed",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::MissingBridgeHeader => "missing_bridge_header",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::NoReader => "no_reader",
            ErrorCode::NoCard => "no_card",
            ErrorCode::CardRemoved => "card_removed",
            ErrorCode::CardChanged => "card_changed",
            ErrorCode::CardBusy => "card_busy",
            ErrorCode::CardError => "card_error",
            ErrorCode::PcscUnavailable => "pcsc_unavailable",
            ErrorCode::WrongPin => "wrong_pin",
            ErrorCode::PinBlocked => "pin_blocked",
            ErrorCode::InvalidPasscode => "invalid_passcode",
            ErrorCode::CommandNotAllowed => "command_not_allowed",
        }
    }
}

/// Error body: `{"code": "...", "message": "...", ...details}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Tries left where the code is about a limited resource (answers, unlock code, PIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
    /// Organisation help text (RA phone, walk-in centres) when the user must go to the RA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            tries_left: None,
            help: None,
        }
    }

    pub fn with_tries_left(mut self, tries_left: u32) -> Self {
        self.tries_left = Some(tries_left);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_stable_strings() {
        for code in [
            ErrorCode::UnknownCard,
            ErrorCode::SelfServiceClosed,
            ErrorCode::OriginNotAllowed,
            ErrorCode::CommandNotAllowed,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn error_body_round_trips_and_refuses_unknown_fields() {
        let e = ApiError::new(ErrorCode::WrongAnswers, "no").with_tries_left(2);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
        assert!(
            serde_json::from_str::<ApiError>(r#"{"code":"internal","message":"x","extra":1}"#)
                .is_err()
        );
    }
}
