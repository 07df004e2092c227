//! Running the server as a service (OPS-2…OPS-5): its health and readiness, its metrics,
//! its log format, and how it stops.

pub mod health;
pub mod metrics;
pub mod shutdown;

use std::io::{BufWriter, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

use crate::AppState;

/// OPS-5: set once the instance is told to stop; `/readyz` then says 503, so a load
/// balancer that still holds a connection to it sends no new work.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `/healthz` and `/readyz` (OPS-4), beside the API and outside it.
pub fn probes() -> Router<AppState> {
    Router::new()
        .route(api_types::ops::HEALTHZ, get(health::healthz))
        .route(api_types::ops::READYZ, get(health::readyz))
}

/// OPS-3: the process's log subscriber — text or one JSON object per line, filtered by
/// `RUST_LOG` (default [`crate::trace::DEFAULT_LOG_FILTER`]). JSON lines carry the
/// request's span (request id, method, route, client) beside each event's fields.
/// Keep the guard until the process ends: dropping it writes out the lines still queued.
pub fn init_logs(format: crate::config::LogFormat) -> WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| crate::trace::DEFAULT_LOG_FILTER.into());
    let (writer, guard) = log_writer();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        // Colours only for a person at a terminal: a log file or journald gets plain text.
        crate::config::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
        crate::config::LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    guard
}

/// Log lines that may wait for the log thread before a request waits for it.
const LOG_QUEUE: usize = 4096;

/// Standard output, written by a thread of its own: a request hands its line over
/// instead of writing it under stdout's lock, and lines that queue up meanwhile go out in
/// one write (overhead-bench). None is dropped: a full queue makes the request wait.
fn log_writer() -> (NonBlocking, WorkerGuard) {
    let out: Box<dyn Write + Send> = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(BufWriter::new(std::fs::File::from(fd))),
        Err(_) => Box::new(std::io::stdout()),
    };
    // The queue's slots are allocated up front: 128,000 by default, 4 MiB idle.
    NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE)
        .lossy(false)
        .thread_name("logs")
        .finish(out)
}
