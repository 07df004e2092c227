//! The request guard in front of every bridge endpoint (BRG-2):
//! - the Host header must be the bridge's own loopback name and port (DNS rebinding);
//! - the Origin must be on the exact allow-list (plain HTTP and WebSocket upgrade alike);
//! - preflights (CORS and Chrome's Private/Local Network Access) are answered for allowed
//!   origins only;
//! - every non-WebSocket call needs `Content-Type: application/json` and the custom
//!   header, so no "simple request" reaches a handler;
//! - allowed answers echo the exact origin with `Vary: Origin`, never `*`.

use std::sync::Arc;

use api_types::bridge::{BRIDGE_HEADER, BRIDGE_HEADER_VALUE};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::BridgeError;

const ALLOWED_METHODS: &str = "GET, POST";
const ALLOWED_REQUEST_HEADERS: [&str; 2] = ["content-type", BRIDGE_HEADER];
const PNA_REQUEST: &str = "access-control-request-private-network";
const PNA_ALLOW: &str = "access-control-allow-private-network";
const LNA_REQUEST: &str = "access-control-request-local-network";
const LNA_ALLOW: &str = "access-control-allow-local-network";

pub struct Security {
    allowed_hosts: [String; 2],
    allowed_origins: Vec<String>,
}

impl Security {
    pub fn new(port: u16, allowed_origins: Vec<String>) -> Self {
        Self {
            allowed_hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            allowed_origins,
        }
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        matches!(host, Some(host) if self.allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(host)))
    }

    /// The request's Origin, if it is exactly one of the allowed ones.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allowed_origins
            .iter()
            .any(|allowed| allowed == text)
            .then(|| origin.clone())
    }
}

fn vary_origin(response: &mut Response) {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
}

fn with_cors(mut response: Response, origin: HeaderValue) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    vary_origin(&mut response);
    response
}

fn refuse(error: BridgeError) -> Response {
    let mut response = error.into_response();
    vary_origin(&mut response);
    response
}

fn is_websocket_upgrade(request: &Request) -> bool {
    request.method() == Method::GET
        && request
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn preflight(request_headers: &HeaderMap, origin: HeaderValue) -> Response {
    let method_ok = request_headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|m| m == "GET" || m == "POST");
    let headers_ok = request_headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .all(|h| {
            ALLOWED_REQUEST_HEADERS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h))
        });
    if !method_ok || !headers_ok {
        return refuse(BridgeError::BadRequest(
            "preflight asks for a method or header the bridge does not allow".into(),
        ));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, x-card-bridge"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    for (asked, allow) in [(PNA_REQUEST, PNA_ALLOW), (LNA_REQUEST, LNA_ALLOW)] {
        let wanted = request_headers
            .get(asked)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        if wanted {
            headers.insert(
                HeaderName::from_static(allow),
                HeaderValue::from_static("true"),
            );
        }
    }
    with_cors(response, origin)
}

/// The guard itself, as axum middleware.
pub async fn guard(
    State(security): State<Arc<Security>>,
    request: Request,
    next: Next,
) -> Response {
    if !security.host_allowed(request.headers()) {
        return refuse(BridgeError::HostNotAllowed);
    }
    let Some(origin) = security.allowed_origin(request.headers()) else {
        return refuse(BridgeError::OriginNotAllowed);
    };
    if request.method() == Method::OPTIONS {
        return preflight(request.headers(), origin);
    }
    if !is_websocket_upgrade(&request) {
        let header_ok = request
            .headers()
            .get(BRIDGE_HEADER)
            .is_some_and(|v| v.as_bytes() == BRIDGE_HEADER_VALUE.as_bytes());
        if !header_ok {
            return with_cors(BridgeError::MissingBridgeHeader.into_response(), origin);
        }
        if !https_serve::is_json(request.headers()) {
            return with_cors(BridgeError::UnsupportedMediaType.into_response(), origin);
        }
    }
    with_cors(next.run(request).await, origin)
}
