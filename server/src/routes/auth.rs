//! HTTP edge of card login and sessions (AUTH-1, AUTH-2): the session cookie — HttpOnly,
//! SameSite=Strict, `__Host-` and Secure whenever the origin is HTTPS, like the unlock's
//! flow cookie — and the handlers.

use api_types::auth::{
    ChangeContact, LoginFinish, LoginStart, Logout, LogoutResponse, MyCard, NotMe, SessionInfo,
};
use api_types::unlock::Endpoint;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;

use super::{cookie, cookie_name, cookie_value, ApiJson, Requester};
use crate::secrets::FlowSecret;
use crate::{AppError, AppState};

fn session_cookie_name(state: &AppState) -> &'static str {
    cookie_name(state, "scss-session", "__Host-scss-session")
}

/// `Max-Age` 0 clears the cookie.
fn session_cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, AppError> {
    cookie(state, session_cookie_name(state), value, max_age)
}

/// The session secret this browser sent, if any.
pub struct SessionCookie(pub Option<FlowSecret>);

impl FromRequestParts<AppState> for SessionCookie {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let value = cookie_value(&parts.headers, session_cookie_name(state));
        Ok(SessionCookie(value.and_then(|v| FlowSecret::parse(&v))))
    }
}

pub(super) async fn login_start(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): ApiJson<<LoginStart as Endpoint>::Request>,
) -> Result<Json<<LoginStart as Endpoint>::Response>, AppError> {
    Ok(Json(state.login_start(request, &client).await?))
}

pub(super) async fn login_finish(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): ApiJson<<LoginFinish as Endpoint>::Request>,
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
) -> Result<Json<SessionInfo>, AppError> {
    Ok(Json(
        state.current_session(secret.as_ref(), &client).await?.info,
    ))
}

pub(super) async fn my_card(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Result<Json<MyCard>, AppError> {
    Ok(Json(state.my_card(secret.as_ref(), &client).await?))
}

pub(super) async fn change_contact(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): ApiJson<<ChangeContact as Endpoint>::Request>,
) -> Result<Json<MyCard>, AppError> {
    Ok(Json(
        state
            .change_contact(secret.as_ref(), request, &client)
            .await?,
    ))
}

pub(super) async fn not_me(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): ApiJson<<NotMe as Endpoint>::Request>,
) -> Result<Json<<NotMe as Endpoint>::Response>, AppError> {
    Ok(Json(state.not_me(request, &client).await?))
}

pub(super) async fn logout(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(_request): ApiJson<<Logout as Endpoint>::Request>,
) -> Result<impl IntoResponse, AppError> {
    state.logout(secret.as_ref(), &client).await?;
    let cleared = session_cookie(&state, "", 0)?;
    Ok(([(header::SET_COOKIE, cleared)], Json(LogoutResponse {})))
}
