//! The one error body every API and the bridge return.

use serde::{Deserialize, Serialize};

/// Stable error codes. The UI shows plain language per code; logs and support use the code.
/// Serialized as snake_case strings; never renumber or rename an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    AttemptEnded,
    AlreadyUnlocked,
    CodeAlreadyUsed,
    CardRefusedUpdate,
    /// The card's answers to the secure channel's opening did not authenticate it.
    ChannelFailed,
    // Card login and sessions (AUTH-1, AUTH-2).
    NotSignedIn,
    CertificateNotValid,
    LoginExpired,
    // Registration (REG-1…REG-4).
    QuestionsInvalid,
    EmailNotApproved,
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
    // Card bridge: server-signed grants (BRG-5).
    GrantMissing,
    GrantInvalid,
    GrantExpired,
    GrantReplayed,
    GrantWrongOrigin,
    GrantWrongCard,
    GrantWrongOperation,
    GrantWrongScript,
    /// BRG-5: the grant is for another unlock than the one whose channel is open.
    GrantWrongAttempt,
    // Card bridge: PIN safety (BRG-6, CARD-5).
    LastTryNeedsConfirmation,
    PinReused,
    // RA console (RA-1…RA-3).
    /// The signed-in user has no RA role for this (or the role it needs is a manager's).
    RaRoleRequired,
    /// Separation of duties: nobody acts on their own account.
    OwnAccount,
    /// No phone code from the RA is live for this user (none issued, used or replaced).
    NoRaCode,
    /// RA-5: an action that gives access needs the RA's card proven again (passcode and
    /// 9A signature) within the last 5 minutes.
    CardProofRequired,
    /// RA-5: only an RA manager acts on an RA's account.
    ManagerRequired,
    // Certificate renewal (CERT-2…CERT-4).
    /// CERT-2: the card's certificates are not yet in their renewal window.
    RenewalNotDue,
    /// CERT-4: two self-service renewals in a row; the RA renews this time.
    RenewalByRa,
    /// CERT-3: the card's renewal was cut off after it made its new keys; the page
    /// finishes it with the card, then signs in again.
    RenewalUnfinished,
    // Manage Passcodes (PASS-1…PASS-3).
    /// PASS-3: the new Account Recovery Passcode is one of its last five.
    AccountRecoveryPasscodeReused,
    /// PASS-3: the new Verification Passcode is one of its last five.
    VerificationPasscodeReused,
    /// PASS-2: an Update that changes nothing.
    NothingToUpdate,
    /// PASS-4: the passcodes expired and were not changed in time: locked for sign-in
    /// and self-service until the RA unlocks it.
    PasscodesLocked,
    /// PASS-5: only a helpdesk agent checks a caller's Verification Passcode.
    HelpdeskRoleRequired,
    /// PASS-5: too many wrong Verification Passcodes for this caller: no more checks
    /// until they set a new one.
    VerificationLocked,
    // One-time-passcode unlocks (SCSC-1…SCSC-4, POL-3).
    /// SCSC-4: the UUID, family name or Account Recovery Passcode is wrong, or the card
    /// is not that user's — one answer for all of them.
    RecoveryNotRecognised,
    /// SCSC-4: too many wrong Account Recovery details: the SCSC route is closed until
    /// the RA reopens self-service.
    RecoveryClosed,
    /// POL-1: this way of unlocking is not offered under the service's policy.
    RouteNotOffered,
    /// POL-3: no approved email address and no mobile on the profile for a code.
    NoDeliveryChannel,
    /// SCSC-2 / POL-3: the code can't be sent that way (none on the profile).
    DeliveryNotOffered,
}

