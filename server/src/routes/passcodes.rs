//! HTTP edge of Manage Passcodes (PASS-1, PASS-2) and the helpdesk check (PASS-5): the
//! session cookie, the Update's id in the path, JSON bodies. Each handler calls one step
//! in [`crate::passcodes`] or [`crate::helpdesk`].

use api_types::helpdesk::HelpdeskCheck;
use api_types::passcodes::{FinishPasscodeUpdate, UpdatePasscodes, ViewPasscodes};
use axum::extract::State;
use axum::Json;

use super::cookies::SessionCookie;
use super::extract::{ApiJson, Body, Param, Params, Reply, Requester};
use crate::AppState;

pub(super) async fn view(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Reply<ViewPasscodes> {
    Ok(Json(state.view_passcodes(secret.as_ref(), &client).await?))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<UpdatePasscodes>,
) -> Reply<UpdatePasscodes> {
    Ok(Json(
        state
            .update_passcodes(secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn finish(
    State(state): State<AppState>,
    Requester(client): Requester,
    Param(id): Params<FinishPasscodeUpdate>,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<FinishPasscodeUpdate>,
) -> Reply<FinishPasscodeUpdate> {
    Ok(Json(
        state
            .finish_passcode_update(&id, secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn helpdesk_check(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<HelpdeskCheck>,
) -> Reply<HelpdeskCheck> {
    Ok(Json(
        state
            .helpdesk_check(secret.as_ref(), request, &client)
            .await?,
    ))
}
