//! The server client (same origin, JSON over HTTP with gloo-net): every endpoint is called
//! through [`call`], typed by its `api-types` declaration ([`Endpoint`]), so a screen names
//! the endpoint, the value in its path and its request — never a path, a method or a
//! response type. Every failure becomes a [`Problem`]: the server's own [`ApiError`] when
//! it sent one, else `network`, with the answer's `x-request-id` for the helpdesk (OPS-3).

use api_types::endpoint::{Endpoint, Method};
use api_types::ApiError;
use gloo_net::http::Request;
use serde::de::DeserializeOwned;

use crate::errors::Problem;

/// A successful answer's body, and its request id for the helpdesk.
struct Answer {
    request_id: Option<Box<str>>,
    body: String,
}

/// Sends a built request and reads its answer's body: the body of a success, or the
/// [`ApiError`] (or `unreachable`) of a failure. Not generic, so the WASM carries it once
/// rather than once per response type (issue 18: 12.7 KB brotli).
async fn fetch(
    request: Result<Request, gloo_net::Error>,
    unreachable: fn() -> Problem,
) -> Result<Answer, Problem> {
    let response = request
        .map_err(|_| unreachable())?
        .send()
        .await
        .map_err(|_| unreachable())?;
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(String::into_boxed_str);
    let ok = response.ok();
    let problem = |problem: Problem| Problem {
        request_id: request_id.clone(),
        ..problem
    };
    match response.text().await {
        Ok(body) if ok => Ok(Answer {
            request_id: request_id.clone(),
            body,
        }),
        Ok(body) => Err(match serde_json::from_str::<ApiError>(&body) {
            Ok(error) => problem(error.into()),
            Err(_) => problem(unreachable()),
        }),
        Err(_) => Err(problem(unreachable())),
    }
}

/// Sends a built request and reads its JSON answer.
pub(crate) async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
    unreachable: fn() -> Problem,
) -> Result<T, Problem> {
    let answer = fetch(request, unreachable).await?;
    serde_json::from_str(&answer.body).map_err(|_| Problem {
        request_id: answer.request_id,
        ..unreachable()
    })
}

/// Calls endpoint `E`, e.g. `call::<Answers>(&attempt_id, &request)` or
/// `call::<Config>(&(), &())`: a `GET` with the request as its query, or a `POST` of the
/// request as JSON; the typed answer. The request is built before the future (so the
/// future holds no borrowed parameters and only [`send`]'s small generic part).
pub fn call<E: Endpoint>(
    params: &E::Params,
    request: &E::Request,
) -> impl std::future::Future<Output = Result<E::Response, Problem>> + use<E> {
    let built = match E::target(params, request) {
        Ok(target) => match E::METHOD {
            Method::Get => Request::get(&target).build(),
            Method::Post => Request::post(&target).json(request),
        },
        Err(_) => Err(gloo_net::Error::GlooError(
            "no address for this request".into(),
        )),
    };
    send(built, Problem::network)
}
