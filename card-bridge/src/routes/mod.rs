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
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;

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

/// JSON body extractor whose refusals are [`BridgeError`]s, not axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = BridgeError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => BridgeError::UnsupportedMediaType,
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    BridgeError::PayloadTooLarge
                }
                other => BridgeError::BadRequest(other.body_text()),
            }),
        }
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
