//! Every way a request can fail, each mapped once to a stable [`ErrorCode`] (and so to
//! its HTTP status, [`ErrorCode::http_status`]). The variants carry no sentences: the page
//! owns the words for each code; `Display` is for logs only (ALL-2).

use api_types::{ApiError, ErrorCode};
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::secrets::SecretsError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not the endpoint's JSON (serde's diagnostic, for developers).
    #[error("malformed request: {0}")]
    Malformed(JsonRejection),
    #[error("request body too large")]
    PayloadTooLarge,
    /// ALL-6: a state-changing request that is not `application/json`.
    #[error("not application/json")]
    NotJson,
    /// ALL-6: a state-changing request from another origin, or with none.
    #[error("origin not allowed")]
    ForeignOrigin,
    #[error("answers are not for exactly the questions asked")]
    AnswersDoNotMatchQuestions,
    #[error("not found")]
    NotFound,
    /// ALL-5: over a rate limit; try again after this many seconds.
    #[error("rate limited for {retry_after}s")]
    RateLimited { retry_after: u32 },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("card not known")]
    UnknownCard,
    #[error("user not registered for self-service")]
    NotRegistered,
    #[error("card signature did not verify")]
    CardNotGenuine,
    #[error("self-service closed for this user")]
    SelfServiceClosed,
    #[error("wrong answers, {tries_left} tries left")]
    WrongAnswers { tries_left: u32 },
    #[error("attempt expired")]
    AttemptExpired,
    #[error("attempt already ended")]
    AttemptEnded,
    #[error("attempt already completed")]
    AlreadyUnlocked,
    #[error("code already used")]
    CodeAlreadyUsed,
    #[error("step out of order")]
    WrongStep,
    #[error("wrong code, {tries_left} tries left")]
    CodeInvalid { tries_left: u32 },
    #[error("code expired")]
    CodeExpired,
    #[error("code tries exhausted")]
    CodeTriesExhausted,
    /// The card did not finish; the page retries with a fresh script.
    #[error("card update not finished")]
    CardUpdateFailed,
    /// The card refused its PUK and none is pending: only the RA can help.
    #[error("card refused the update")]
    CardRefusedUpdate,
    #[error("the card's answer did not open the secure channel")]
    ChannelFailed,
    #[error("not signed in, or the session ended")]
    NotSignedIn,
    #[error("registration needs four different offered questions, each answered")]
    QuestionsInvalid,
    #[error("the email address is not on an approved domain")]
    EmailNotApproved,
    #[error("the email address is malformed")]
    EmailMalformed,
    #[error("the mobile number is not a UK mobile number")]
    MobileMalformed,
    #[error("the card has no current certificate")]
    CertificateNotValid,
    #[error("the login challenge was used or expired")]
    LoginExpired,
    /// RA-1: no RA role, or not the manager's role an action needs.
    #[error("needs an RA role")]
    RaRoleRequired,
    /// RA-1: separation of duties.
    #[error("an RA may not act on their own account")]
    OwnAccount,
    #[error("no live phone code from the RA")]
    NoRaCode,
    /// RA-5: the RA's card was not proven again recently enough for this action.
    #[error("the RA's card must be proven again for this")]
    CardProofRequired,
    /// RA-5: an agent acting on an RA's account.
    #[error("only an RA manager acts on an RA's account")]
    ManagerRequired,
    /// CERT-2: the certificates are not yet in their renewal window.
    #[error("the certificates are not due for renewal")]
    RenewalNotDue,
    /// CERT-4: the third renewal in a row is the RA's.
    #[error("the RA renews the certificates this time")]
    RenewalByRa,
    /// CERT-3: a sign-in the card's unfinished renewal explains; kept to finish it.
    #[error("the card's renewal is unfinished")]
    RenewalUnfinished,
    /// PASS-3: a new server-side passcode is one of its last five.
    #[error("the passcode was used recently")]
    PasscodeReused(api_types::passcodes::PasscodeKind),
    /// PASS-2: nothing chosen.
    #[error("the update changes nothing")]
    NothingToUpdate,
    /// PASS-4: expired and unchanged past the lock period.
    #[error("locked: the passcodes expired")]
    PasscodesLocked,
    /// PASS-5: not a helpdesk agent.
    #[error("the helpdesk role is required")]
    HelpdeskRoleRequired,
    /// PASS-5: too many wrong Verification Passcodes for this caller.
    #[error("the verification check is locked")]
    VerificationLocked,
    /// SCSC-4: one answer for a wrong UUID, name or Account Recovery Passcode, or a card
    /// that is not that user's.
    #[error("the account recovery details were not recognised")]
    RecoveryNotRecognised { tries_left: u32 },
    /// SCSC-4 / RA-6: the SCSC route is closed for this user.
    #[error("account recovery is closed")]
    RecoveryClosed,
    /// POL-1: not a route this policy offers.
    #[error("this way of unlocking is not offered")]
    RouteNotOffered,
    /// POL-3: nowhere to send a code.
    #[error("no approved email address or mobile number for a code")]
    NoDeliveryChannel,
    /// SCSC-2 / POL-3: not a way this user's code can go.
    #[error("the code can't be sent that way")]
    DeliveryNotOffered,
    /// RA-4: an audit or search filter that does not parse.
    #[error("malformed filter")]
    BadFilter,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("card secret: {0}")]
    CardSecret(#[from] card_protocol::PinError),
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A broken internal invariant, named for the log.
    #[error("invariant broken: {0}")]
    Invariant(&'static str),
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::Malformed(rejection)
        }
    }
}

