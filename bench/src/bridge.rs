//! `bridge-bench` (run by `cargo xtask bench`): what the card bridge adds to an operation
//! over raw PC/SC. A virtual card sits in vpcd's second reader behind the real pcscd; the
//! release `card-bridge` serves it. One operation — CARD-6's proof of presence: select
//! PIV, read the CHUID, sign with the 9E key — is timed as the page asks for it (an HTTP
//! request from an allowed origin through the bridge's guard, its card worker, a PC/SC
//! connection and transaction per request) and as its three APDUs sent straight through
//! `SCardTransmit` on a card this process holds, in alternating rounds. Target: the
//! bridge adds ≤ 2 ms. It reports; it fails only on errors.

use std::ffi::CString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use api_types::bridge::{
    SignChallengeRequest, SignChallengeResponse, BRIDGE_HEADER, BRIDGE_HEADER_VALUE,
    PATH_SIGN_CHALLENGE, PATH_STATUS,
};
use api_types::values::{CardGuid, Challenge};
use bench::process::free_port;
use card_protocol::client::{CardTransport, PivClient, TransportError};
use card_protocol::SignedFor;
use clap::Parser;
use pcsc::{Card, Context, Protocols, Scope, ShareMode};
use virtual_card::{CreateOptions, SharedCard, VirtualCard};

/// vpcd's second reader: the demo and the tests' bridge use the first.
const VPCD: &str = "127.0.0.1:35964";
const READER: &str = "Virtual PCD 00 01";
const ORIGIN: &str = "http://127.0.0.1:9";

#[derive(Parser)]
#[command(about = "The card bridge's added time per operation over raw PC/SC transmit")]
struct Args {
    /// Operations per round; three rounds each, alternating.
    #[arg(long, default_value_t = 300)]
    operations: usize,
    /// The release bridge binary; by default `card-bridge` next to this one.
    #[arg(long)]
    bridge_bin: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    bench::run_main("bridge-bench", run(Args::parse()))
}

async fn run(args: Args) -> Result<()> {
    let pcscd = Command::new("pgrep")
        .args(["-x", "pcscd"])
        .stdout(Stdio::null())
        .status()?;
    ensure!(
        pcscd.success(),
        "pcscd is not running (`cargo xtask bench bridge` starts it with vpcd)"
    );
    let card = SharedCard::new(VirtualCard::create(&CreateOptions {
        pin: "1234".into(),
        puk: "12345678".into(),
        guid: None,
        locked: false,
    })?);
    let vpcd: SocketAddr = VPCD.parse()?;
    let _plugged = virtual_card::vpcd::insert(card.clone(), vpcd)
        .with_context(|| format!("plugging the card into vpcd at {VPCD}"))?;
    let binary = match args.bridge_bin {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("card-bridge"),
    };
    let port = free_port()?;
    let _bridge = BridgeProcess::start(&binary, port)?;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let guid = wait_for_card(&client, &base).await?;

    let raw = tokio::task::spawn_blocking(RawCard::connect).await??;
    let mut raw = Some(raw);
    let (mut through_bridge, mut straight) = (Vec::new(), Vec::new());
    // A warm-up round of each first, not counted.
    for round in 0..4 {
        let bridge_times = bridge_round(&client, &base, &guid, args.operations).await?;
        let held = raw.take().context("the raw card went missing")?;
        let operations = args.operations;
        let (held, raw_times) =
            tokio::task::spawn_blocking(move || held.round(operations).map(|t| (held, t)))
                .await??;
        raw = Some(held);
        if round > 0 {
            through_bridge.extend(bridge_times);
            straight.extend(raw_times);
        }
    }
    let bridge = Summary::of(&mut through_bridge);
    let raw = Summary::of(&mut straight);
    println!(
        "CARD-6 proof of presence (select, CHUID, 9E signature), {} operations each:",
        through_bridge.len()
    );
    println!("  through the bridge  {bridge}");
    println!("  raw PC/SC transmit  {raw}");
    println!(
        "bridge adds {:.2} ms per operation over raw PC/SC (p50; target <= 2 ms)",
        bridge.p50_ms - raw.p50_ms
    );
    Ok(())
}

