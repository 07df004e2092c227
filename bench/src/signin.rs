//! `signin-bench` (run by `cargo xtask bench signin`): card sign-ins per second through
//! the real server — release build, PostgreSQL, two instances behind HAProxy (OPS-6) —
//! against pgbench's TPC-B-like transactions per second on the same PostgreSQL in the
//! same run (measured before and after, and averaged: a shared VM drifts). Target: a
//! sign-in costs no more than two simple transactions (ratio ≥ 0.5).
//!
//! Each client signs in as its own users, as the page does: `login/start` with the card's
//! GUID, the card verifies its PIN and signs the challenge with its 9A key (AUTH-1, an
//! in-process virtual card), `login/finish`. All from one address, as a hospital behind
//! one NAT (ALL-5 counts failures there, not card-proven successes). Also printed: each
//! step's p50/p99, each part's CPU per sign-in beside a pgbench transaction's, and the
//! database statements, transactions (and those that wrote) and row writes per sign-in.
//! The last line is `signin X.XX of pgbench`. It reports; it fails only on errors.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use api_types::auth::{LoginFinish, LoginFinishRequest, LoginStart, LoginStartRequest};
use api_types::values::CardSignature;
use api_types::Endpoint;
use bench::backend::{Backend, BenchDb};
use bench::cpu;
use bench::fleet::Fleet;
use bench::pgbench::{self, Pgbench};
use bench::process::{free_port, server_binary, ServerConfig, ServerProcess};
use bench::unlock::{enroll_users, BenchUser, Cards, PIN};
use card_protocol::client::PivClient;
use card_protocol::pin::Pin;
use card_protocol::SignedFor;
use clap::Parser;
use server::{AppState, SystemClock};
use tokio::task::JoinSet;

#[path = "signin/database.rs"]
mod database;
use database::{database_stats, statements_per_signin};

