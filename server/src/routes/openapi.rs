//! OPS-1: `/api/openapi.json`, the document of every endpoint (built with the router, from
//! the same declarations) and of the probes, made once at start-up.

use std::sync::Arc;

use api_types::openapi::ApiDocument;
use api_types::ops::{Readiness, READYZ};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

pub(super) const PATH: &str = "/api/openapi.json";

/// The finished document as JSON.
pub(super) fn document(mut document: ApiDocument) -> Arc<str> {
    document.add_get::<Readiness>(READYZ, "Ready", "OPS-4: whether this instance can serve.");
    let built = document.build("Smartcard Self-Service", env!("CARGO_PKG_VERSION"));
    match serde_json::to_string(&built) {
        Ok(json) => json.into(),
        // Startup-only, and the document is made of our own types.
        Err(error) => format!("{{\"error\":\"{error}\"}}").into(),
    }
}

pub(super) async fn serve(document: Arc<str>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document.to_string(),
    )
        .into_response()
}
