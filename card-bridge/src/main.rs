//! `card-bridge`: run the localhost card bridge (see the library docs).

use std::path::PathBuf;

use anyhow::Context as _;
use api_types::bridge::DEFAULT_BRIDGE_PORT;
use card_bridge::pcsc_backend::{spawn_event_watcher, PcscAccess};
use card_bridge::simulated::SimulatedAccess;
use card_bridge::{tls, trust};
use card_bridge::{Bridge, BridgeConfig, CardAccess, CardWorker, Clock};
use clap::{Parser, Subcommand};
use tokio::sync::broadcast;

#[derive(Parser, Debug)]
#[command(
    about = "Localhost bridge between the Smartcard Self-Service page and the smartcard",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Setup>,
    #[command(flatten)]
    run: Args,
}

/// BRG-7: the HTTPS certificate and the local CA that vouches for it.
#[derive(Subcommand, Debug)]
enum Setup {
    /// Make a CA on this computer, the bridge's certificate for 127.0.0.1, destroy the
    /// CA's key, and trust the CA where this computer's browsers look. Run again to renew.
    Install {
        #[command(flatten)]
        places: Places,
    },
    /// Take the CA out of the trust stores and delete the bridge's certificate and key.
    Uninstall {
        #[command(flatten)]
        places: Places,
    },
}

#[derive(clap::Args, Debug)]
struct Places {
    /// Where the bridge's certificate and key live.
    #[arg(long, env = "CARD_BRIDGE_TLS_DIR", default_value = "/etc/card-bridge")]
    tls_dir: PathBuf,
    /// Leave the system trust store alone (only the browsers' NSS databases).
    #[arg(long)]
    no_system_store: bool,
}

#[derive(clap::Args, Debug)]
struct Args {
    /// Port on 127.0.0.1 (the bridge never listens elsewhere).
    #[arg(long, env = "CARD_BRIDGE_PORT", default_value_t = DEFAULT_BRIDGE_PORT)]
    port: u16,
    /// Exact origin allowed to call the bridge, e.g. http://127.0.0.1:8080. Repeatable.
    #[arg(
        long = "allow-origin",
        env = "CARD_BRIDGE_ALLOW_ORIGINS",
        value_delimiter = ',',
        required = true
    )]
    allow_origins: Vec<String>,
    /// The server's grant-signing public key (P-256, SEC1 hex, as the server prints it):
    /// card-changing operations need a grant signed with it (BRG-5).
    #[arg(long, env = "CARD_BRIDGE_SERVER_KEY", required = true)]
    server_key: Option<String>,
    /// Use an in-process virtual card kept in this state file instead of PC/SC.
    #[arg(long, value_name = "CARD_STATE_FILE")]
    simulate: Option<PathBuf>,
    /// Only use PC/SC readers whose name contains this text.
    #[arg(long)]
    reader: Option<String>,
    /// Serve HTTPS and WSS with the certificate `card-bridge install` put here (BRG-7).
    #[arg(long, env = "CARD_BRIDGE_TLS_DIR")]
    tls_dir: Option<PathBuf>,
}

fn now() -> i64 {
    Clock::system().now()
}

fn setup(command: Setup) -> anyhow::Result<()> {
    let (places, installing) = match command {
        Setup::Install { places } => (places, true),
        Setup::Uninstall { places } => (places, false),
    };
    let mut stores = trust::Stores::of_this_computer();
    if places.no_system_store {
        stores.system_dir = None;
    }
    let report = if installing {
        let issued = tls::issue(&places.tls_dir, now())?;
        let ca = places.tls_dir.join(tls::CA_FILE);
        println!(
            "Made a CA on this computer and the bridge's certificate for 127.0.0.1 in {}; \
             the CA's private key is destroyed. The certificate ends at unix time {}: run \
             `card-bridge install` again before then.",
            places.tls_dir.display(),
            issued.not_after
        );
        let report = trust::install(&stores, &ca);
        println!("{}", trust::manual_steps(&ca));
        report
    } else {
        let report = trust::uninstall(&stores);
        tls::remove(&places.tls_dir)?;
        println!(
            "Removed the bridge's certificate and key from {}.",
            places.tls_dir.display()
        );
        report
    };
    for line in &report {
        println!("- {line}");
    }
    anyhow::ensure!(
        report.iter().all(|line| !line.starts_with("NOT ")),
        "some trust stores were not changed (see above)"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Some(command) = cli.command {
        return setup(command);
    }
    let args = cli.run;
    for origin in &args.allow_origins {
        anyhow::ensure!(
            origin.starts_with("http://") || origin.starts_with("https://"),
            "--allow-origin {origin:?} must be an exact origin like https://example.nhs.uk"
        );
        anyhow::ensure!(
            origin != "*" && !origin.ends_with('/'),
            "--allow-origin {origin:?} must be exact, without a trailing slash"
        );
    }
    let server_key = args.server_key.as_deref().unwrap_or_default();
    let server_key = bridge_grant::GrantVerifier::from_hex(server_key).map_err(|_| {
        anyhow::anyhow!("--server-key must be the server's P-256 public key in SEC1 hex")
    })?;
    let (events, _) = broadcast::channel(32);
    let access: Box<dyn CardAccess> = match &args.simulate {
        Some(path) => {
            let card = virtual_card::VirtualCard::load(path)
                .with_context(|| format!("loading virtual card {}", path.display()))?;
            Box::new(SimulatedAccess::new(virtual_card::SharedCard::new(card)))
        }
        None => {
            spawn_event_watcher(args.reader.clone(), events.clone())?;
            Box::new(PcscAccess::new(args.reader.clone()))
        }
    };
    let worker = CardWorker::spawn(access)?;
    let tls = match &args.tls_dir {
        Some(dir) => {
            let served = tls::load(dir).with_context(|| {
                format!(
                    "no bridge certificate in {}: run `card-bridge install`",
                    dir.display()
                )
            })?;
            if tls::due_for_renewal(served.not_after, now()) {
                tracing::warn!(
                    not_after = served.not_after,
                    "the bridge's certificate ends within 30 days: run `card-bridge install`"
                );
            }
            Some(served)
        }
        None => None,
    };
    let bridge = Bridge::bind(
        args.port,
        BridgeConfig {
            allowed_origins: args.allow_origins.clone(),
            server_key,
            clock: Clock::system(),
            tls,
        },
        worker,
        events,
    )
    .await
    .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    tracing::info!(
        port = bridge.port(),
        origins = ?args.allow_origins,
        backend = if args.simulate.is_some() { "simulated" } else { "pcsc" },
        scheme = if args.tls_dir.is_some() { "https" } else { "http" },
        "card bridge listening on 127.0.0.1"
    );
    bridge.run().await?;
    Ok(())
}
