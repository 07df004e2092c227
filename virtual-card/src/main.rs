//! `virtual-card`: create, inspect, lock and insert a software PIV card (CARD-4).

use card_protocol::KeySlot;
use clap::{Parser, Subcommand};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use virtual_card::{vpcd, CreateOptions, SharedCard, VirtualCard, SCP03_KEY_VERSION};

#[derive(Parser)]
#[command(
    name = "virtual-card",
    version,
    about = "A software PIV smartcard for pcscd (vpcd) and tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new card (replacing any card in FILE) and print its identity as JSON.
    Create {
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = "123456")]
        pin: String,
        #[arg(long, default_value = "12345678")]
        puk: String,
        /// 16-byte GUID as 32 hex digits; random if absent.
        #[arg(long)]
        guid: Option<String>,
        /// Create with the PIN blocked (0 tries left).
        #[arg(long)]
        locked: bool,
    },
    /// Print the card's identity and counters as JSON (never the PIN, PUK or a secret key).
    Show {
        #[arg(long)]
        state: PathBuf,
    },
    /// Connect the card to vpcd and serve it until SIGINT/SIGTERM (then it is removed).
    Insert {
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = vpcd::DEFAULT_VPCD_ADDR)]
        vpcd: SocketAddr,
        /// Log each command header and status word (never command data) to stderr.
        #[arg(long)]
        trace: bool,
    },
    /// Block the PIN (0 tries left), for demos.
    Lock {
        #[arg(long)]
        state: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("virtual-card: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Create {
            state,
            pin,
            puk,
            guid,
            locked,
        } => {
            let guid = guid.map(|g| parse_guid(&g)).transpose()?;
            let opts = CreateOptions {
                pin,
                puk,
                guid,
                locked,
            };
            let card = VirtualCard::create_file(&state, &opts)?;
            // The PUK and SCP03 keys are printed once, here, so the caller can register them
            // with the server (the issuer's key ceremony, CARD-3).
            let keys = card.scp03_key_set();
            println!(
                "{}",
                json!({
                    "guid": hex::encode(card.guid()),
                    "serial": card.serial(),
                    "card_auth_public_key": hex::encode(card.card_auth_public_key_sec1()),
                    "puk": opts.puk,
                    "scp03_keys": {
                        "key_version": SCP03_KEY_VERSION,
                        "enc": hex::encode(keys.enc()),
                        "mac": hex::encode(keys.mac()),
                        "dek": hex::encode(keys.dek()),
                    },
                    "pin_tries_left": card.pin_tries_left(),
                })
            );
        }
        Command::Show { state } => {
            let card = VirtualCard::load(&state)?;
            println!("{}", show(&card));
        }
        Command::Lock { state } => {
            let mut card = VirtualCard::load(&state)?;
            card.lock_pin()?;
            println!("{}", show(&card));
        }
        Command::Insert {
            state,
            vpcd: addr,
            trace,
        } => {
            let mut card = VirtualCard::load(&state)?;
            card.set_trace(trace);
            let card = SharedCard::new(card);
            let (tx, rx) = mpsc::channel();
            ctrlc::set_handler(move || {
                let _ = tx.send(());
            })?;
            let handle = vpcd::insert(card.clone(), addr)?;
            let guid = card.with_card(|c| hex::encode(c.guid()));
            eprintln!("virtual-card: card {guid} inserted at vpcd {addr}; Ctrl-C to remove it");
            let _ = rx.recv();
            handle.remove();
            eprintln!("virtual-card: card {guid} removed");
        }
    }
    Ok(())
}

fn show(card: &VirtualCard) -> serde_json::Value {
    let sec1 = |key: p256::PublicKey| hex::encode(key.to_encoded_point(false).as_bytes());
    let certificates: serde_json::Map<String, serde_json::Value> = KeySlot::ALL
        .into_iter()
        .map(|slot| (slot.to_string(), card.certificate(slot).is_some().into()))
        .collect();
    json!({
        "guid": hex::encode(card.guid()),
        "serial": card.serial(),
        "card_auth_public_key": hex::encode(card.card_auth_public_key_sec1()),
        "piv_auth_public_key": card.public_key(KeySlot::PivAuth).map(sec1),
        "certificates": certificates,
        "pin_tries_left": card.pin_tries_left(),
        "pin_blocked": card.pin_blocked(),
        "puk_tries_left": card.puk_tries_left(),
        "puk_blocked": card.puk_blocked(),
    })
}

fn parse_guid(text: &str) -> Result<[u8; 16], String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("--guid: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| "--guid must be 32 hex digits (16 bytes)".to_string())
}
