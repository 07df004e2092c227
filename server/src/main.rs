//! `smartcard-server`: serve the API and the SPA, or run migrations. (Demo data is the
//! `demo` crate's `seed-demo`, kept out of this binary.)

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::store::audit::{self, Verified};
use server::{AppState, Application, Settings, SystemClock};

#[derive(Parser)]
#[command(
    about = "Smartcard Self-Service server",
    after_help = "Settings come from, last wins: the built-in defaults; the TOML file named \
                  by --config or SCSS_CONFIG; then one SCSS_<NAME> environment variable per \
                  setting (database_url is SCSS_DATABASE_URL). deploy/smartcard-server.toml \
                  lists every setting with its default and meaning. RUST_LOG filters the log."
)]
struct Args {
    /// TOML settings file; SCSS_* environment variables override it.
    #[arg(long, global = true, env = "SCSS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the SPA.
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Re-seal every card secret under the current KEK (`kek_hex`/`kek_version`), with
    /// the old key still given in `previous_keks`; run until it reports nothing left.
    RotateKek,
    /// The audit trail (RA-4).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// JOB-1: what each scheduled job last did, on any instance: when it last ran and
    /// succeeded, how far behind it is, and its last failure.
    Jobs,
    /// Print the public key of `grant_key_hex`: what every card bridge pins as its
    /// `--server-key` (BRG-5).
    GrantPublicKey,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every audit chain under the audit key; exits non-zero naming the first bad
    /// row if any event was edited, inserted or removed.
    Verify,
}

/// mimalloc returns a freed argon2id block (19 MiB, two at a time) to the system; glibc
/// kept one per thread that had hashed, so resident memory grew with flows.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One clear line per cause, without a backtrace even if RUST_BACKTRACE is set
            // (ALL-2: bad configuration is a clear error, never a panic or a stack dump).
            eprintln!("smartcard-server: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::load(args.config.as_deref()).context("loading settings")?;
    let _logs = server::ops::init_logs(settings.log_format);
    let clock = Arc::new(SystemClock);
    match args.command {
        Command::GrantPublicKey => {
            let key = settings.grant_key()?;
            let signer = bridge_grant::GrantSigner::from_bytes(&*key)
                .map_err(|_| anyhow::anyhow!("grant_key_hex is not a P-256 private key"))?;
            println!("{}", signer.public_key_hex());
        }
        Command::Serve => {
            let app = Application::build(settings, clock).await?;
            tracing::info!(port = app.port(), "Smartcard Self-Service server listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let settings = Settings {
                migrate_on_start: true,
                ..settings
            };
            AppState::new(settings, clock).await?;
            println!("database is up to date");
        }
        Command::RotateKek => {
            let state = AppState::new(settings, clock).await?;
            let rotated = server::rotate::rotate_kek(&state).await?;
            println!(
                "re-sealed {} of {} cards under KEK version {}",
                rotated.resealed,
                rotated.cards,
                state.kek.current_version()
            );
            if rotated.changed > 0 {
                anyhow::bail!(
                    "{} cards changed during the rotation: run rotate-kek again",
                    rotated.changed
                );
            }
        }
        Command::Jobs => {
            let state = AppState::new(settings, clock).await?;
            let now = server::Clock::now(&*state.clock);
            let runs = server::store::jobs::runs(&state.store.pool).await?;
            if runs.is_empty() {
                println!("no scheduled job has run yet");
            }
            for run in runs {
                println!("{}", server::jobs::describe(&run, now));
            }
        }
        Command::Audit(AuditCommand::Verify) => {
            let state = AppState::new(settings, clock).await?;
            match audit::verify(&state.store.pool, &state.audit_key).await? {
                Verified::Intact { rows } => {
                    println!(
                        "audit trail intact: {rows} events, every chain links up from its \
                         start and every checkpoint holds"
                    );
                }
                Verified::Broken {
                    seq: Some(seq),
                    chain,
                    reason,
                } => {
                    anyhow::bail!("audit trail broken at row {seq} (chain {chain}): {reason}")
                }
                Verified::Broken {
                    seq: None,
                    chain,
                    reason,
                } => {
                    anyhow::bail!("audit trail broken in chain {chain}: {reason}")
                }
            }
        }
    }
    Ok(())
}
