//! OPS-5: the stop every worker watches, and the signals that raise it. A worker told to
//! stop finishes the item in hand — a mail being sent is marked sent, a job's claimed
//! reminder is queued — and returns, so a stop leaves nothing half-done.

use std::time::Duration;

use tokio::sync::watch;

/// The worker's side: asked between items whether to go on.
#[derive(Clone, Default)]
pub struct Stopping(Option<watch::Receiver<bool>>);

/// The server's side: raised once, when the process is told to stop.
pub struct StopSwitch(watch::Sender<bool>);

/// A switch and the stop it raises.
pub fn switch() -> (StopSwitch, Stopping) {
    let (raise, watch) = watch::channel(false);
    (StopSwitch(raise), Stopping(Some(watch)))
}

impl StopSwitch {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Stopping {
    /// A stop never raised (a worker driven by a test).
    pub fn never() -> Self {
        Self(None)
    }

    pub fn requested(&self) -> bool {
        self.0.as_ref().is_some_and(|watch| *watch.borrow())
    }

    /// Resolves once the stop is raised (or its switch is gone).
    pub async fn raised(&mut self) {
        match &mut self.0 {
            Some(watch) => {
                let _ = watch.wait_for(|stop| *stop).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Waits `period`, or less if the stop is raised meanwhile: true then.
    pub async fn sleep(&mut self, period: Duration) -> bool {
        tokio::select! {
            () = self.raised() => true,
            () = tokio::time::sleep(period) => false,
        }
    }
}

/// Resolves when the process is asked to stop: SIGTERM (systemd, an orchestrator) or
/// Ctrl-C at a terminal.
pub async fn terminate_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch for SIGTERM; only Ctrl-C stops cleanly");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ops_5_a_raised_stop_ends_a_workers_sleep_at_once() {
        let (switch, mut stopping) = switch();
        assert!(!stopping.requested());
        assert!(!stopping.sleep(Duration::from_millis(1)).await);
        switch.stop();
        assert!(stopping.requested());
        let waited = tokio::time::Instant::now();
        assert!(stopping.sleep(Duration::from_secs(60)).await);
        assert!(waited.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn ops_5_a_stop_never_raised_lets_the_sleep_run_its_course() {
        let mut never = Stopping::never();
        assert!(!never.requested());
        assert!(!never.sleep(Duration::from_millis(5)).await);
    }
}
