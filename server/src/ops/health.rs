//! OPS-4: `/healthz` (the process answers) and `/readyz` (it can serve: the database
//! answers, its schema is current, neither the mail nor the text queue is stuck, and it
//! is not draining). A load balancer takes an instance out while `/readyz` says 503.

use api_types::ops::{Check, Readiness};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::store::outbox::{self, Backlog};
use crate::store::{schema_versions, StoreError};
use crate::AppState;

/// A message unsent this long means its queue is stuck: the outbox's longest back-off
/// between retries is far shorter, and every code has expired by then.
pub const QUEUE_STUCK_AFTER_SECS: i64 = 15 * 60;

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let observed = observe(&state).await;
    let readiness = decide(&observed, state.clock.now(), state.draining.is_set());
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// What the database says, or that it did not answer.
pub(crate) struct Observed {
    schema: (i64, i64),
    backlog: Vec<Backlog>,
}

async fn observe(state: &AppState) -> Result<Observed, StoreError> {
    let pool = &state.store.pool;
    Ok(Observed {
        schema: schema_versions(pool, state.store.backend).await?,
        backlog: outbox::backlog(pool).await?,
    })
}

fn decide(observed: &Result<Observed, StoreError>, now: i64, draining: bool) -> Readiness {
    let (database, schema, email_queue, sms_queue) = match observed {
        Err(error) => {
            tracing::warn!(%error, "readiness: the database did not answer");
            let unknown = Check::Unknown;
            (Check::Unreachable, unknown, unknown, unknown)
        }
        Ok(observed) => {
            let (applied, latest) = observed.schema;
            let schema = if applied < latest {
                Check::Behind
            } else {
                Check::Ok
            };
            let queue = |channel: &str| {
                let stuck = observed.backlog.iter().any(|waiting| {
                    waiting.channel == channel
                        && waiting
                            .oldest_created_at
                            .is_some_and(|at| now - at > QUEUE_STUCK_AFTER_SECS)
                });
                if stuck {
                    Check::Stuck
                } else {
                    Check::Ok
                }
            };
            (Check::Ok, schema, queue("email"), queue("sms"))
        }
    };
    let checks = [database, schema, email_queue, sms_queue];
    Readiness {
        ready: !draining && checks.iter().all(|check| *check == Check::Ok),
        draining,
        database,
        schema,
        email_queue,
        sms_queue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn waiting(channel: &str, oldest: i64) -> Backlog {
        Backlog {
            channel: channel.into(),
            unsent: 1,
            oldest_created_at: Some(oldest),
        }
    }

    fn seen(schema: (i64, i64), backlog: Vec<Backlog>) -> Result<Observed, StoreError> {
        Ok(Observed { schema, backlog })
    }

    #[test]
    fn ops_4_ready_when_every_check_passes() {
        let readiness = decide(
            &seen((25, 25), vec![waiting("email", NOW - 60)]),
            NOW,
            false,
        );
        assert!(readiness.ready);
        assert_eq!(readiness.email_queue, Check::Ok);
    }

    #[test]
    fn ops_4_a_queue_is_stuck_once_a_message_waits_past_the_limit() {
        let limit = NOW - QUEUE_STUCK_AFTER_SECS;
        let at_limit = decide(&seen((25, 25), vec![waiting("sms", limit)]), NOW, false);
        assert!(at_limit.ready, "at the limit it is still moving");
        let past = decide(&seen((25, 25), vec![waiting("sms", limit - 1)]), NOW, false);
        assert_eq!((past.ready, past.sms_queue), (false, Check::Stuck));
        assert_eq!(past.email_queue, Check::Ok, "each queue on its own");
    }

    #[test]
    fn ops_4_not_ready_when_the_schema_is_behind_or_the_database_is_gone() {
        let behind = decide(&seen((24, 25), Vec::new()), NOW, false);
        assert_eq!((behind.ready, behind.schema), (false, Check::Behind));
        let gone = decide(&Err(StoreError::Conflict { table: "x" }), NOW, false);
        assert_eq!(
            (gone.ready, gone.database, gone.schema),
            (false, Check::Unreachable, Check::Unknown)
        );
    }

    #[test]
    fn ops_5_a_draining_instance_is_not_ready_whatever_else_holds() {
        let draining = decide(&seen((25, 25), Vec::new()), NOW, true);
        assert!(!draining.ready && draining.draining);
    }
}
