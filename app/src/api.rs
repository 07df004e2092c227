//! The server client (same origin, JSON over HTTP with gloo-net). Every failure becomes a
//! [`Problem`]: the server's own [`ApiError`] when it sent one, else `network`.

use api_types::unlock::PublicConfig;
use api_types::ApiError;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::errors::Problem;

/// Reads a JSON answer: the body on success, the [`ApiError`] body otherwise.
/// `unreachable` names the problem when there is no readable answer at all.
pub(crate) async fn answer<T: DeserializeOwned>(
    response: Response,
    unreachable: fn() -> Problem,
) -> Result<T, Problem> {
    if response.ok() {
        return response.json::<T>().await.map_err(|_| unreachable());
    }
    match response.json::<ApiError>().await {
        Ok(error) => Err(error.into()),
        Err(_) => Err(unreachable()),
    }
}

/// Sends a built request and reads its answer.
pub(crate) async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
    unreachable: fn() -> Problem,
) -> Result<T, Problem> {
    let response = request
        .map_err(|_| unreachable())?
        .send()
        .await
        .map_err(|_| unreachable())?;
    answer(response, unreachable).await
}

/// `GET /api/config`: the organisation's settings and where the card bridge is (ALL-4).
pub async fn config() -> Result<PublicConfig, Problem> {
    send(Request::get("/api/config").build(), Problem::network).await
}

/// `POST` a JSON body to the server.
pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, Problem> {
    send(Request::post(path).json(body), Problem::network).await
}
