//! What anyone may read, signed in or not: liveness, the organisation's public settings
//! (ALL-4), the certificate authority's certificate (CERT-1) and its revocation list
//! (CERT-5).

use api_types::unlock::{Config, PublicConfig};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::extract::Reply;
use crate::store::{certificates, StoreError};
use crate::{AppError, AppState, Settings};

/// The text `ok` (not JSON, see [`api_types::unlock::Health`]).
pub(super) async fn health() -> &'static str {
    "ok"
}

pub(super) async fn config(State(state): State<AppState>) -> Reply<Config> {
    Ok(Json(public_config(&state.settings)))
}

/// What the page needs to know of the organisation, here and written into every page.
pub(super) fn public_config(settings: &Settings) -> PublicConfig {
    PublicConfig {
        organisation_name: settings.organisation_name.clone(),
        ra_help: settings.ra_help.clone(),
        bridge_url: settings.bridge_url.clone(),
        approved_email_domains: settings.approved_email_domains.clone(),
        policy: settings.policy,
        passcode_expiry: settings.passcode_expiry,
    }
}

/// The PEM file (not JSON, see [`api_types::unlock::CaCertificate`]).
pub(super) async fn ca_certificate(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, AppError> {
    let pem = state
        .ca
        .certificate_pem()
        .map_err(|_| AppError::Invariant("CA certificate does not encode"))?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem))
}

/// The CRL as of now, DER (not JSON, see [`api_types::unlock::Crl`]): made on each request
/// from the store, so a revocation is listed the moment it commits.
pub(super) async fn crl(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let now = state.clock.now();
    let mut conn = state.store.pool.acquire().await.map_err(StoreError::from)?;
    let revoked = certificates::revoked_in_force(&mut conn, now).await?;
    drop(conn);
    let der = state
        .ca
        .crl(&revoked, now)
        .map_err(|_| AppError::Invariant("the CRL does not encode"))?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-crl")], der))
}
