//! `card-bridge`: run the localhost card bridge (see the library docs).

use std::path::PathBuf;

use anyhow::Context as _;
use api_types::bridge::DEFAULT_BRIDGE_PORT;
use card_bridge::pcsc_backend::{spawn_event_watcher, PcscAccess};
use card_bridge::simulated::SimulatedAccess;
use card_bridge::{Bridge, BridgeConfig, CardAccess, CardWorker, Clock};
use clap::Parser;
use tokio::sync::broadcast;

#[derive(Parser, Debug)]
#[command(about = "Localhost bridge between the Smartcard Self-Service page and the smartcard")]
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
    #[arg(long, env = "CARD_BRIDGE_SERVER_KEY")]
    server_key: String,
    /// Use an in-process virtual card kept in this state file instead of PC/SC.
    #[arg(long, value_name = "CARD_STATE_FILE")]
    simulate: Option<PathBuf>,
    /// Only use PC/SC readers whose name contains this text.
    #[arg(long)]
    reader: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
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
    let server_key = bridge_grant::GrantVerifier::from_hex(&args.server_key).map_err(|_| {
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
    let bridge = Bridge::bind(
        args.port,
        BridgeConfig {
            allowed_origins: args.allow_origins.clone(),
            server_key,
            clock: Clock::system(),
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
        "card bridge listening on 127.0.0.1"
    );
    bridge.run().await?;
    Ok(())
}
