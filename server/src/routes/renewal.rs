//! HTTP edge of certificate renewal (CERT-3): the session cookie, the renewal's id in the
//! path, JSON bodies. Each handler calls one step in [`crate::renewal`].

use api_types::renewal::{
    RenewalCertificates, RenewalChannel, RenewalComplete, RenewalKeys, RenewalRecover, RenewalStart,
};
use axum::extract::State;
use axum::Json;

use super::cookies::SessionCookie;
use super::extract::{ApiJson, Body, Param, Params, Reply, Requester};
use crate::AppState;

pub(super) async fn start(
    State(state): State<AppState>,
    Requester(client): Requester,
    SessionCookie(secret): SessionCookie,
    ApiJson(request): Body<RenewalStart>,
) -> Reply<RenewalStart> {
    Ok(Json(
        state
            .renewal_start(secret.as_ref(), request, &client)
            .await?,
    ))
}

/// No session: the body names the sign-in kept to finish a cut-off renewal.
pub(super) async fn recover(
    State(state): State<AppState>,
    Requester(client): Requester,
    ApiJson(request): Body<RenewalRecover>,
) -> Reply<RenewalRecover> {
    Ok(Json(state.renewal_recover(request, &client).await?))
}

/// The steps of an existing renewal, each served alike: its id from the path, the
/// session cookie, the JSON body, and the `AppState` step named after the handler.
macro_rules! renewal_steps {
    ($($step:ident => $method:ident: $endpoint:ty),+ $(,)?) => {$(
        pub(super) async fn $step(
            State(state): State<AppState>,
            Requester(client): Requester,
            Param(id): Params<$endpoint>,
            SessionCookie(secret): SessionCookie,
            ApiJson(request): Body<$endpoint>,
        ) -> Reply<$endpoint> {
            Ok(Json(state.$method(&id, secret.as_ref(), request, &client).await?))
        }
    )+};
}

renewal_steps!(
    channel => renewal_channel: RenewalChannel,
    keys => renewal_keys: RenewalKeys,
    certificates => renewal_certificates: RenewalCertificates,
    complete => renewal_complete: RenewalComplete,
);
