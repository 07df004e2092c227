//! The server client (same origin, JSON over HTTP with gloo-net): every endpoint is called
//! through [`call`], typed by its `api-types` declaration ([`Endpoint`]), so a screen names
//! the endpoint, the value in its path and its request — never a path, a method or a
//! response type. Every failure becomes a [`Problem`]: the server's own [`ApiError`] when
//! it sent one, else `network`, with the answer's `x-request-id` for the helpdesk (OPS-3).

use api_types::endpoint::{Endpoint, Method};
use api_types::ApiError;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

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

/// Calls endpoint `E`, e.g. `call::<Answers>(&attempt_id, &request)` or
/// `call::<Config>(&(), &())`: a `GET` with the request as its query, or a `POST` of the
/// request as JSON; the typed answer.
pub async fn call<E: Endpoint>(
    params: &E::Params,
    request: &E::Request,
) -> Result<E::Response, Problem> {
    let target = E::target(params, request).map_err(|_| Problem::network())?;
    let built = match E::METHOD {
        Method::Get => Request::get(&target).build(),
        Method::Post => Request::post(&target).json(request),
    };
    send(built, Problem::network).await
}
