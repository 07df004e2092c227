//! HTTP edge of card login and sessions (AUTH-1, AUTH-2), "My card" (REG-5) and "this
//! wasn't me": the session cookie is set at login, cleared at logout and sent back with
//! every signed-in call.

use api_types::auth::{
    ChangeContact, LoginFinish, LoginStart, Logout, LogoutResponse, Me, NotMe, ProveCardAgain,
    Session,
};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::cookies::{session_cookie, SessionCookie};
use super::extract::{ApiJson, Body, Reply, Requester};
use crate::{AppError, AppState};

pub(super) async fn login_start(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): Body<LoginStart>,
) -> Reply<LoginStart> {
    Ok(Json(state.login_start(request, &client).await?))
}

/// Who is signed in, with the session cookie.
pub(super) async fn login_finish(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): Body<LoginFinish>,
) -> Result<impl IntoResponse, AppError> {
    let login = state.login_finish(request, &client).await?;
    let max_age = i64::from(state.settings.session_absolute_secs);
    let cookie = session_cookie(&state, &login.secret.cookie_value(), max_age)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(login.info)))
}

pub(super) async fn session(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Reply<Session> {
    Ok(Json(
        state.current_session(secret.as_ref(), &client).await?.info,
    ))
}

pub(super) async fn my_card(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Reply<Me> {
    Ok(Json(state.my_card(secret.as_ref(), &client).await?))
}

pub(super) async fn change_contact(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<ChangeContact>,
) -> Reply<ChangeContact> {
    Ok(Json(
        state
            .change_contact(secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn prove_card_again(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<ProveCardAgain>,
) -> Reply<ProveCardAgain> {
    Ok(Json(
        state
            .prove_card_again(secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn not_me(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): Body<NotMe>,
) -> Reply<NotMe> {
    Ok(Json(state.not_me(request, &client).await?))
}

/// Ends the session and clears its cookie.
pub(super) async fn logout(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(_request): Body<Logout>,
) -> Result<impl IntoResponse, AppError> {
    state.logout(secret.as_ref(), &client).await?;
    let cleared = session_cookie(&state, "", 0)?;
    Ok(([(header::SET_COOKIE, cleared)], Json(LogoutResponse {})))
}
