//! The bound: how many argon2id verifies this machine does per second on all cores, with
//! the server's own hasher and production parameters. Nothing else runs meanwhile.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use server::secrets::AnswerHasher;

/// Verifies per second over every core.
#[derive(Debug, Clone, Copy)]
pub struct Argon2Rate {
    pub threads: usize,
    pub verifies_per_sec: f64,
}

/// Warms every core up for `warmup`, then counts verifies for `measure`. Each thread's
/// rate is its verifies over the time to the end of its last one; the rates add up.
pub fn measure(hasher: &AnswerHasher, warmup: Duration, measure: Duration) -> Result<Argon2Rate> {
    if measure.is_zero() {
        bail!("the argon2id measurement needs some time (--argon2-secs)");
    }
    let threads = std::thread::available_parallelism()
        .context("counting cores")?
        .get();
    // An answer as the page sends it (case and spaces differ from the registered one).
    let stored = hasher
        .hash("Ford Fiesta")
        .context("hashing the reference answer")?;
    if !hasher.verify("  FORD fiesta ", &stored) {
        bail!("the reference answer does not verify");
    }
    let rates = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| verify_for(hasher, &stored, warmup, measure)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| anyhow::anyhow!("a verify thread died"))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(Argon2Rate {
        threads,
        verifies_per_sec: rates.into_iter().sum::<Result<f64>>()?,
    })
}

/// One thread's verifies per second.
fn verify_for(
    hasher: &AnswerHasher,
    stored: &str,
    warmup: Duration,
    measure: Duration,
) -> Result<f64> {
    let warm_until = Instant::now() + warmup;
    while Instant::now() < warm_until {
        hasher.verify("  FORD fiesta ", stored);
    }
    let start = Instant::now();
    let deadline = start + measure;
    let mut count = 0u32;
    let mut last = start;
    while last < deadline {
        if !hasher.verify("  FORD fiesta ", stored) {
            bail!("a verify failed mid-measurement");
        }
        count += 1;
        last = Instant::now();
    }
    Ok(f64::from(count) / last.duration_since(start).as_secs_f64())
}
