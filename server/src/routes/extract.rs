//! What handlers take from a request, each refusal an [`AppError`] (ALL-2): the JSON body
//! and the query an endpoint declares, the value in its route, and who is asking. Values
//! are parsed by their `api-types` newtypes on the way in, so a handler only ever holds
//! valid ones.

use std::net::SocketAddr;

use api_types::Endpoint;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::flow::client::client_addr;
use crate::flow::Client;
use crate::{AppError, AppState};

/// The JSON body endpoint `E` declares.
pub type Body<E> = ApiJson<<E as Endpoint>::Request>;
/// The query endpoint `E` declares.
pub type QueryOf<E> = ApiQuery<<E as Endpoint>::Request>;
/// The value in endpoint `E`'s route.
pub type Params<E> = Param<<E as Endpoint>::Params>;
/// Endpoint `E`'s JSON answer, or the refusal.
pub type Reply<E> = Result<Json<<E as Endpoint>::Response>, AppError>;

/// JSON body extractor whose refusals are [`AppError`]s (ALL-2).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

/// A query string whose refusal is an [`AppError`].
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|_| AppError::BadFilter)
    }
}

/// The value in the route's `{…}` (an attempt's id, a user's UUID, a report's id); any
/// other shape is simply not found, never echoed.
pub struct Param<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Param<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Param(value))
            .map_err(|_| AppError::NotFound)
    }
}

/// The requester: the peer, or behind a trusted proxy its `X-Forwarded-For` (ALL-5).
pub struct Requester(pub Client);

impl FromRequestParts<AppState> for Requester {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Invariant("no peer address"))?;
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let addr = client_addr(peer.ip(), &forwarded, &state.settings.trusted_proxies);
        Ok(Requester(Client { addr }))
    }
}