impl ErrorCode {
    /// Every code, once each (a test checks the count against the exhaustive matches).
    pub const ALL: [ErrorCode; 72] = [
        ErrorCode::BadRequest,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
        ErrorCode::RateLimited,
        ErrorCode::UnknownCard,
        ErrorCode::NotRegistered,
        ErrorCode::CardNotGenuine,
        ErrorCode::SelfServiceClosed,
        ErrorCode::WrongAnswers,
        ErrorCode::AttemptExpired,
        ErrorCode::WrongStep,
        ErrorCode::CodeInvalid,
        ErrorCode::CodeExpired,
        ErrorCode::CodeTriesExhausted,
        ErrorCode::CardUpdateFailed,
        ErrorCode::AttemptEnded,
        ErrorCode::AlreadyUnlocked,
        ErrorCode::CodeAlreadyUsed,
        ErrorCode::CardRefusedUpdate,
        ErrorCode::HostNotAllowed,
        ErrorCode::OriginNotAllowed,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::MissingBridgeHeader,
        ErrorCode::PayloadTooLarge,
        ErrorCode::NoReader,
        ErrorCode::NoCard,
        ErrorCode::CardRemoved,
        ErrorCode::CardChanged,
        ErrorCode::CardBusy,
        ErrorCode::CardError,
        ErrorCode::PcscUnavailable,
        ErrorCode::WrongPin,
        ErrorCode::PinBlocked,
        ErrorCode::InvalidPasscode,
        ErrorCode::CommandNotAllowed,
        ErrorCode::GrantMissing,
        ErrorCode::GrantInvalid,
        ErrorCode::GrantExpired,
        ErrorCode::GrantReplayed,
        ErrorCode::GrantWrongOrigin,
        ErrorCode::GrantWrongCard,
        ErrorCode::GrantWrongOperation,
        ErrorCode::GrantWrongScript,
        ErrorCode::GrantWrongAttempt,
        ErrorCode::LastTryNeedsConfirmation,
        ErrorCode::PinReused,
        ErrorCode::ChannelFailed,
        ErrorCode::NotSignedIn,
        ErrorCode::CertificateNotValid,
        ErrorCode::LoginExpired,
        ErrorCode::QuestionsInvalid,
        ErrorCode::EmailNotApproved,
        ErrorCode::RaRoleRequired,
        ErrorCode::OwnAccount,
        ErrorCode::NoRaCode,
        ErrorCode::CardProofRequired,
        ErrorCode::ManagerRequired,
        ErrorCode::RenewalNotDue,
        ErrorCode::RenewalByRa,
        ErrorCode::RenewalUnfinished,
        ErrorCode::AccountRecoveryPasscodeReused,
        ErrorCode::VerificationPasscodeReused,
        ErrorCode::NothingToUpdate,
        ErrorCode::PasscodesLocked,
        ErrorCode::HelpdeskRoleRequired,
        ErrorCode::VerificationLocked,
        ErrorCode::RecoveryNotRecognised,
        ErrorCode::RecoveryClosed,
        ErrorCode::RouteNotOffered,
        ErrorCode::NoDeliveryChannel,
        ErrorCode::DeliveryNotOffered,
    ];

