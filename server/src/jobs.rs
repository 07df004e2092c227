//! Scheduled work, run inside every instance on the injected clock (JOB-1): no leader, no
//! new framework. Each instance wakes every `jobs_interval_secs` and runs every job;
//! jobs make themselves safe to run anywhere at once (a reminder claims its
//! `(user, kind, day)` row before its mail is queued). What each job last did is in
//! `job_runs`, for `smartcard-server jobs` (last run, lag).

use std::time::Duration;

use crate::ops::shutdown::Stopping;
use crate::store::jobs;
use crate::{AppError, AppState};

/// CERT-2: the daily certificate reminders.
pub const CERTIFICATE_REMINDERS: &str = "certificate_reminders";
/// PASS-4: the daily passcode reminders.
pub const PASSCODE_REMINDERS: &str = "passcode_reminders";

impl AppState {
    /// One run of every job at the clock's now; what each queued. Safe on any number of
    /// instances at once; one job's failure does not keep the next from running.
    pub async fn run_jobs(&self) -> Result<Vec<(&'static str, i64)>, AppError> {
        let now = self.clock.now();
        let certificates = self
            .run_job(
                CERTIFICATE_REMINDERS,
                now,
                self.send_certificate_reminders(now),
            )
            .await;
        let passcodes = self
            .run_job(PASSCODE_REMINDERS, now, self.send_passcode_reminders(now))
            .await;
        Ok(vec![
            (CERTIFICATE_REMINDERS, certificates?),
            (PASSCODE_REMINDERS, passcodes?),
        ])
    }

    /// One job's run, recorded in `job_runs` as it starts and ends.
    async fn run_job(
        &self,
        job: &'static str,
        now: i64,
        work: impl std::future::Future<Output = Result<i64, AppError>>,
    ) -> Result<i64, AppError> {
        jobs::run_started(&self.store.pool, job, &self.instance, now).await?;
        let result = work.await;
        // A store error's text names the table and the failure, never a value.
        let failure = result
            .as_ref()
            .err()
            .map(|e| e.to_string().chars().take(300).collect::<String>());
        let recorded = match (&result, &failure) {
            (Ok(queued), _) => Ok(*queued),
            (Err(_), failure) => Err(failure.as_deref().unwrap_or("failed")),
        };
        let finished = self.clock.now();
        jobs::run_finished(&self.store.pool, (job, &self.instance), finished, recorded).await?;
        result
    }
}

/// One line for operators: the job, its last run, its lag (time since its last success)
/// and its last failure.
pub fn describe(run: &jobs::JobRun, now: i64) -> String {
    let ago = |at: i64| format!("{} s ago", now - at);
    let finished = match run.finished_at {
        Some(at) => format!("finished {}, queued {}", ago(at), run.queued),
        None => "still running (or its instance stopped)".to_owned(),
    };
    let lag = match run.succeeded_at {
        Some(at) => format!("lag {} s", now - at),
        None => "never succeeded".to_owned(),
    };
    let error = run
        .error
        .as_deref()
        .map(|e| format!(", last error: {e}"))
        .unwrap_or_default();
    format!(
        "{}: last started {} ({}) by instance {}, {lag}{error}",
        run.job,
        ago(run.started_at),
        finished,
        run.instance
    )
}

/// The instance's scheduler: one interval first (a starting instance serves its first
/// requests before anything else), then every interval until the process stops.
pub(crate) async fn run_forever(state: AppState, mut stopping: Stopping) {
    let interval = Duration::from_secs(u64::from(state.settings.jobs_interval_secs));
    // A run under way when the stop comes is finished: its claims and mail are written
    // in the same transactions, so it is the wait that is cut short, not the work.
    while !stopping.sleep(interval).await {
        match state.run_jobs().await {
            Ok(runs) => {
                for (job, queued) in runs.into_iter().filter(|(_, queued)| *queued > 0) {
                    tracing::info!(job, queued, "scheduled job queued mail");
                }
            }
            Err(error) => tracing::warn!(%error, "scheduled jobs failed"),
        }
    }
}
