//! OPS-2: the instance's metrics in Prometheus text format, on their own address
//! (`metrics_listen`, the operator's network only): every request by route, method and
//! status with a latency histogram; each flow step's outcome by its error code; and, read
//! at each scrape, the outbox's depth and oldest message per channel, each scheduled
//! job's lag, the database pool's use and the argon2 queue ([`crate::kdf`]).
//!
//! Labels are bounded: a route is its template (never a path a caller made up: anything
//! unmatched is `other`), an outcome is an [`ErrorCode`] or `ok`.

use std::sync::OnceLock;
use std::time::Instant;

use api_types::ErrorCode;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::{jobs, outbox};
use crate::AppState;

/// The path scraped.
pub const METRICS_PATH: &str = "/metrics";

/// Request latency buckets, in seconds: a card sign-in is milliseconds, an argon2 check
/// tens of them, a slow database or SMTP relay seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed by the first instance that serves metrics (tests
/// run several in one process: they share it, as their counters then do).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics: no recorder installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The metrics listener's router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(METRICS_PATH, get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let Some(handle) = recorder() else {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    read_gauges(&state).await;
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// What is read from the database and the pool when scraped, not counted as it happens.
async fn read_gauges(state: &AppState) {
    let now = state.clock.now();
    let pool = &state.store.pool;
    let open = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(open.saturating_sub(idle));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("db_pool_max_connections").set(pool.options().get_max_connections());
    match outbox::backlog(pool).await {
        Ok(backlog) => {
            for channel in ["email", "sms"] {
                let waiting = backlog.iter().find(|b| b.channel == channel);
                let unsent = waiting.map_or(0, |b| b.unsent);
                let age = waiting
                    .and_then(|b| b.oldest_created_at)
                    .map_or(0, |at| (now - at).max(0));
                metrics::gauge!("outbox_unsent", "channel" => channel).set(unsent as f64);
                metrics::gauge!("outbox_oldest_age_seconds", "channel" => channel).set(age as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the outbox"),
    }
    match jobs::runs(pool).await {
        Ok(runs) => {
            for run in runs {
                let since = run.succeeded_at.unwrap_or(run.started_at);
                metrics::gauge!("job_lag_seconds", "job" => run.job.clone())
                    .set((now - since).max(0) as f64);
                metrics::gauge!("job_last_run_failed", "job" => run.job)
                    .set(f64::from(u8::from(run.error.is_some())));
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the job runs"),
    }
}

/// Counts and times every request (OPS-2), and each API step's outcome.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) if !matched.as_str().contains("{*") => matched.as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone(), "method" => method)
        .record(seconds);
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    if let Some(flow) = flow_of(&route).filter(|_| method == "POST") {
        let outcome = response
            .extensions()
            .get::<ErrorCode>()
            .map_or("ok", |code| code.as_str());
        metrics::counter!("flow_outcomes_total", "flow" => flow, "step" => route, "outcome" => outcome)
            .increment(1);
    }
    response
}

/// The flow an API route belongs to: its first segment (`/api/unlock/{id}/code` is
/// `unlock`).
fn flow_of(route: &str) -> Option<String> {
    let rest = route.strip_prefix(api_types::endpoint::API_PREFIX)?;
    rest.split('/')
        .next()
        .filter(|flow| !flow.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_2_a_step_counts_under_its_flow() {
        assert_eq!(flow_of("/api/unlock/{id}/code").as_deref(), Some("unlock"));
        assert_eq!(
            flow_of("/api/ra/users/{uuid}/reopen").as_deref(),
            Some("ra")
        );
        assert_eq!(flow_of("/healthz"), None);
        assert_eq!(flow_of("other"), None);
    }
}
