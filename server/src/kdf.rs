//! The argon2id work (answers, passcodes, recovery passcodes) runs here: on the blocking
//! pool, but no more of it at once than the machine has cores. Each hash takes ~19 MiB for
//! tens of milliseconds, so a flood of unlock steps queues here (OPS-2 counts the queue)
//! instead of starting hundreds of threads and gigabytes of hashing memory (ALL-5).

use std::sync::OnceLock;

use tokio::sync::Semaphore;
use tokio::task::JoinError;

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Semaphore::new(cores)
    })
}

/// Runs `hash` once a slot is free. `kdf_tasks{state}` counts what waits and what runs.
pub async fn run<T: Send + 'static>(
    hash: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    let waiting = Gauge::raise("waiting");
    // Never closed, so the permit always comes.
    let slot = slots().acquire().await;
    drop(waiting);
    let _running = Gauge::raise("running");
    let done = tokio::task::spawn_blocking(hash).await;
    drop(slot);
    done
}

/// One task counted in `kdf_tasks{state}` while it lives (a cancelled request's too).
struct Gauge(&'static str);

impl Gauge {
    fn raise(state: &'static str) -> Self {
        metrics::gauge!("kdf_tasks", "state" => state).increment(1.0);
        Self(state)
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        metrics::gauge!("kdf_tasks", "state" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn all_5_no_more_hashes_run_at_once_than_there_are_cores() {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..cores * 4)
            .map(|_| {
                let (now, most) = (now.clone(), most.clone());
                tokio::spawn(run(move || {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 1 && most <= cores,
            "{most} ran at once on {cores} cores"
        );
    }
}
