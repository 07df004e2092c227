//! HTTP to the server (same origin) and to the card bridge (127.0.0.1, its own origin:
//! every call carries the JSON content type and the bridge's custom header, BRG-2).

use api_types::bridge::{BRIDGE_HEADER, BRIDGE_HEADER_VALUE};
use api_types::unlock::PublicConfig;
use api_types::ApiError;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::problem::Problem;

async fn answer<T: DeserializeOwned>(
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

async fn send<T: DeserializeOwned>(
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

pub async fn server_config() -> Result<PublicConfig, Problem> {
    send(Request::get("/api/config").build(), Problem::network).await
}

pub async fn server_post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, Problem> {
    send(Request::post(path).json(body), Problem::network).await
}

fn bridge_request(builder: RequestBuilder) -> RequestBuilder {
    builder
        .header("content-type", "application/json")
        .header(BRIDGE_HEADER, BRIDGE_HEADER_VALUE)
}

pub async fn bridge_get<T: DeserializeOwned>(bridge_url: &str, path: &str) -> Result<T, Problem> {
    let request = bridge_request(Request::get(&format!("{bridge_url}{path}"))).build();
    send(request, Problem::bridge_unreachable).await
}

pub async fn bridge_post<B: Serialize, T: DeserializeOwned>(
    bridge_url: &str,
    path: &str,
    body: &B,
) -> Result<T, Problem> {
    let request = bridge_request(Request::post(&format!("{bridge_url}{path}"))).json(body);
    send(request, Problem::bridge_unreachable).await
}
