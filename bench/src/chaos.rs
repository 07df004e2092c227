//! `chaos` (run by `cargo xtask chaos`): `flows` whole flows — unlocks, sign-ins and
//! registrations, begun evenly over `secs` — through several release instances behind HAProxy while one instance,
//! chosen at random, is killed with SIGKILL every `kill_every` seconds and started again
//! (as systemd's `Restart=always` would). Clients do what the page does when an answer is
//! lost: send it again, and resume the unlock at a new channel after its code was
//! accepted (CARD-3). Loopback only; it stops by itself.
//!
//! Every flow must finish. Afterwards (OPS-6, ALL-2, JOB-1, [`bench::consistency`]): the
//! audit chain verifies, every outbox message was delivered exactly once, no attempt or
//! registration is half-written, and every card agrees with the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bench::crowd::{enrol, run_flows, CardsEach, Schedule, Stage};
use bench::process::server_binary;
use clap::Parser;
use rand::Rng;
use server::store::outbox;
use tokio::sync::oneshot;

#[derive(Parser)]
#[command(about = "Whole flows while instances are killed; then nothing lost, nothing twice")]
struct Args {
    /// Server instances behind HAProxy.
    #[arg(long, default_value_t = 3)]
    instances: u16,
    /// Flows in all.
    #[arg(long, default_value_t = 1000)]
    flows: usize,
    /// Seconds the flows are spread over (each begins on a schedule, as users arrive).
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// Clients running flows at once.
    #[arg(long, default_value_t = 40)]
    clients: usize,
    /// Seconds between kills.
    #[arg(long, default_value_t = 10)]
    kill_every: u64,
    /// argon2id memory (KiB) for the answers and codes; enrolment hashes at this cost too.
    #[arg(long, default_value_t = 1024)]
    argon2_memory_kib: u32,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

/// How long the outbox may take to empty after the flows: a message claimed by a killed
/// instance waits out its lease (the mail worker's CLAIM_LEASE, 60 s) first.
const OUTBOX_DRAINS_WITHIN: Duration = Duration::from_secs(120);

fn main() -> std::process::ExitCode {
    bench::run_main("chaos", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let binary = server_binary(args.server_bin.as_deref())?;
    let stage = Stage::start(&binary, args.instances, (args.argon2_memory_kib, 1)).await?;
    let outcome = chaos(&args, &stage).await;
    stage.remove().await?;
    outcome
}

async fn chaos(args: &Args, stage: &Stage) -> Result<()> {
    let each = CardsEach {
        unlock: 3,
        register: 1 + args.flows / args.clients.max(1) / 5 / 4,
    };
    let clients = enrol(&stage.state, args.clients, each).await?;
    println!(
        "chaos: {} flows over {} s by {} clients through {} instances; one killed every {} s",
        args.flows, args.secs, args.clients, args.instances, args.kill_every
    );
    let (stop, stopped) = oneshot::channel();
    let killer = tokio::spawn(killer(
        stage.fleet.clone(),
        (args.instances, args.kill_every),
        stopped,
    ));
    let began = Instant::now();
    let schedule = Schedule {
        flows: args.flows,
        spread: Duration::from_secs(args.secs),
        failover: true,
    };
    let (clients, tally) = run_flows(stage, clients, schedule).await?;
    let elapsed = began.elapsed();
    let _ = stop.send(());
    let kills = killer.await??;
    println!(
        "{} of {} flows finished in {:.1} s with {kills} instances killed; {} requests sent \
         again, {} flows begun again:",
        tally.flows_done(),
        args.flows,
        elapsed.as_secs_f64(),
        tally.timings.resent,
        tally.timings.restarted
    );
    tally.print();
    for error in tally.errors.iter().take(10) {
        println!("  error: {error}");
    }
    let draining = Instant::now();
    let drained = drain(stage).await?;
    println!(
        "the outbox emptied {:.1} s after the flows",
        draining.elapsed().as_secs_f64()
    );
    let findings = bench::consistency::check(&stage.state, &stage.sink, &clients).await?;
    for problem in findings.problems.iter().take(20) {
        println!("  problem: {problem}");
    }
    for resent in &findings.resent_after_kill {
        println!("  sent again after a kill (same Message-ID): {resent}");
    }
    if !tally.errors.is_empty() {
        bail!("{} flows did not finish", tally.errors.len());
    }
    if !drained {
        bail!("the outbox did not empty within {OUTBOX_DRAINS_WITHIN:?}");
    }
    if !findings.problems.is_empty() {
        bail!("{} problems after the faults", findings.problems.len());
    }
    if findings.resent_after_kill.len() > kills {
        bail!("more messages sent again than instances killed");
    }
    println!(
        "chaos: every flow finished; audit intact, no message lost, none sent twice but \
         {} after a kill, no half-written attempt, every card agrees with the server",
        findings.resent_after_kill.len()
    );
    Ok(())
}

/// Every `kill_every` seconds or so, SIGKILL to a random instance, started again a second
/// later; until told to stop. Every instance runs when it returns. How many it killed.
async fn killer(
    fleet: Arc<tokio::sync::Mutex<bench::fleet::Fleet>>,
    (instances, kill_every): (u16, u64),
    mut stopped: oneshot::Receiver<()>,
) -> Result<usize> {
    let mut kills = 0;
    let every = Duration::from_secs(kill_every);
    loop {
        // Jittered, so that kills do not keep falling at the same point of the flows'
        // even schedule.
        let pause = every.mul_f64(rand::thread_rng().gen_range(0.5..1.5));
        tokio::select! {
            _ = &mut stopped => return Ok(kills),
            () = tokio::time::sleep(pause) => {}
        }
        let victim = rand::thread_rng().gen_range(0..usize::from(instances));
        fleet.lock().await.kill(victim);
        kills += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
        fleet.lock().await.restart(victim).await?;
    }
}

/// Waits until nothing waits in the outbox; whether it emptied in time.
async fn drain(stage: &Stage) -> Result<bool> {
    let until = Instant::now() + OUTBOX_DRAINS_WITHIN;
    while Instant::now() < until {
        if outbox::unsent_count(&stage.state.store.pool).await? == 0 {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(false)
}
