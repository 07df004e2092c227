//! `unlock-bench` (run by `cargo xtask bench`): measures the unlock's answers step against
//! the argon2id bound.
//!
//! The answers step verifies one argon2id hash per question asked, so a machine can serve
//! at most (verifies/s on all cores) / (questions per unlock) answers steps per second.
//! This measures that bound with the server's own hasher and production parameters, and
//! the real thing: the release server as a child process on a fresh SQLite file and a
//! fresh PostgreSQL database, answers steps over HTTP, one user per step, at concurrency
//! 1 and 8. The bound is measured right before and right after each timed run (a
//! shared VM's speed drifts within seconds) and a run is compared with the mean of the
//! two. The last line gives each backend's concurrent rate as a share of its bound
//! (target ≥ 0.80). It reports; it fails only on errors. Not part of CI.

mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use server::secrets::AnswerHasher;
use server::{AppState, Settings, SystemClock};

use bench::argon2::Argon2Rate;
use bench::backend::{Backend, BenchDb};
use bench::process::{server_binary, ServerConfig, ServerProcess};
use bench::unlock::RunResult;
use bench::{argon2, cpu, unlock};

#[derive(Parser)]
#[command(about = "Measures the unlock's answers step against the argon2id bound")]
struct Args {
    /// Backends to measure, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    backends: Vec<Backend>,
    /// Timed answers steps at concurrency 1.
    #[arg(long, default_value_t = 40)]
    serial_steps: usize,
    /// Timed answers steps in the concurrent run.
    #[arg(long, default_value_t = 160)]
    concurrent_steps: usize,
    /// Requests in flight in the concurrent run.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds of argon2id verifies counted for each bound measurement (after the warm-up).
    #[arg(long, default_value_t = 3.0, value_parser = seconds)]
    argon2_secs: f64,
    /// Seconds of argon2id verifies before counting.
    #[arg(long, default_value_t = 0.5, value_parser = seconds)]
    warmup_secs: f64,
    /// argon2id memory (KiB) for the bound, the enrolled answers and the server; the
    /// production value unless set. A cheap value (8) shows the steps' cost without argon2.
    #[arg(long)]
    argon2_memory_kib: Option<u32>,
    /// argon2id iterations, like --argon2-memory-kib.
    #[arg(long)]
    argon2_iterations: Option<u32>,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

/// A duration in seconds: finite and not negative.
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err("must be a number of seconds, 0 or more".into())
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("unlock-bench: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One timed run on one backend, between two measurements of the bound.
pub struct Run {
    pub backend: Backend,
    pub concurrency: usize,
    pub result: RunResult,
    pub before: Argon2Rate,
    pub after: Argon2Rate,
    pub cpu: Option<cpu::Usage>,
}

/// What every backend's runs share.
struct Bench {
    args: Args,
    server_bin: PathBuf,
    hasher: AnswerHasher,
    cost: (u32, u32),
    questions: u32,
}

fn run() -> Result<()> {
    let args = Args::parse();
    if args.argon2_secs == 0.0 {
        anyhow::bail!("--argon2-secs must be more than 0");
    }
    let began = Instant::now();
    let server_bin = server_binary(args.server_bin.as_deref())?;
    let production = Settings::default();
    let cost = (
        args.argon2_memory_kib
            .unwrap_or(production.argon2_memory_kib),
        args.argon2_iterations
            .unwrap_or(production.argon2_iterations),
    );
    if cost != (production.argon2_memory_kib, production.argon2_iterations) {
        eprintln!("unlock-bench: warning: argon2id cost overridden; not the production ratios");
    }
    warn_if_busy();
    eprintln!(
        "unlock-bench: argon2id m={} KiB t={} p=1, {} questions per unlock, {} threads",
        cost.0,
        cost.1,
        production.questions_per_unlock,
        std::thread::available_parallelism()?.get()
    );
    let bench = Bench {
        // The pepper changes nothing in the cost; any key will do.
        hasher: AnswerHasher::new(cost.0, cost.1, &rand::random())?,
        questions: production.questions_per_unlock,
        args,
        server_bin,
        cost,
    };
    let mut backends = bench.args.backends.clone();
    backends.sort_unstable();
    backends.dedup();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut runs = Vec::new();
    for backend in backends {
        runs.extend(runtime.block_on(measure_backend(backend, &bench))?);
    }
    drop(runtime);
    report::print(&runs, bench.questions, bench.args.concurrency.max(1));
    eprintln!("unlock-bench: done in {:.0?}", began.elapsed());
    report::print_last_line(&runs, bench.questions, bench.args.concurrency.max(1));
    Ok(())
}

/// Other work on the machine takes cores from both the bound and the server, unevenly.
fn warn_if_busy() {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(load) = load.filter(|load| *load > 0.5 * cores as f64) {
        eprintln!(
            "unlock-bench: warning: load average {load:.2} on {cores} cores; \
             other work will skew the numbers"
        );
    }
}

/// A fresh database, the server on it, the runs; then the server killed and the
/// database dropped, whatever happened.
async fn measure_backend(backend: Backend, bench: &Bench) -> Result<Vec<Run>> {
    let db = BenchDb::create(backend).await?;
    // Ctrl-C drops the measurement (killing the server) but still drops the database.
    let measured = tokio::select! {
        measured = measure_on(backend, &db, bench) => measured,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    let removed = db.remove().await;
    match (measured, removed) {
        (Ok(runs), Ok(())) => Ok(runs),
        (Ok(_), Err(error)) => Err(error),
        (Err(error), Ok(())) => Err(error),
        (Err(error), Err(also)) => {
            eprintln!("unlock-bench: also: {also:#}");
            Err(error)
        }
    }
    .with_context(|| format!("on {}", backend.name()))
}

async fn measure_on(backend: Backend, db: &BenchDb, bench: &Bench) -> Result<Vec<Run>> {
    let name = backend.name();
    let args = &bench.args;
    let config = ServerConfig::new(&db.url, bench.cost)?;
    let mut server = ServerProcess::start(&bench.server_bin, &config, db.dir())?;
    let client = reqwest::Client::new();
    server
        .wait_healthy(&client, Duration::from_secs(60))
        .await?;
    eprintln!(
        "unlock-bench: {name}: server pid {} at {}",
        server.pid(),
        server.base_url
    );

    // Each run: one untimed round of warm-up steps, then the timed steps; a user each.
    let plan = [
        (1, args.serial_steps),
        (args.concurrency.max(1), args.concurrent_steps),
    ];
    let users_needed: usize = plan
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| c + n)
        .sum();
    let cores = std::thread::available_parallelism()?.get();
    let enrolling = Instant::now();
    // The server's own start-up code builds the store, KEK and hasher from the same
    // settings, so what is enrolled here is what the server reads.
    let state = AppState::new(config.settings()?, Arc::new(SystemClock)).await?;
    let mut users =
        unlock::enroll_users(&state, users_needed, cores, unlock::Cards::Locked).await?;
    state.store.pool.close().await;
    eprintln!(
        "unlock-bench: {name}: enrolled {users_needed} users in {:.1?}",
        enrolling.elapsed()
    );

    let mut runs = Vec::new();
    for (concurrency, steps) in plan {
        if steps == 0 {
            continue;
        }
        let batch: Vec<_> = users.drain(..concurrency + steps).collect();
        let mut prepared = unlock::prepare(&client, &server.base_url, batch, 8).await?;
        let timed = prepared.split_off(concurrency);
        unlock::answer_all(&client, &server.base_url, prepared, concurrency).await?;
        let before = bound(bench).await?;
        let usage_from = cpu::sample(&[server.pid()]);
        let result = unlock::answer_all(&client, &server.base_url, timed, concurrency).await?;
        let cpu = usage_from
            .zip(cpu::sample(&[server.pid()]))
            .map(|(from, to)| to.usage_since(&from, steps));
        let after = bound(bench).await?;
        eprintln!(
            "unlock-bench: {name}: concurrency {concurrency}: {steps} steps in {:.2?} = \
             {:.2} steps/s; argon2id {:.1} verifies/s before, {:.1} after",
            result.elapsed,
            result.steps_per_sec(),
            before.verifies_per_sec,
            after.verifies_per_sec,
        );
        runs.push(Run {
            backend,
            concurrency,
            result,
            before,
            after,
            cpu,
        });
    }
    drop(server);
    Ok(runs)
}

/// One measurement of argon2id alone on all cores (the server idles meanwhile).
async fn bound(bench: &Bench) -> Result<Argon2Rate> {
    let hasher = bench.hasher.clone();
    let warmup = Duration::from_secs_f64(bench.args.warmup_secs);
    let measure = Duration::from_secs_f64(bench.args.argon2_secs);
    tokio::task::spawn_blocking(move || argon2::measure(&hasher, warmup, measure)).await?
}
