//! HTTP edge of registration (REG-1…REG-4): every step needs the session cookie.

use api_types::register::{RegisterBegin, RegisterConfirm, RegisterDetails, RegisterResend};
use axum::extract::State;
use axum::Json;

use super::cookies::SessionCookie;
use super::extract::{ApiJson, Body, Param, Params, Reply, Requester};
use crate::AppState;

pub(super) async fn begin(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<RegisterBegin>,
) -> Reply<RegisterBegin> {
    Ok(Json(
        state
            .register_begin(secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn details(
    State(state): State<AppState>,
    Requester(client): Requester,
    Param(id): Params<RegisterDetails>,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<RegisterDetails>,
) -> Reply<RegisterDetails> {
    Ok(Json(
        state
            .register_details(&id, secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn resend(
    State(state): State<AppState>,
    Requester(client): Requester,
    Param(id): Params<RegisterResend>,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<RegisterResend>,
) -> Reply<RegisterResend> {
    Ok(Json(
        state
            .register_resend(&id, secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    Requester(client): Requester,
    Param(id): Params<RegisterConfirm>,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<RegisterConfirm>,
) -> Reply<RegisterConfirm> {
    Ok(Json(
        state
            .register_confirm(&id, secret.as_ref(), request, &client)
            .await?,
    ))
}