impl AppError {
    /// The one mapping from a failure to what the page is told.
    pub fn code(&self) -> ErrorCode {
        use AppError as E;
        match self {
            E::Malformed(_) | E::AnswersDoNotMatchQuestions => ErrorCode::BadRequest,
            E::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            E::NotJson => ErrorCode::UnsupportedMediaType,
            E::ForeignOrigin => ErrorCode::OriginNotAllowed,
            E::NotFound => ErrorCode::NotFound,
            E::RateLimited { .. } => ErrorCode::RateLimited,
            E::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            E::UnknownCard => ErrorCode::UnknownCard,
            E::NotRegistered => ErrorCode::NotRegistered,
            E::CardNotGenuine => ErrorCode::CardNotGenuine,
            E::SelfServiceClosed => ErrorCode::SelfServiceClosed,
            E::WrongAnswers { .. } => ErrorCode::WrongAnswers,
            E::AttemptExpired => ErrorCode::AttemptExpired,
            E::AttemptEnded => ErrorCode::AttemptEnded,
            E::AlreadyUnlocked => ErrorCode::AlreadyUnlocked,
            E::CodeAlreadyUsed => ErrorCode::CodeAlreadyUsed,
            E::WrongStep => ErrorCode::WrongStep,
            E::CodeInvalid { .. } => ErrorCode::CodeInvalid,
            E::CodeExpired => ErrorCode::CodeExpired,
            E::CodeTriesExhausted => ErrorCode::CodeTriesExhausted,
            E::CardUpdateFailed => ErrorCode::CardUpdateFailed,
            E::CardRefusedUpdate => ErrorCode::CardRefusedUpdate,
            E::ChannelFailed => ErrorCode::ChannelFailed,
            E::NotSignedIn => ErrorCode::NotSignedIn,
            E::QuestionsInvalid => ErrorCode::QuestionsInvalid,
            E::EmailNotApproved => ErrorCode::EmailNotApproved,
            E::EmailMalformed | E::MobileMalformed => ErrorCode::BadRequest,
            E::CertificateNotValid => ErrorCode::CertificateNotValid,
            E::LoginExpired => ErrorCode::LoginExpired,
            E::RaRoleRequired => ErrorCode::RaRoleRequired,
            E::OwnAccount => ErrorCode::OwnAccount,
            E::NoRaCode => ErrorCode::NoRaCode,
            E::CardProofRequired => ErrorCode::CardProofRequired,
            E::ManagerRequired => ErrorCode::ManagerRequired,
            E::RenewalNotDue => ErrorCode::RenewalNotDue,
            E::RenewalByRa => ErrorCode::RenewalByRa,
            E::RenewalUnfinished => ErrorCode::RenewalUnfinished,
            E::PasscodeReused(api_types::passcodes::PasscodeKind::AccountRecovery) => {
                ErrorCode::AccountRecoveryPasscodeReused
            }
            E::PasscodeReused(api_types::passcodes::PasscodeKind::Verification) => {
                ErrorCode::VerificationPasscodeReused
            }
            E::NothingToUpdate => ErrorCode::NothingToUpdate,
            E::PasscodesLocked => ErrorCode::PasscodesLocked,
            E::HelpdeskRoleRequired => ErrorCode::HelpdeskRoleRequired,
            E::VerificationLocked => ErrorCode::VerificationLocked,
            E::RecoveryNotRecognised { .. } => ErrorCode::RecoveryNotRecognised,
            E::RecoveryClosed => ErrorCode::RecoveryClosed,
            E::RouteNotOffered => ErrorCode::RouteNotOffered,
            E::NoDeliveryChannel => ErrorCode::NoDeliveryChannel,
            E::DeliveryNotOffered => ErrorCode::DeliveryNotOffered,
            E::BadFilter => ErrorCode::BadRequest,
            E::Store(_) | E::Secrets(_) | E::CardSecret(_) | E::Task(_) | E::Invariant(_) => {
                ErrorCode::Internal
            }
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The body: the code, the tries left where they count, and a diagnostic that never
    /// describes an internal failure.
    pub fn to_api_error(&self) -> ApiError {
        let code = self.code();
        let message = match code {
            ErrorCode::Internal => "internal error".to_owned(),
            _ => self.to_string(),
        };
        let error = ApiError::new(code, message);
        match self {
            AppError::WrongAnswers { tries_left }
            | AppError::CodeInvalid { tries_left }
            | AppError::RecoveryNotRecognised { tries_left } => error.with_tries_left(*tries_left),
            _ => error,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Store(StoreError::Database(error))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // OPS-3: in the request's span, so the line carries its request id. `Display`
            // (and every source's) names the failure, never a secret (ALL-7).
            tracing::error!(error = %crate::trace::Causes(&self), "request failed");
        }
        let body = self.to_api_error();
        // OPS-2: the outcome a flow's metrics count, without reading the body back.
        let code = body.code;
        let mut response = (status, axum::Json(body)).into_response();
        response.extensions_mut().insert(code);
        if let AppError::RateLimited { retry_after } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_2_internal_failures_say_nothing_about_themselves() {
        let error = AppError::Invariant("the PUK column is empty");
        let body = error.to_api_error();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("PUK"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unl_4_tries_left_travel_with_their_codes() {
        let body = AppError::WrongAnswers { tries_left: 2 }.to_api_error();
        assert_eq!(
            (body.code, body.tries_left),
            (ErrorCode::WrongAnswers, Some(2))
        );
        assert_eq!(
            AppError::SelfServiceClosed.status(),
            StatusCode::LOCKED,
            "UNL-4 answers 423"
        );
    }
}
