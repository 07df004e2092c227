//! HTTP edge of the RA console (RA-1…RA-4) under `/api/ra/`: the session cookie, the
//! user's UUID in the path (anything else is simply not found), filters in the query,
//! JSON bodies; the CSV export streamed. The role and every rule are checked in
//! [`crate::ra`], never here.

use api_types::ra::{
    Audit, AuditCsv, ChangeRole, ChangeUserContact, Done, IssuePhoneCode, RenewAtDesk, Reopen,
    Reports, ReviewReport, RevokeCertificates, SearchUsers, StopSelfService, UnlockPasscodes,
    ViewDashboard, ViewUser,
};
use axum::body::Body as Streamed;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::cookies::SessionCookie;
use super::extract::{ApiJson, ApiQuery, Body, Param, Params, QueryOf, Reply, Requester};
use crate::{AppError, AppState};

pub(super) async fn users(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(query): QueryOf<SearchUsers>,
) -> Reply<SearchUsers> {
    Ok(Json(
        state.ra_search(secret.as_ref(), query, &client).await?,
    ))
}

pub(super) async fn user(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<ViewUser>,
) -> Reply<ViewUser> {
    Ok(Json(state.ra_user(secret.as_ref(), &uuid, &client).await?))
}

pub(super) async fn reopen(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<Reopen>,
    ApiJson(request): Body<Reopen>,
) -> Reply<Reopen> {
    state
        .ra_reopen(secret.as_ref(), &uuid, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn stop(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<StopSelfService>,
    ApiJson(request): Body<StopSelfService>,
) -> Reply<StopSelfService> {
    state
        .ra_stop(secret.as_ref(), &uuid, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<RevokeCertificates>,
    ApiJson(request): Body<RevokeCertificates>,
) -> Reply<RevokeCertificates> {
    state
        .ra_revoke(secret.as_ref(), &uuid, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn passcodes_unlock(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<UnlockPasscodes>,
    ApiJson(request): Body<UnlockPasscodes>,
) -> Reply<UnlockPasscodes> {
    state
        .ra_passcodes_unlock(secret.as_ref(), &uuid, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn renew_at_desk(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<RenewAtDesk>,
    ApiJson(request): Body<RenewAtDesk>,
) -> Reply<RenewAtDesk> {
    let opened = state
        .ra_renewal_start(secret.as_ref(), &uuid, &request, &client)
        .await?;
    Ok(Json(opened))
}

pub(super) async fn contact(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<ChangeUserContact>,
    ApiJson(request): Body<ChangeUserContact>,
) -> Reply<ChangeUserContact> {
    state
        .ra_contact(secret.as_ref(), &uuid, &request, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn phone_code(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(uuid): Params<IssuePhoneCode>,
    ApiJson(request): Body<IssuePhoneCode>,
) -> Reply<IssuePhoneCode> {
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
    Param(uuid): Params<ChangeRole>,
    ApiJson(request): Body<ChangeRole>,
) -> Reply<ChangeRole> {
    state
        .ra_role(secret.as_ref(), &uuid, &request, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn audit(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(filter): QueryOf<Audit>,
) -> Reply<Audit> {
    let filter = crate::ra::audit_filter(filter);
    Ok(Json(
        state.ra_audit(secret.as_ref(), filter, &client).await?,
    ))
}

/// The CSV file, streamed (not JSON, see [`AuditCsv`]).
pub(super) async fn audit_csv(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiQuery(filter): QueryOf<AuditCsv>,
) -> Result<impl IntoResponse, AppError> {
    let mut filter = crate::ra::audit_filter(filter);
    filter.before = None;
    state
        .ra_audit_export(secret.as_ref(), &filter, &client)
        .await?;
    let body = Streamed::from_stream(crate::ra::csv_stream(state, filter));
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
) -> Reply<Reports> {
    Ok(Json(state.ra_reports(secret.as_ref(), &client).await?))
}

pub(super) async fn review(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    Param(id): Params<ReviewReport>,
    ApiJson(request): Body<ReviewReport>,
) -> Reply<ReviewReport> {
    state
        .ra_review(secret.as_ref(), &id, &request.reason, &client)
        .await?;
    Ok(Json(Done {}))
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
) -> Reply<ViewDashboard> {
    Ok(Json(state.ra_dashboard(secret.as_ref(), &client).await?))
}
