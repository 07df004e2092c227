//! `load` (run by `cargo xtask load`): whole flows under load through several release
//! instances on PostgreSQL behind HAProxy (OPS-6, ALL-2, ALL-5). Each of `clients`
//! clients — a browser at its own address, with cards of its own — runs card sign-ins,
//! unlocks (questions, emailed code, sealed card update) and registrations, one after
//! another, for `secs`; codes come by real SMTP to a local sink. Loopback only; it stops
//! by itself.
//!
//! It prints each flow's count, the 429s (intended: ALL-5), each step's p50/p99 and each
//! instance's resident memory at a third of the run and at its end. It fails on any
//! other error, and when memory grew over the last two thirds of the run.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bench::crowd::{enrol, CardsEach, Client, Flow, Stage, Tally};
use bench::flows::Page;
use bench::process::server_binary;
use clap::Parser;
use tokio::task::JoinSet;

#[derive(Parser)]
#[command(about = "Whole flows under load through several instances behind HAProxy")]
struct Args {
    /// Server instances behind HAProxy.
    #[arg(long, default_value_t = 3)]
    instances: u16,
    /// Clients running flows at once.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Seconds of flows.
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// argon2id memory (KiB) for the answers and codes; enrolment hashes at this cost too.
    #[arg(long, default_value_t = 1024)]
    argon2_memory_kib: u32,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

/// Resident memory may rise this much over the last two thirds of the run.
const MEMORY_SLACK: f64 = 1.10;
const MEMORY_SLACK_KIB: u64 = 4 * 1024;

fn main() -> std::process::ExitCode {
    bench::run_main("load", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let binary = server_binary(args.server_bin.as_deref())?;
    let stage = Stage::start(&binary, args.instances, (args.argon2_memory_kib, 1)).await?;
    let outcome = load(&args, &stage).await;
    stage.remove().await?;
    outcome
}

async fn load(args: &Args, stage: &Stage) -> Result<()> {
    let each = CardsEach {
        unlock: 8,
        register: 2,
    };
    let clients = enrol(&stage.state, args.clients, each).await?;
    let idle = stage.fleet.lock().await.resident_kib()?;
    println!(
        "load: {} instances, {} clients for {} s; {} users each",
        args.instances,
        args.clients,
        args.secs,
        1 + each.unlock + each.register
    );
    let began = Instant::now();
    let until = began + Duration::from_secs(args.secs);
    let mut tasks = JoinSet::new();
    for client in clients {
        let page = Page::new(
            &stage.origin,
            client.addr.clone(),
            false,
            stage.sink.clone(),
        );
        tasks.spawn(async move { one_client(client, page, until).await });
    }
    tokio::time::sleep(Duration::from_secs(args.secs / 3)).await;
    let warm = stage.fleet.lock().await.resident_kib()?;
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(done?);
    }
    let elapsed = began.elapsed();
    let after = stage.fleet.lock().await.resident_kib()?;
    println!(
        "{} flows in {:.1} s ({:.0}/s):",
        tally.flows_done(),
        elapsed.as_secs_f64(),
        tally.flows_done() as f64 / elapsed.as_secs_f64()
    );
    tally.print();
    let mib = |kib: &[u64]| {
        kib.iter()
            .map(|k| format!("{:.1}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "resident memory (MiB per instance): idle {}; at {} s {}; at the end {}",
        mib(&idle),
        args.secs / 3,
        mib(&warm),
        mib(&after)
    );
    for error in tally.errors.iter().take(10) {
        println!("  error: {error}");
    }
    let grew = warm
        .iter()
        .zip(&after)
        .any(|(warm, after)| *after > ((*warm as f64) * MEMORY_SLACK) as u64 + MEMORY_SLACK_KIB);
    if !tally.errors.is_empty() {
        bail!("{} flows failed other than by 429", tally.errors.len());
    }
    if grew {
        bail!("server memory grew over the last two thirds of the run");
    }
    if tally.flows_done() == 0 {
        bail!("no flow finished");
    }
    println!("load: no errors but 429s; memory flat");
    Ok(())
}

/// One client's flows, one after another, until `until`.
async fn one_client(mut client: Client, page: Page, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut n = client.signs_in.guid.as_bytes()[0] as usize;
    while Instant::now() < until {
        client.run(&page, Flow::nth(n), &mut tally).await;
        n += 1;
    }
    tally
}
