//! Notify's error body: `{"status_code": 400, "errors": [{"error": "BadRequestError",
//! "message": "…"}]}`, with the status as the HTTP status too. Schema validation can
//! report several problems at once, each its own entry, as Notify does.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyError {
    pub status: u16,
    pub error: &'static str,
    pub message: String,
    /// Further messages of the same kind (schema validation lists every problem).
    pub also: Vec<String>,
}

impl NotifyError {
    pub fn new(status: u16, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
            also: Vec::new(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    /// Every schema problem found, in the order found, each once (Notify dedupes them).
    pub fn validations(messages: Vec<String>) -> Option<Self> {
        let mut unique: Vec<String> = Vec::new();
        for message in messages {
            if !unique.contains(&message) {
                unique.push(message);
            }
        }
        let mut rest = unique.into_iter();
        let first = rest.next()?;
        let mut error = Self::validation(first);
        error.also = rest.collect();
        Some(error)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequestError", message)
    }

    pub fn body(&self) -> serde_json::Value {
        let errors: Vec<serde_json::Value> = std::iter::once(&self.message)
            .chain(&self.also)
            .map(|message| serde_json::json!({ "error": self.error, "message": message }))
            .collect();
        serde_json::json!({ "status_code": self.status, "errors": errors })
    }
}

impl IntoResponse for NotifyError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}
