//! HTTP edge of the self-service unlock (UNL-1…UNL-8, CARD-3): the flow cookie set at the
//! start and sent back with every step, the attempt's id in the path, JSON bodies. Each
//! handler calls one step in [`crate::unlock`].

use api_types::recovery::{Recovery, SendCode};
use api_types::unlock::{
    Answers, CardProof, Channel, Code, Complete, RaCode, Resume, Script, Start,
};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::cookies::{flow_cookie, FlowCookie};
use super::extract::{ApiJson, Body, Param, Params, Reply, Requester};
use crate::unlock::Started;
use crate::{AppError, AppState};

/// 201 with the flow cookie that every later step of the attempt must send back.
pub(super) async fn start(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): Body<Start>,
) -> Result<impl IntoResponse, AppError> {
    let Started { response, flow } = state.start(request, &client).await?;
    let cookie = flow_cookie(&state, &flow)?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(response),
    ))
}

pub(super) async fn resume(
    State(state): State<AppState>,
    Requester(client): Requester,
    FlowCookie(flow): FlowCookie,
    ApiJson(request): Body<Resume>,
) -> Reply<Resume> {
    Ok(Json(state.resume(flow.as_ref(), request, &client).await?))
}

/// The steps of an existing attempt, each served alike: the attempt's id from the path,
/// the flow cookie, the JSON body, and the `AppState` step of the handler's own name
/// (`card_proof` calls `state.card_proof`).
macro_rules! attempt_steps {
    ($($step:ident: $endpoint:ty),+ $(,)?) => {$(
        pub(super) async fn $step(
            State(state): State<AppState>,
            Requester(client): Requester,
            Param(id): Params<$endpoint>,
            FlowCookie(flow): FlowCookie,
            ApiJson(request): Body<$endpoint>,
        ) -> Reply<$endpoint> {
            Ok(Json(state.$step(&id, flow.as_ref(), request, &client).await?))
        }
    )+};
}

attempt_steps!(
    card_proof: CardProof,
    answers: Answers,
    recovery: Recovery,
    send_code: SendCode,
    code: Code,
    ra_code: RaCode,
    channel: Channel,
    script: Script,
    complete: Complete,
);
