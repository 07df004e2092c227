//! Every way a request can fail, with one exhaustive mapping to an HTTP status and a
//! stable [`ErrorCode`] the page shows (ALL-2).

use api_types::{ApiError, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("Not found.")]
    NotFound,
    #[error("This address does not take that method.")]
    MethodNotAllowed,
    #[error("This smartcard is not known to the self-service system.")]
    UnknownCard,
    #[error("This smartcard's owner has not registered for self-service unlock.")]
    NotRegistered { help: String },
    #[error("The smartcard could not prove it is genuine.")]
    CardNotGenuine,
    #[error("Self-service unlock is closed for this account after 3 failed attempts.")]
    SelfServiceClosed { help: String },
    #[error("One or more answers were not right.")]
    WrongAnswers { tries_left: u32 },
    #[error("This unlock attempt has expired. Please start again.")]
    AttemptExpired,
    #[error("{0}")]
    WrongStep(&'static str),
    #[error("That unlock code is not right.")]
    CodeInvalid { tries_left: u32 },
    #[error("That unlock code has expired. Please start again.")]
    CodeExpired,
    #[error("Too many wrong unlock codes. Please start again.")]
    CodeTriesExhausted,
    #[error("The smartcard was not updated: {0}")]
    CardUpdateFailed(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use AppError as E;
        match self {
            E::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            E::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            E::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            E::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            E::UnknownCard => (StatusCode::NOT_FOUND, ErrorCode::UnknownCard),
            E::NotRegistered { .. } => (StatusCode::FORBIDDEN, ErrorCode::NotRegistered),
            E::CardNotGenuine => (StatusCode::FORBIDDEN, ErrorCode::CardNotGenuine),
            E::SelfServiceClosed { .. } => (StatusCode::LOCKED, ErrorCode::SelfServiceClosed),
            E::WrongAnswers { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::WrongAnswers),
            E::AttemptExpired => (StatusCode::GONE, ErrorCode::AttemptExpired),
            E::WrongStep(_) => (StatusCode::CONFLICT, ErrorCode::WrongStep),
            E::CodeInvalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CodeInvalid),
            E::CodeExpired => (StatusCode::GONE, ErrorCode::CodeExpired),
            E::CodeTriesExhausted => (StatusCode::GONE, ErrorCode::CodeTriesExhausted),
            E::CardUpdateFailed(_) => (StatusCode::CONFLICT, ErrorCode::CardUpdateFailed),
            E::Database(_) | E::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
            }
        }
    }

    pub fn to_api_error(&self) -> ApiError {
        let (_, code) = self.status_and_code();
        match self {
            AppError::Database(_) | AppError::Internal(_) => {
                ApiError::new(code, "Something went wrong on our side. Please try again.")
            }
            AppError::NotRegistered { help } | AppError::SelfServiceClosed { help } => {
                ApiError::new(code, self.to_string()).with_help(help.clone())
            }
            AppError::WrongAnswers { tries_left } | AppError::CodeInvalid { tries_left } => {
                ApiError::new(code, self.to_string()).with_tries_left(*tries_left)
            }
            other => ApiError::new(code, other.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, axum::Json(self.to_api_error())).into_response()
    }
}