    /// The HTTP status every refusal with this code is sent with, by the server and the
    /// bridge alike.
    pub fn http_status(self) -> u16 {
        use ErrorCode as C;
        match self {
            C::BadRequest => 400,
            C::NotSignedIn => 401,
            C::NotFound | C::UnknownCard => 404,
            C::MethodNotAllowed => 405,
            C::Internal => 500,
            C::RateLimited => 429,
            C::NotRegistered
            | C::CardNotGenuine
            | C::HostNotAllowed
            | C::OriginNotAllowed
            | C::MissingBridgeHeader
            | C::CommandNotAllowed
            | C::GrantMissing
            | C::GrantInvalid
            | C::GrantWrongOrigin
            | C::GrantWrongCard
            | C::GrantWrongOperation
            | C::GrantWrongScript
            | C::GrantWrongAttempt
            | C::CertificateNotValid
            | C::RaRoleRequired
            | C::OwnAccount
            | C::CardProofRequired
            | C::ManagerRequired
            | C::RenewalByRa
            | C::HelpdeskRoleRequired
            | C::RouteNotOffered
            | C::NoDeliveryChannel => 403,
            C::SelfServiceClosed
            | C::PinBlocked
            | C::PasscodesLocked
            | C::VerificationLocked
            | C::RecoveryClosed => 423,
            C::WrongAnswers
            | C::CodeInvalid
            | C::WrongPin
            | C::InvalidPasscode
            | C::PinReused
            | C::QuestionsInvalid
            | C::EmailNotApproved
            | C::AccountRecoveryPasscodeReused
            | C::VerificationPasscodeReused
            | C::NothingToUpdate
            | C::RecoveryNotRecognised
            | C::DeliveryNotOffered => 422,
            C::AttemptExpired
            | C::CodeExpired
            | C::CodeTriesExhausted
            | C::GrantExpired
            | C::LoginExpired => 410,
            C::RenewalUnfinished
            | C::WrongStep
            | C::CardUpdateFailed
            | C::AttemptEnded
            | C::AlreadyUnlocked
            | C::CodeAlreadyUsed
            | C::CardRefusedUpdate
            | C::NoReader
            | C::NoCard
            | C::CardRemoved
            | C::CardChanged
            | C::GrantReplayed
            | C::LastTryNeedsConfirmation
            | C::ChannelFailed
            | C::NoRaCode
            | C::RenewalNotDue => 409,
            C::UnsupportedMediaType => 415,
            C::PayloadTooLarge => 413,
            C::CardBusy | C::PcscUnavailable => 503,
            C::CardError => 502,
        }
    }

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
            ErrorCode::AttemptEnded => "attempt_ended",
            ErrorCode::AlreadyUnlocked => "already_unlocked",
            ErrorCode::CodeAlreadyUsed => "code_already_used",
            ErrorCode::CardRefusedUpdate => "card_refused_update",
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
            ErrorCode::GrantMissing => "grant_missing",
            ErrorCode::GrantInvalid => "grant_invalid",
            ErrorCode::GrantExpired => "grant_expired",
            ErrorCode::GrantReplayed => "grant_replayed",
            ErrorCode::GrantWrongOrigin => "grant_wrong_origin",
            ErrorCode::GrantWrongCard => "grant_wrong_card",
            ErrorCode::GrantWrongOperation => "grant_wrong_operation",
            ErrorCode::GrantWrongScript => "grant_wrong_script",
            ErrorCode::GrantWrongAttempt => "grant_wrong_attempt",
            ErrorCode::LastTryNeedsConfirmation => "last_try_needs_confirmation",
            ErrorCode::PinReused => "pin_reused",
            ErrorCode::RenewalNotDue => "renewal_not_due",
            ErrorCode::RenewalByRa => "renewal_by_ra",
            ErrorCode::RenewalUnfinished => "renewal_unfinished",
            ErrorCode::AccountRecoveryPasscodeReused => "account_recovery_passcode_reused",
            ErrorCode::VerificationPasscodeReused => "verification_passcode_reused",
            ErrorCode::NothingToUpdate => "nothing_to_update",
            ErrorCode::PasscodesLocked => "passcodes_locked",
            ErrorCode::HelpdeskRoleRequired => "helpdesk_role_required",
            ErrorCode::VerificationLocked => "verification_locked",
            ErrorCode::RecoveryNotRecognised => "recovery_not_recognised",
            ErrorCode::RecoveryClosed => "recovery_closed",
            ErrorCode::RouteNotOffered => "route_not_offered",
            ErrorCode::NoDeliveryChannel => "no_delivery_channel",
            ErrorCode::DeliveryNotOffered => "delivery_not_offered",
            ErrorCode::ChannelFailed => "channel_failed",
            ErrorCode::NotSignedIn => "not_signed_in",
            ErrorCode::CertificateNotValid => "certificate_not_valid",
            ErrorCode::LoginExpired => "login_expired",
            ErrorCode::QuestionsInvalid => "questions_invalid",
            ErrorCode::EmailNotApproved => "email_not_approved",
            ErrorCode::RaRoleRequired => "ra_role_required",
            ErrorCode::OwnAccount => "own_account",
            ErrorCode::NoRaCode => "no_ra_code",
            ErrorCode::CardProofRequired => "card_proof_required",
            ErrorCode::ManagerRequired => "manager_required",
        }
    }
}

/// Error body: `{"code": "...", "message": "...", ...details}`. The page shows its own
/// words for `code`; `message` is a terse diagnostic for developers and logs, never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Tries left where the code is about a limited resource (answers, unlock code, PIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u32>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            tries_left: None,
        }
    }

    pub fn with_tries_left(mut self, tries_left: u32) -> Self {
        self.tries_left = Some(tries_left);
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
    fn all_2_every_code_is_listed_once_with_a_status_and_a_stable_string() {
        let mut strings: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        strings.sort_unstable();
        strings.dedup();
        assert_eq!(strings.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.http_status()), "{code:?}");
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }

    #[test]
    fn all_2_error_body_round_trips_and_refuses_unknown_fields() {
        let e = ApiError::new(ErrorCode::WrongAnswers, "no").with_tries_left(2);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
        assert!(
            serde_json::from_str::<ApiError>(r#"{"code":"internal","message":"x","extra":1}"#)
                .is_err()
        );
    }
}
