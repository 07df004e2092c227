//! The bridge's endpoints (BRG-1), behind the request guard (BRG-2). Handlers parse their
//! input, check the server's grant where the card changes (BRG-5), then hand one job to
//! the card worker. No endpoint takes raw APDUs from a page: a relay only sends the
//! server-built commands its grant covers, byte for byte.
//!
//! - [`card`]: status, card events (WebSocket), the CARD-6 challenge signature;
//! - [`relay`]: the secure channel's opening and its sealed scripts (CARD-3, BRG-5);
//! - [`pin`]: the local PIN change and PIN verification (BRG-6, CARD-5);
//! - [`login`]: card login — the PIN verified, then the server's challenge signed with
//!   the 9A key, in one card job (AUTH-1, BRG-6).

mod card;
mod login;
mod pin;
mod relay;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use api_types::bridge::{
    CardEvent, PATH_CARD_LOGIN, PATH_CHANGE_PIN, PATH_EVENTS, PATH_RELAY, PATH_SIGN_CHALLENGE,
    PATH_STATUS, PATH_VERIFY_PIN,
};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use zeroize::Zeroize;

use crate::grants::Grants;
use crate::security::{guard, Security};
use crate::{BridgeError, CardWorker};

pub use pin::may_spend_a_try;
pub use relay::{OpenedChannels, MAX_RELAY_COMMANDS};

/// Request bodies are tiny; anything bigger is refused before parsing (BRG-2).
pub const BODY_LIMIT: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub worker: CardWorker,
    pub events: broadcast::Sender<CardEvent>,
    pub security: Arc<Security>,
    pub grants: Arc<Grants>,
    /// The card each reader's secure channel was opened to (see [`relay`]).
    pub channels: Arc<Mutex<OpenedChannels>>,
    /// When the bridge's HTTPS certificate ends (BRG-7), unix seconds.
    pub certificate_expires_at: Option<i64>,
}

impl AppState {
    pub fn new(
        worker: CardWorker,
        events: broadcast::Sender<CardEvent>,
        security: Security,
        grants: Grants,
        certificate_expires_at: Option<i64>,
    ) -> Self {
        Self {
            worker,
            events,
            security: Arc::new(security),
            grants: Arc::new(grants),
            channels: Arc::default(),
            certificate_expires_at,
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(PATH_STATUS, get(card::status))
        .route(PATH_EVENTS, get(card::events))
        .route(PATH_SIGN_CHALLENGE, post(card::sign_challenge))
        .route(PATH_RELAY, post(relay::relay))
        .route(PATH_CHANGE_PIN, post(pin::change_pin))
        .route(PATH_VERIFY_PIN, post(pin::verify_pin))
        .route(PATH_CARD_LOGIN, post(login::card_login))
        .fallback(|| async { BridgeError::NotFound })
        .method_not_allowed_fallback(|| async { BridgeError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.security.clone(),
            guard,
        ))
        .with_state(state)
}

/// JSON body extractor whose refusals are [`BridgeError`]s, not axum's plain text. The
/// body's bytes — a passcode, for the PIN routes — are wiped once parsed (BRG-6).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BridgeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !https_serve::is_json(request.headers()) {
            return Err(BridgeError::UnsupportedMediaType);
        }
        let body = match Bytes::from_request(request, state).await {
            Ok(body) => body,
            Err(too_large) if too_large.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(BridgeError::PayloadTooLarge)
            }
            Err(other) => return Err(BridgeError::BadRequest(other.body_text())),
        };
        let parsed = Json::<T>::from_bytes(&body);
        wipe(body);
        match parsed {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(BridgeError::BadRequest(rejection.body_text())),
        }
    }
}

/// Zeroes a request body we alone hold (a shared buffer is left to its other owner);
/// true when it was wiped.
fn wipe(body: Bytes) -> bool {
    match body.try_into_mut() {
        Ok(mut only_ours) => {
            only_ours.as_mut().zeroize();
            true
        }
        Err(_) => false,
    }
}

/// The page's origin, which a grant must name. The guard has already refused any request
/// whose Origin is missing or not allowed.
fn request_origin(headers: &HeaderMap) -> Result<&str, BridgeError> {
    headers
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .ok_or(BridgeError::OriginNotAllowed)
}

/// A poisoned lock still holds consistent data here: every update is one assignment.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brg_6_a_body_only_we_hold_is_wiped_and_a_shared_one_left_alone() {
        let ours = Bytes::from(br#"{"pin":"1234"}"#.to_vec());
        assert!(wipe(ours));
        let shared = Bytes::from(br#"{"pin":"1234"}"#.to_vec());
        let other = shared.clone();
        assert!(!wipe(shared));
        assert_eq!(&other[..], br#"{"pin":"1234"}"#);
    }
}
