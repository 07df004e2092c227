//! `overhead-bench` (run by `cargo xtask bench`): what the production middleware costs.
//! `GET /api/config` — no key derivation, no database — through the release server's
//! whole stack (host and origin checks, rate limits, request ids, tracing with a log line
//! per request, metrics on), against a bare axum hello-world (`hello-axum`), each its own
//! process, driven by the same keep-alive clients in alternating rounds (a shared VM
//! drifts). Target: ≥ 0.80 of bare axum. It reports; it fails only on errors.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bench::backend::{Backend, BenchDb};
use bench::process::{free_port, server_binary, ServerConfig, ServerProcess};
use clap::Parser;
use tokio::task::JoinSet;

#[derive(Parser)]
#[command(about = "A non-KDF endpoint through the production middleware, against bare axum")]
struct Args {
    /// Clients sending at once, each on its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds per round; three rounds each, alternating.
    #[arg(long, default_value_t = 5)]
    secs: u64,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

fn main() -> std::process::ExitCode {
    bench::run_main("overhead-bench", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let binary = server_binary(args.server_bin.as_deref())?;
    let db = BenchDb::create(Backend::Postgres).await?;
    let measured = measure(&args, &binary, &db).await;
    db.remove().await?;
    let (ours, bare) = measured?;
    println!("GET /api/config: {ours:.0} requests/s through the middleware, {bare:.0} bare axum");
    println!("middleware {:.2} of bare axum", ours / bare);
    Ok(())
}

async fn measure(args: &Args, binary: &Path, db: &BenchDb) -> Result<(f64, f64)> {
    let mut config = ServerConfig::new(&db.url, (1024, 1))?;
    config.metrics_port = Some(free_port()?);
    let mut server = ServerProcess::start(binary, &config, db.dir())?;
    server
        .wait_healthy(&reqwest::Client::new(), Duration::from_secs(60))
        .await?;
    let bare_port = free_port()?;
    let _bare = Bare::start(&binary.with_file_name("hello-axum"), bare_port)?;
    let ours = format!("{}/api/config", server.base_url);
    let bare = format!("http://127.0.0.1:{bare_port}/api/config");
    wait_for(&bare).await?;
    let round = Duration::from_secs(args.secs);
    let (mut ours_total, mut bare_total) = (0.0, 0.0);
    for _ in 0..3 {
        ours_total += rate(&ours, args.clients, round).await?;
        bare_total += rate(&bare, args.clients, round).await?;
    }
    Ok((ours_total / 3.0, bare_total / 3.0))
}

/// Successful requests per second to `url` from `clients` keep-alive clients.
async fn rate(url: &str, clients: usize, length: Duration) -> Result<f64> {
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + length;
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (url, done) = (url.to_owned(), done.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            while Instant::now() < until {
                let response = client.get(&url).send().await?;
                if !response.status().is_success() {
                    bail!("GET {url}: {}", response.status());
                }
                response.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
    }
    while let Some(finished) = tasks.join_next().await {
        finished??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / length.as_secs_f64())
}

async fn wait_for(url: &str) -> Result<()> {
    for _ in 0..100 {
        if reqwest::get(url).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no answer from {url}")
}

/// The hello-world, killed when dropped.
struct Bare(Child);

impl Bare {
    fn start(binary: &Path, port: u16) -> Result<Self> {
        let child = Command::new(binary)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self(child))
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
