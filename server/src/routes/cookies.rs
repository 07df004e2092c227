//! Our cookies (ALL-6): the unlock's flow cookie and the session cookie (AUTH-2) —
//! HttpOnly, SameSite=Strict, the whole site, and `__Host-` with Secure whenever the page
//! is served over HTTPS — set by handlers and read back by extractors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};

use crate::secrets::FlowSecret;
use crate::{AppError, AppState};

/// Our cookies' names: `__Host-` (so only this exact origin, over HTTPS, can set them)
/// whenever the page is served over HTTPS; a plain name only for an `http://` demo.
fn cookie_name(state: &AppState, plain: &'static str, host: &'static str) -> &'static str {
    if state.settings.public_origin_is_https() {
        host
    } else {
        plain
    }
}

/// One of our cookies: HttpOnly, SameSite=Strict, the whole site, Secure on HTTPS.
/// `Max-Age` 0 clears it.
fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, AppError> {
    let secure = if state.settings.public_origin_is_https() {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).map_err(|_| AppError::Invariant("cookie header"))
}

/// The value of the cookie `name` in a request, if sent.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn flow_cookie_name(state: &AppState) -> &'static str {
    cookie_name(state, "scss-flow", "__Host-scss-flow")
}

/// The unlock's flow cookie, for as long as an attempt lives.
pub(super) fn flow_cookie(state: &AppState, flow: &FlowSecret) -> Result<HeaderValue, AppError> {
    let max_age = crate::unlock::rules::ATTEMPT_TTL;
    cookie(
        state,
        flow_cookie_name(state),
        &flow.cookie_value(),
        max_age,
    )
}

/// The flow secret this browser sent, if any.
pub struct FlowCookie(pub Option<FlowSecret>);

impl FromRequestParts<AppState> for FlowCookie {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let value = cookie_value(&parts.headers, flow_cookie_name(state));
        Ok(FlowCookie(value.and_then(|v| FlowSecret::parse(&v))))
    }
}

fn session_cookie_name(state: &AppState) -> &'static str {
    cookie_name(state, "scss-session", "__Host-scss-session")
}

/// The session cookie (AUTH-2); `Max-Age` 0 clears it.
pub(super) fn session_cookie(
    state: &AppState,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, AppError> {
    cookie(state, session_cookie_name(state), value, max_age)
}

/// The session secret this browser sent, if any.
pub struct SessionCookie(pub Option<FlowSecret>);

impl FromRequestParts<AppState> for SessionCookie {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let value = cookie_value(&parts.headers, session_cookie_name(state));
        Ok(SessionCookie(value.and_then(|v| FlowSecret::parse(&v))))
    }
}
