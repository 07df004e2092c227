//! `footprint-bench` (run by `cargo xtask bench`): the release server's resident memory
//! idle, after 5,000 whole flows and after 10,000 (sign-ins, unlocks with the emailed code
//! through the sealed card update, registrations), one instance on PostgreSQL behind
//! HAProxy, codes by SMTP to a local sink. Target: at most 40 MB, and flat — the second
//! 5,000 flows add no more than slack. It reports; it fails only on errors.

use std::time::Duration;

use anyhow::{bail, Result};
use bench::crowd::{enrol, run_flows, CardsEach, Schedule, Stage};
use bench::process::server_binary;
use clap::Parser;

#[derive(Parser)]
#[command(about = "The server's resident memory idle and after 10,000 flows")]
struct Args {
    /// Flows in all, in two halves.
    #[arg(long, default_value_t = 10_000)]
    flows: usize,
    /// Clients running flows at once.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

const TARGET_MIB: f64 = 40.0;

fn main() -> std::process::ExitCode {
    bench::run_main("footprint-bench", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let binary = server_binary(args.server_bin.as_deref())?;
    let stage = Stage::start(&binary, 1, (1024, 1)).await?;
    let outcome = measure(&args, &stage).await;
    stage.remove().await?;
    outcome
}

async fn measure(args: &Args, stage: &Stage) -> Result<()> {
    // Enough cards that no unlock or registration meets ALL-5's or REG-4's caps.
    let per_client = args.flows / args.clients.max(1);
    let each = CardsEach {
        unlock: 1 + per_client * 2 / 5 / 5,
        register: 1 + per_client / 5 / 3,
    };
    let clients = enrol(&stage.state, args.clients, each).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = resident_mib(stage).await?;
    let half = Schedule {
        flows: args.flows / 2,
        spread: Duration::ZERO,
        failover: false,
    };
    let (clients, first) = run_flows(stage, clients, half).await?;
    let middle = resident_mib(stage).await?;
    let (_, second) = run_flows(stage, clients, half).await?;
    let end = resident_mib(stage).await?;
    let errors: Vec<&String> = first.errors.iter().chain(&second.errors).collect();
    for error in errors.iter().take(5) {
        println!("  error: {error}");
    }
    if !errors.is_empty() {
        bail!("{} flows failed", errors.len());
    }
    println!(
        "footprint: resident memory idle {idle:.1} MiB, after {} flows {middle:.1} MiB, after \
         {} {end:.1} MiB (target at most {TARGET_MIB:.0}, flat); {} flows done, {} stopped \
         by 429",
        half.flows,
        half.flows * 2,
        first.flows_done() + second.flows_done(),
        first
            .limited
            .values()
            .chain(second.limited.values())
            .sum::<usize>()
    );
    Ok(())
}

async fn resident_mib(stage: &Stage) -> Result<f64> {
    let kib = stage.fleet.lock().await.resident_kib()?;
    Ok(kib.iter().sum::<u64>() as f64 / 1024.0)
}