/// The card the bridge sees, once pcscd has noticed it: its GUID.
async fn wait_for_card(client: &reqwest::Client, base: &str) -> Result<CardGuid> {
    for _ in 0..100 {
        let answer = client
            .get(format!("{base}{PATH_STATUS}"))
            .header("origin", ORIGIN)
            .header(BRIDGE_HEADER, BRIDGE_HEADER_VALUE)
            .header("content-type", "application/json")
            .send()
            .await;
        if let Ok(answer) = answer {
            let status: api_types::bridge::BridgeStatus = answer.json().await?;
            if let Some(card) = status.card {
                return Ok(card.guid);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the bridge never saw the card in {READER}")
}

/// `operations` proofs of presence as the page asks for them, each timed.
async fn bridge_round(
    client: &reqwest::Client,
    base: &str,
    guid: &CardGuid,
    operations: usize,
) -> Result<Vec<Duration>> {
    let url = format!("{base}{PATH_SIGN_CHALLENGE}");
    let mut times = Vec::with_capacity(operations);
    for _ in 0..operations {
        let request = SignChallengeRequest {
            challenge: Challenge::from_bytes(rand::random()),
            expected_guid: Some(*guid),
        };
        let started = Instant::now();
        let answer = client
            .post(&url)
            .header("origin", ORIGIN)
            .header(BRIDGE_HEADER, BRIDGE_HEADER_VALUE)
            .json(&request)
            .send()
            .await?;
        ensure!(
            answer.status().is_success(),
            "sign-challenge: {}",
            answer.status()
        );
        let signed: SignChallengeResponse = answer.json().await?;
        times.push(started.elapsed());
        ensure!(signed.guid == *guid, "the bridge signed with another card");
    }
    Ok(times)
}

/// The same card held straight through PC/SC by this process.
struct RawCard {
    card: Card,
}

impl RawCard {
    fn connect() -> Result<Self> {
        let context = Context::establish(Scope::User)?;
        let reader = CString::new(READER)?;
        let card = context.connect(&reader, ShareMode::Shared, Protocols::ANY)?;
        Ok(Self { card })
    }

    /// `operations` proofs of presence, their APDUs sent with `SCardTransmit` alone.
    fn round(&self, operations: usize) -> Result<Vec<Duration>> {
        let mut times = Vec::with_capacity(operations);
        for _ in 0..operations {
            let challenge: [u8; 32] = rand::random();
            let started = Instant::now();
            let digest = SignedFor::CardProof.digest(ORIGIN, &challenge);
            let mut piv = PivClient::new(Transmit(&self.card));
            piv.select()?;
            piv.read_chuid()?;
            piv.sign_with_card_auth_key(&digest)?;
            times.push(started.elapsed());
        }
        Ok(times)
    }
}

/// `SCardTransmit`, nothing more.
struct Transmit<'a>(&'a Card);

impl CardTransport for Transmit<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buffer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        self.0
            .transmit(command, &mut buffer)
            .map(<[u8]>::to_vec)
            .map_err(|error| TransportError::Other(error.to_string()))
    }
}

/// The middle and the tail of a set of timings.
struct Summary {
    p50_ms: f64,
    p99_ms: f64,
}

impl Summary {
    fn of(times: &mut [Duration]) -> Self {
        times.sort();
        let at = |fraction: f64| {
            let index = ((times.len() as f64 - 1.0) * fraction).round() as usize;
            times.get(index).map_or(0.0, |t| t.as_secs_f64() * 1000.0)
        };
        Self {
            p50_ms: at(0.5),
            p99_ms: at(0.99),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {:.2} ms, p99 {:.2} ms", self.p50_ms, self.p99_ms)
    }
}

/// The release bridge on `port`, serving vpcd's second reader; killed when dropped.
struct BridgeProcess(Child);

impl BridgeProcess {
    fn start(binary: &Path, port: u16) -> Result<Self> {
        let key = bridge_grant::GrantSigner::generate().public_key_hex();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--allow-origin", ORIGIN])
            .args(["--server-key", &key, "--reader", READER])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self(child))
    }
}

impl Drop for BridgeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
