//! HTTP edge of the RA console (RA-1…RA-4) under `/api/ra/`: the session cookie, the
//! user's UUID in the path (anything else is simply not found), filters in the query,
//! JSON bodies; the CSV export streamed. The role and every rule are checked in
//! [`crate::ra`], never here.

use api_types::ra::{
    AuditFilter, AuditPage, ContactRequest, Dashboard, Done, PhoneCode, ReasonRequest, ReportList,
    RoleRequest, UserList, UserQuery, UserRecord, UserUuid,
};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::Json;
use serde::de::DeserializeOwned;

use super::{ApiJson, Requester, SessionCookie};
use crate::{AppError, AppState};

/// A query string whose refusal is an [`AppError`].
pub(super) struct ApiQuery<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|_| AppError::BadFilter)
    }
}

/// The user's UUID in the path.
pub(super) struct UserPath(UserUuid);

impl<S: Send + Sync> FromRequestParts<S> for UserPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        UserUuid::parse(&text)
            .map(UserPath)
            .map_err(|_| AppError::NotFound)
    }
}

pub(super) async fn users(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<Json<UserList>, AppError> {
    Ok(Json(
        state.ra_search(secret.as_ref(), query, &client).await?,
    ))
}

pub(super) async fn user(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    UserPath(uuid): UserPath,
) -> Result<Json<UserRecord>, AppError> {
    Ok(Json(state.ra_user(secret.as_ref(), &uuid, &client).await?))
}

pub(super) async fn reopen(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    UserPath(uuid): UserPath,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .ra_reopen(secret.as_ref(), &uuid, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn contact(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    UserPath(uuid): UserPath,
    ApiJson(request): ApiJson<ContactRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .ra_contact(secret.as_ref(), &uuid, &request, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn phone_code(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    UserPath(uuid): UserPath,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<PhoneCode>, AppError> {
    Ok(Json(
        state
            .ra_phone_code(secret.as_ref(), &uuid, &request.reason, &client)
            .await?,
    ))
}

pub(super) async fn role(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    UserPath(uuid): UserPath,
    ApiJson(request): ApiJson<RoleRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .ra_role(secret.as_ref(), &uuid, &request, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn audit(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<Json<AuditPage>, AppError> {
    let filter = crate::ra::audit_filter(filter)?;
    Ok(Json(
        state.ra_audit(secret.as_ref(), filter, &client).await?,
    ))
}

pub(super) async fn audit_csv(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<impl IntoResponse, AppError> {
    let mut filter = crate::ra::audit_filter(filter)?;
    filter.before = None;
    state
        .ra_audit_export(secret.as_ref(), &filter, &client)
        .await?;
    let body = Body::from_stream(crate::ra::csv_stream(state, filter));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-trail.csv\"",
            ),
        ],
        body,
    ))
}

pub(super) async fn reports(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Result<Json<ReportList>, AppError> {
    Ok(Json(state.ra_reports(secret.as_ref(), &client).await?))
}

pub(super) async fn review(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReasonRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .ra_review(secret.as_ref(), &id, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Result<Json<Dashboard>, AppError> {
    Ok(Json(state.ra_dashboard(secret.as_ref(), &client).await?))
}
