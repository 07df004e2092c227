//! HTTP edge of registration (REG-1…REG-4): every step needs the session cookie.

use api_types::register::{RegisterBegin, RegisterConfirm, RegisterDetails, RegisterResend};
use api_types::unlock::Endpoint;
use axum::extract::State;
use axum::Json;

use super::{ApiJson, AttemptPath, Requester, SessionCookie};
use crate::{AppError, AppState};

type Reply<E> = Result<Json<<E as Endpoint>::Response>, AppError>;

pub(super) async fn begin(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): ApiJson<<RegisterBegin as Endpoint>::Request>,
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
    AttemptPath(id): AttemptPath,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): ApiJson<<RegisterDetails as Endpoint>::Request>,
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
    AttemptPath(id): AttemptPath,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): ApiJson<<RegisterResend as Endpoint>::Request>,
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
    AttemptPath(id): AttemptPath,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): ApiJson<<RegisterConfirm as Endpoint>::Request>,
) -> Reply<RegisterConfirm> {
    Ok(Json(
        state
            .register_confirm(&id, secret.as_ref(), request, &client)
            .await?,
    ))
}
