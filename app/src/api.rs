//! The server client (same origin, JSON over HTTP with gloo-net), typed per endpoint by
//! [`Endpoint`]: a screen names the step, never a path or a response type. Every failure
//! becomes a [`Problem`]: the server's own [`ApiError`] when it sent one, else `network`,
//! with the answer's `x-request-id` for the helpdesk (OPS-3).

use api_types::auth::{SessionInfo, PATH_SESSION};
use api_types::unlock::{
    Endpoint, PublicConfig, Resume, ResumeRequest, ResumeResponse, Start, StartRequest,
    StartResponse, PATH_CONFIG,
};
use api_types::{ApiError, AttemptId};
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
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(String::into_boxed_str);
    let problem = |problem: Problem| Problem {
        request_id: request_id.clone(),
        ..problem
    };
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|_| problem(unreachable()));
    }
    match response.json::<ApiError>().await {
        Ok(error) => Err(problem(error.into())),
        Err(_) => Err(problem(unreachable())),
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

/// `GET`s `path` (with its query, if any) and reads the JSON answer.
pub(crate) async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Problem> {
    send(Request::get(path).build(), Problem::network).await
}

/// `POST`s `body` as JSON to `path` and reads the JSON answer.
pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, Problem> {
    send(Request::post(path).json(body), Problem::network).await
}

/// `GET /api/config`: the organisation's settings and where the card bridge is (ALL-4).
pub async fn config() -> Result<PublicConfig, Problem> {
    get(PATH_CONFIG).await
}

/// `GET /api/auth/session`: who is signed in on this browser, or `not_signed_in`.
pub async fn session() -> Result<SessionInfo, Problem> {
    get(PATH_SESSION).await
}

/// `POST`s one endpoint's request as JSON to `path` and reads its response.
pub(crate) async fn call<E: Endpoint>(
    path: &str,
    request: &E::Request,
) -> Result<E::Response, Problem> {
    post(path, request).await
}

/// UNL-1: starts an attempt for the card in the reader.
pub async fn start(request: &StartRequest) -> Result<StartResponse, Problem> {
    call::<Start>(Start::ROUTE, request).await
}

/// After a reload: this browser's attempt for this card, if its card update was under way.
pub async fn resume(request: &ResumeRequest) -> Result<ResumeResponse, Problem> {
    call::<Resume>(Resume::ROUTE, request).await
}

/// One step of an existing attempt, e.g. `step::<Answers>(&id, &request)`.
pub async fn step<E: Endpoint>(
    attempt: &AttemptId,
    request: &E::Request,
) -> Result<E::Response, Problem> {
    call::<E>(&E::path(attempt), request).await
}
