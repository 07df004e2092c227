//! Every refusal and failure the bridge can give, each with a stable [`ErrorCode`]
//! (ALL-2, BRG-2, BRG-4, BRG-5, BRG-6, CARD-5, AUTH-1). The HTTP status comes from
//! [`ErrorCode::http_status`], the one mapping the server uses too.

use api_types::{ApiError, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bridge_grant::GrantError;
use card_protocol::client::{PivError, TransportError};

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("This request's Host is not the card bridge's own address.")]
    HostNotAllowed,
    #[error("This web page is not allowed to use the card bridge.")]
    OriginNotAllowed,
    #[error("Requests must have Content-Type: application/json.")]
    UnsupportedMediaType,
    #[error("Requests must carry the x-card-bridge: 1 header.")]
    MissingBridgeHeader,
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("Bad request: {0}")]
    BadRequest(String),
    #[error("No such endpoint.")]
    NotFound,
    #[error("This endpoint does not take that method.")]
    MethodNotAllowed,
    #[error("No smartcard reader is connected.")]
    NoReader,
    #[error("No smartcard is inserted.")]
    NoCard,
    #[error("The smartcard was removed before the operation finished. Reinsert it and try again.")]
    CardRemoved,
    #[error("The smartcard was taken out or changed since this operation began. Start again.")]
    CardChanged,
    #[error("The smartcard is busy. Try again in a moment.")]
    CardBusy,
    #[error("The smartcard could not complete the operation: {0}")]
    CardError(String),
    /// The card answered `6A88` to signing with slot 9A (AUTH-1): never issued a login key.
    #[error("This smartcard has no login key (PIV slot 9A): it has not been issued for smartcard login.")]
    NoLoginKey,
    #[error("The smartcard service (PC/SC) is not running on this computer.")]
    PcscUnavailable,
    #[error("The passcode was not accepted by the card.")]
    WrongPin { tries_left: u8 },
    #[error("The smartcard passcode is blocked.")]
    PinBlocked,
    #[error("Only one passcode try is left: it is spent only when the user confirms.")]
    LastTryNeedsConfirmation,
    #[error("The card refuses a passcode it has had in its last five changes.")]
    PinReused,
    #[error("The server's permission for this card operation was refused: {0}.")]
    Grant(#[from] GrantError),
    #[error("Internal error in the card bridge.")]
    Internal(String),
}

impl BridgeError {
    pub fn code(&self) -> ErrorCode {
        use BridgeError as E;
        match self {
            E::HostNotAllowed => ErrorCode::HostNotAllowed,
            E::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            E::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            E::MissingBridgeHeader => ErrorCode::MissingBridgeHeader,
            E::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            E::BadRequest(_) => ErrorCode::BadRequest,
            E::NotFound => ErrorCode::NotFound,
            E::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            E::NoReader => ErrorCode::NoReader,
            E::NoCard => ErrorCode::NoCard,
            E::CardRemoved => ErrorCode::CardRemoved,
            E::CardChanged => ErrorCode::CardChanged,
            E::CardBusy => ErrorCode::CardBusy,
            E::CardError(_) | E::NoLoginKey => ErrorCode::CardError,
            E::PcscUnavailable => ErrorCode::PcscUnavailable,
            E::WrongPin { .. } => ErrorCode::WrongPin,
            E::PinBlocked => ErrorCode::PinBlocked,
            E::LastTryNeedsConfirmation => ErrorCode::LastTryNeedsConfirmation,
            E::PinReused => ErrorCode::PinReused,
            E::Grant(grant) => grant_code(*grant),
            E::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn to_api_error(&self) -> ApiError {
        // Internal details stay in the log, not in the answer.
        let message = match self {
            BridgeError::Internal(_) => "Internal error in the card bridge.".to_owned(),
            other => other.to_string(),
        };
        let error = ApiError::new(self.code(), message);
        match self {
            BridgeError::WrongPin { tries_left } => error.with_tries_left(u32::from(*tries_left)),
            BridgeError::LastTryNeedsConfirmation => error.with_tries_left(1),
            _ => error,
        }
    }
}

fn grant_code(error: GrantError) -> ErrorCode {
    match error {
        GrantError::Missing => ErrorCode::GrantMissing,
        GrantError::Invalid => ErrorCode::GrantInvalid,
        GrantError::Expired => ErrorCode::GrantExpired,
        GrantError::Replayed => ErrorCode::GrantReplayed,
        GrantError::WrongOrigin => ErrorCode::GrantWrongOrigin,
        GrantError::WrongCard => ErrorCode::GrantWrongCard,
        GrantError::WrongOperation => ErrorCode::GrantWrongOperation,
        GrantError::WrongScript => ErrorCode::GrantWrongScript,
        GrantError::WrongAttempt => ErrorCode::GrantWrongAttempt,
    }
}

impl IntoResponse for BridgeError {
    fn into_response(self) -> Response {
        match &self {
            BridgeError::Internal(detail) | BridgeError::CardError(detail) => {
                tracing::warn!(%detail, "card bridge error");
            }
            BridgeError::Grant(grant) => tracing::info!(%grant, "grant refused"),
            BridgeError::NoLoginKey => tracing::info!("card login on a card with no 9A key"),
            _ => {}
        }
        (self.status(), axum::Json(self.to_api_error())).into_response()
    }
}

impl From<TransportError> for BridgeError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::CardRemoved => BridgeError::CardRemoved,
            TransportError::NoCard => BridgeError::NoCard,
            TransportError::Timeout => BridgeError::CardBusy,
            TransportError::Other(detail) => BridgeError::CardError(detail),
        }
    }
}

impl From<PivError> for BridgeError {
    fn from(e: PivError) -> Self {
        match e {
            PivError::Transport(t) => t.into(),
            PivError::WrongPin { tries_left } => BridgeError::WrongPin { tries_left },
            PivError::Blocked => BridgeError::PinBlocked,
            PivError::PinReused => BridgeError::PinReused,
            PivError::Pin(p) => BridgeError::BadRequest(p.to_string()),
            other @ (PivError::WrongPuk { .. }
            | PivError::PukBlocked
            | PivError::Apdu(_)
            | PivError::Tlv(_)
            | PivError::Status { .. }
            | PivError::Malformed(_)) => BridgeError::CardError(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_2_every_bridge_error_has_the_status_of_its_code() {
        let errors = [
            BridgeError::Grant(GrantError::Expired),
            BridgeError::Grant(GrantError::Replayed),
            BridgeError::PinReused,
            BridgeError::LastTryNeedsConfirmation,
            BridgeError::CardChanged,
            BridgeError::NoLoginKey,
        ];
        for error in errors {
            assert_eq!(error.status().as_u16(), error.code().http_status());
        }
        let last = BridgeError::LastTryNeedsConfirmation.to_api_error();
        assert_eq!(last.tries_left, Some(1));
    }
}
