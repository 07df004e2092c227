//! Every refusal and failure the bridge can give, with one exhaustive mapping to an HTTP
//! status and a stable [`ErrorCode`] (ALL-2, BRG-2, BRG-4).

use api_types::passcode::PasscodeError;
use api_types::{ApiError, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
    #[error("A different smartcard was inserted. Reinsert the card you started with.")]
    CardChanged,
    #[error("The smartcard is busy. Try again in a moment.")]
    CardBusy,
    #[error("The smartcard could not complete the operation: {0}")]
    CardError(String),
    #[error("The smartcard service (PC/SC) is not running on this computer.")]
    PcscUnavailable,
    #[error("The passcode was not accepted by the card.")]
    WrongPin { tries_left: u8 },
    #[error("The smartcard passcode is blocked.")]
    PinBlocked,
    #[error("{0}")]
    InvalidPasscode(#[from] PasscodeError),
    #[error("Command not allowed: {0}")]
    CommandNotAllowed(String),
    #[error("Internal error in the card bridge.")]
    Internal(String),
}

impl BridgeError {
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use BridgeError as E;
        match self {
            E::HostNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::HostNotAllowed),
            E::OriginNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::OriginNotAllowed),
            E::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            E::MissingBridgeHeader => (StatusCode::FORBIDDEN, ErrorCode::MissingBridgeHeader),
            E::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            E::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            E::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            E::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            E::NoReader => (StatusCode::CONFLICT, ErrorCode::NoReader),
            E::NoCard => (StatusCode::CONFLICT, ErrorCode::NoCard),
            E::CardRemoved => (StatusCode::CONFLICT, ErrorCode::CardRemoved),
            E::CardChanged => (StatusCode::CONFLICT, ErrorCode::CardChanged),
            E::CardBusy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::CardBusy),
            E::CardError(_) => (StatusCode::BAD_GATEWAY, ErrorCode::CardError),
            E::PcscUnavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::PcscUnavailable),
            E::WrongPin { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::WrongPin),
            E::PinBlocked => (StatusCode::LOCKED, ErrorCode::PinBlocked),
            E::InvalidPasscode(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidPasscode),
            E::CommandNotAllowed(_) => (StatusCode::FORBIDDEN, ErrorCode::CommandNotAllowed),
            E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }

    pub fn to_api_error(&self) -> ApiError {
        let (_, code) = self.status_and_code();
        // Internal details stay in the log, not in the answer.
        let message = match self {
            BridgeError::Internal(_) => "Internal error in the card bridge.".to_owned(),
            other => other.to_string(),
        };
        let error = ApiError::new(code, message);
        match self {
            BridgeError::WrongPin { tries_left } => error.with_tries_left(u32::from(*tries_left)),
            _ => error,
        }
    }
}

impl IntoResponse for BridgeError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let BridgeError::Internal(detail) | BridgeError::CardError(detail) = &self {
            tracing::warn!(%detail, "card bridge error");
        }
        (status, axum::Json(self.to_api_error())).into_response()
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