#[derive(Parser)]
#[command(about = "Card sign-ins per second through two instances, against pgbench")]
struct Args {
    /// Server instances behind HAProxy.
    #[arg(long, default_value_t = 2)]
    instances: u16,
    /// Clients signing in at once (and pgbench's clients).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Users (and cards), shared out among the clients.
    #[arg(long, default_value_t = 64)]
    users: usize,
    /// Seconds of sign-ins, and of each pgbench run.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// The release server binary; by default `smartcard-server` next to this one.
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    bench::run_main("signin-bench", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let server_bin = server_binary(args.server_bin.as_deref())?;
    let db = BenchDb::create(Backend::Postgres).await?;
    let measured = measure(&args, &server_bin, &db).await;
    db.remove().await?;
    let (signins, pgbench, per_signin) = measured?;
    let (before, after) = (&pgbench.0, &pgbench.1);
    if let (Some(cpu), Some(first), Some(second)) = (
        per_signin.cpu,
        before.busy_ms_per_transaction,
        after.busy_ms_per_transaction,
    ) {
        println!(
            "cpu per sign-in: {:.2} ms busy — servers {:.2}, postgres {:.2}, clients and \
             their cards {:.2}, balancer and the rest {:.2} (idle {:.0}%); per pgbench \
             transaction {:.2} ms busy",
            cpu.ms_per_step(1.0 - cpu.idle),
            cpu.ms_per_step(cpu.server),
            cpu.ms_per_step(cpu.postgres),
            cpu.ms_per_step(cpu.bench),
            cpu.ms_per_step(cpu.other),
            cpu.idle * 100.0,
            (first + second) / 2.0
        );
    }
    println!(
        "database per sign-in (2 steps): {:.2} SQL statements, {:.2} transactions of which \
         {:.2} wrote ({:.2} per step; a read outside a transaction counts as one), {:.2} \
         rows written",
        per_signin.statements,
        per_signin.transactions,
        per_signin.writing,
        per_signin.writing / 2.0,
        per_signin.rows_written
    );
    println!(
        "pgbench TPC-B-like: {:.0} and {:.0} tps (mean {:.0})",
        before.tps,
        after.tps,
        (before.tps + after.tps) / 2.0
    );
    println!(
        "signin {:.2} of pgbench",
        signins / ((before.tps + after.tps) / 2.0)
    );
    Ok(())
}

/// What the database did per sign-in.
struct PerSignin {
    transactions: f64,
    /// Of those, the ones that wrote.
    writing: f64,
    rows_written: f64,
    /// SQL statements, BEGIN and COMMIT included, as PostgreSQL logged them.
    statements: f64,
    /// Where the CPU went while signing in (none without `/proc`).
    cpu: Option<cpu::Usage>,
}

async fn measure(
    args: &Args,
    server_bin: &std::path::Path,
    db: &BenchDb,
) -> Result<(f64, (Pgbench, Pgbench), PerSignin)> {
    let balancer_port = free_port()?;
    let mut first = ServerConfig::new(&db.url, (8, 1))?;
    first.public_port = balancer_port;
    let fleet = Fleet::start(server_bin, &first, args.instances, db.dir()).await?;
    let base = fleet.origin.clone();

    let state = AppState::new(first.settings()?, Arc::new(SystemClock)).await?;
    let users = enroll_users(&state, args.users, 2, Cards::Working).await?;
    eprintln!(
        "signin-bench: {} users enrolled; pgbench first",
        users.len()
    );
    let length = Duration::from_secs(args.secs);
    let before = pgbench::run(args.clients, length)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats_before = database_stats(&db.url).await?;
    let servers: Vec<u32> = fleet
        .instances
        .iter()
        .filter_map(|i| i.process.as_ref())
        .map(ServerProcess::pid)
        .collect();
    let cpu_from = cpu::sample(&servers);
    let run = sign_ins(&base, users, args.clients, length).await?;
    let cpu_to = cpu::sample(&servers);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats_after = database_stats(&db.url).await?;
    let after = pgbench::run(args.clients, length)?;
    let statements = statements_per_signin(server_bin, &first, db, &base).await?;
    let done = run.done as f64;
    println!(
        "sign-ins: {} in {:.1} s through {} instances = {:.0}/s; start p50 {:?} p99 {:?}, \
         finish p50 {:?} p99 {:?}; refused {}",
        run.done,
        run.elapsed.as_secs_f64(),
        args.instances,
        done / run.elapsed.as_secs_f64(),
        percentile(&run.start, 0.5),
        percentile(&run.start, 0.99),
        percentile(&run.finish, 0.5),
        percentile(&run.finish, 0.99),
        run.refused
    );
    if run.done == 0 {
        bail!("no sign-in succeeded");
    }
    let per_signin = PerSignin {
        transactions: (stats_after.transactions - stats_before.transactions) as f64 / done,
        writing: (stats_after.next_xid - stats_before.next_xid) as f64 / done,
        rows_written: (stats_after.rows_written - stats_before.rows_written) as f64 / done,
        statements,
        cpu: cpu_from
            .zip(cpu_to)
            .map(|(from, to)| to.usage_since(&from, run.done)),
    };
    Ok((
        done / run.elapsed.as_secs_f64(),
        (before, after),
        per_signin,
    ))
}

struct SignIns {
    done: usize,
    refused: usize,
    elapsed: Duration,
    start: Vec<Duration>,
    finish: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let last = sorted.len().saturating_sub(1);
    sorted
        .get(((last as f64) * p).round() as usize)
        .copied()
        .unwrap_or_default()
}

async fn sign_ins(
    base: &str,
    users: Vec<BenchUser>,
    clients: usize,
    length: Duration,
) -> Result<SignIns> {
    let mut shares: Vec<Vec<BenchUser>> = (0..clients).map(|_| Vec::new()).collect();
    for (index, user) in users.into_iter().enumerate() {
        shares[index % clients.max(1)].push(user);
    }
    let began = Instant::now();
    let mut tasks = JoinSet::new();
    for share in shares.into_iter().filter(|share| !share.is_empty()) {
        let base = base.to_owned();
        tasks.spawn(async move { one_client((&base, &base), share, began + length).await });
    }
    let mut total = SignIns {
        done: 0,
        refused: 0,
        elapsed: Duration::ZERO,
        start: Vec::new(),
        finish: Vec::new(),
    };
    while let Some(done) = tasks.join_next().await {
        let client = done??;
        total.done += client.done;
        total.refused += client.refused;
        total.start.extend(client.start);
        total.finish.extend(client.finish);
    }
    total.elapsed = began.elapsed();
    total.start.sort();
    total.finish.sort();
    Ok(total)
}

/// One client: its users sign in in turn until `until`, at `url` for a page of `origin`.
async fn one_client(
    (url, origin): (&str, &str),
    users: Vec<BenchUser>,
    until: Instant,
) -> Result<SignIns> {
    let client = reqwest::Client::new();
    let mut result = SignIns {
        done: 0,
        refused: 0,
        elapsed: Duration::ZERO,
        start: Vec::new(),
        finish: Vec::new(),
    };
    let pin = Pin::parse(PIN).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for user in users.iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        let timed = Instant::now();
        let started = post::<LoginStart>(
            &client,
            (url, origin),
            &LoginStartRequest {
                card_guid: user.guid,
            },
        )
        .await?;
        result.start.push(timed.elapsed());
        let Some(started) = started else {
            result.refused += 1;
            continue;
        };
        let mut piv = PivClient::new(user.card.clone());
        piv.select().context("selecting PIV")?;
        piv.verify_pin(&pin).context("the card's PIN")?;
        let digest = SignedFor::Login.digest(origin, started.challenge.as_bytes());
        let signature = piv
            .sign_with_piv_auth_key(&digest)
            .context("signing with 9A")?;
        let finish = LoginFinishRequest {
            login_id: started.login_id,
            signature: CardSignature::from_bytes(signature)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        };
        let timed = Instant::now();
        let finished = post::<LoginFinish>(&client, (url, origin), &finish).await?;
        result.finish.push(timed.elapsed());
        match finished {
            Some(_) => result.done += 1,
            None => result.refused += 1,
        }
    }
    Ok(result)
}

/// A POST as the page makes it; `None` when refused with 429 (counted, not an error).
async fn post<E: Endpoint>(
    client: &reqwest::Client,
    (url, origin): (&str, &str),
    request: &E::Request,
) -> Result<Option<E::Response>>
where
    E::Params: Default,
{
    let path = E::path(&E::Params::default());
    let response = client
        .post(format!("{url}{path}"))
        .header("origin", origin)
        .json(request)
        .send()
        .await
        .with_context(|| format!("POST {path}"))?;
    let status = response.status();
    if status.as_u16() == 429 {
        return Ok(None);
    }
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("POST {path}: {status} {body}");
    }
    Ok(Some(response.json().await?))
}
