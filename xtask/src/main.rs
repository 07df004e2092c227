//! `cargo xtask …`: the project's set-up, build, demo and test orchestration, so the
//! README's two commands (`cargo xtask demo`, `cargo xtask test`) do everything on a
//! fresh machine.

mod bench;
mod card;
mod demo;
mod e2e;
mod faults;
mod fleet;
mod fuzz;
mod local_tls;
mod procs;
mod setup;
mod spa_bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use local_tls::LocalTls;
use procs::{run, wait_for_port, Service};

/// Ports the demo and the browser tests use.
const SERVER_PORT: u16 = 8080;
const BRIDGE_PORT: u16 = 9981;
const E2E_SERVER_PORT: u16 = 18080;
const E2E_BRIDGE_PORT: u16 = 19981;
/// POL-3: the browser tests' second server, under `nhs-2023`.
const E2E_NHS_2023_PORT: u16 = 18082;
const SMTP_PORT: u16 = 1025;
const MAILDEV_WEB_PORT: u16 = 1080;
/// SMS-2: the GOV.UK Notify stand-in, its demo API key and the one-time passcode
/// template of `deploy/notify/templates.toml`.
const NOTIFY_PORT: u16 = 9982;
const NOTIFY_DEMO_KEY: &str =
    "demo-5f0c2a6e-8d41-4b7a-9c3e-2a1d6b8f4e70-0b9e7d35-6a2c-4f18-b3d4-9e5a7c1f2d68";
const NOTIFY_SMS_TEMPLATE_ID: &str = "4a3b9a10-6d1e-4c5e-9d7a-2f1b8c3e5a01";
/// vpcd's first slot: "Virtual PCD 00 00" (see /etc/reader.conf.d/vpcd).
const VPCD_ADDR: &str = "127.0.0.1:35963";
const VPCD_READER: &str = "Virtual PCD 00 00";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root()?;
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup::all(&root),
        Some("build") => {
            setup::all(&root)?;
            build(&root)
        }
        Some("demo") => demo::demo(&root, &args[1..]),
        Some("card") => card::card(&root, &args[1..]),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench::bench(&root, &args[1..]),
        Some("fuzz") => fuzz::fuzz(&root, &args[1..]),
        Some(name @ ("load" | "chaos")) => faults::instrument(&root, name, &args[1..]),
        Some("e2e") => {
            setup::all(&root)?;
            build(&root)?;
            e2e::e2e(&root)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <setup|build|demo|test|e2e|bench|fuzz|load|chaos>\n\
                 \n  setup  install system packages, npm packages and tools\
                 \n  build  build the server, card bridge, virtual card and the SPA\
                 \n  demo   run the whole product with a virtual card and a mail catcher\
                 \n         (--https: the page and the bridge on HTTPS with a CA made here;\
                 \n         --scale N: N instances on PostgreSQL behind HAProxy)\
                 \n  card   NAME: change the card in the running demo's reader (none: take it out)\
                 \n  test   run every test (what CI runs)\
                 \n  e2e    only the browser tests (Chromium, Firefox ESR, WebKitGTK)\
                 \n  fuzz   [SECONDS] each fuzz target under libFuzzer (nightly; default 600)\
                 \n  load   [ARGS] 200 clients' whole flows for 60 s through 3 instances\
                 \n         (release build; ARGS to the load instrument, see --help)\
                 \n  chaos  [ARGS] 1,000 flows while an instance is killed every 10 s;\
                 \n         then audit, outbox, attempts and cards checked\
                 \n  bench  measure the unlock's answers step against the argon2id bound\
                 \n         (release build; ARGS after it go to unlock-bench, see --help),\
                 \n         then the middleware against bare axum, memory over 10,000 flows,\
                 \n         and card sign-ins through two instances against pgbench\
                 \n  bench signin|overhead|footprint [ARGS]  one of the issue-22 benches alone\
                 \n  bench spa  the SPA's bytes per page and its time to a usable unlock\
                 \n         page on a slow link, against a Leptos hello-world"
            );
            bail!("unknown command")
        }
    }
}

fn project_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

fn bin(root: &Path, name: &str) -> PathBuf {
    root.join("target/debug").join(name)
}

fn dist(root: &Path) -> PathBuf {
    root.join("target/dist")
}

/// Native binaries, then the SPA (WASM) through app/build.sh.
fn build(root: &Path) -> Result<()> {
    run(Command::new("cargo").args([
        "build",
        "--bin",
        "smartcard-server",
        "--bin",
        "card-bridge",
        "--bin",
        "virtual-card",
        "--bin",
        "seed-demo",
        "--bin",
        "notify-standin",
    ]))?;
    run(Command::new("bash")
        .arg("app/build.sh")
        .arg(dist(root))
        .env("PATH", setup::tool_path(root)))?;
    Ok(())
}

/// Everything the demo and the browser tests share: pcscd, the mail catcher, the text
/// message stand-in.
fn start_platform(root: &Path, run_dir: &Path) -> Result<Vec<Service>> {
    let mut services = Vec::new();
    if let Some(pcscd) = procs::ensure_pcscd(run_dir)? {
        services.push(pcscd);
    }
    if !procs::port_open(MAILDEV_WEB_PORT) {
        let maildev = Service::start(
            "maildev",
            Command::new(root.join("end2end/node_modules/.bin/maildev")).args([
                "--ip",
                "127.0.0.1",
                "--smtp",
                &SMTP_PORT.to_string(),
                "--web-ip",
                "127.0.0.1",
                "--web",
                &MAILDEV_WEB_PORT.to_string(),
            ]),
            run_dir,
        )?;
        wait_for_port(MAILDEV_WEB_PORT, Duration::from_secs(20))?;
        services.push(maildev);
    }
    if !procs::port_open(NOTIFY_PORT) {
        // The test run starts the platform before anything else is built.
        run(Command::new("cargo").args(["build", "--bin", "notify-standin"]))?;
        let notify = Service::start(
            "notify-standin",
            Command::new(bin(root, "notify-standin"))
                .args(["--listen", &format!("127.0.0.1:{NOTIFY_PORT}")])
                .args(["--api-key", NOTIFY_DEMO_KEY])
                .arg("--templates")
                .arg(root.join("deploy/notify/templates.toml")),
            run_dir,
        )?;
        wait_for_port(NOTIFY_PORT, Duration::from_secs(20))?;
        services.push(notify);
    }
    Ok(services)
}

/// Where the page and the card bridge are served: their ports on 127.0.0.1, and HTTPS
/// with the local certificate when `tls` is set.
#[derive(Clone, Copy)]
struct Web<'a> {
    port: u16,
    bridge_port: u16,
    tls: Option<&'a LocalTls>,
    /// OPS-6: the service role's URL of a PostgreSQL database shared by several
    /// instances (`fleet`); the run directory's SQLite file when none.
    database_url: Option<&'a str>,
}

impl Web<'_> {
    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    fn origin(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port)
    }

    fn bridge_url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.bridge_port)
    }
}

fn server_env(cmd: &mut Command, root: &Path, run_dir: &Path, web: Web) {
    cmd.env("SCSS_LISTEN", format!("127.0.0.1:{}", web.port))
        .env("SCSS_PUBLIC_ORIGIN", web.origin())
        .env(
            "SCSS_DATABASE_URL",
            web.database_url.map_or_else(
                || {
                    format!(
                        "sqlite://{}?mode=rwc",
                        run_dir.join("smartcard.db").display()
                    )
                },
                str::to_owned,
            ),
        )
        .env("SCSS_STATIC_DIR", dist(root))
        .env("SCSS_SMTP_HOST", "127.0.0.1")
        .env("SCSS_SMTP_PORT", SMTP_PORT.to_string())
        .env(
            "SCSS_NOTIFY_BASE_URL",
            format!("http://127.0.0.1:{NOTIFY_PORT}"),
        )
        .env("SCSS_NOTIFY_API_KEY", NOTIFY_DEMO_KEY)
        .env("SCSS_NOTIFY_SMS_TEMPLATE_ID", NOTIFY_SMS_TEMPLATE_ID)
        .env("SCSS_BRIDGE_URL", web.bridge_url())
        .env("SCSS_KEK_HEX", procs::demo_kek(run_dir))
        .env("SCSS_AUDIT_KEY_HEX", procs::demo_audit_key(run_dir))
        .env("SCSS_CODE_PEPPER_HEX", procs::demo_code_pepper(run_dir))
        .env("SCSS_GRANT_KEY_HEX", procs::demo_grant_key(run_dir));
    if web.database_url.is_some() {
        // The service role may not change the schema: `fleet::migrate` did, as the owner.
        cmd.env("SCSS_MIGRATE_ON_START", "false");
    }
    if let Some(tls) = web.tls {
        cmd.env("SCSS_TLS_CERT_FILE", tls.cert_file())
            .env("SCSS_TLS_KEY_FILE", tls.key_file());
    }
}

/// The demo users and their virtual cards (in `cards`), with the server's settings.
fn seed_demo(root: &Path, run_dir: &Path, web: Web, cards: &Path) -> Result<()> {
    let mut seed = Command::new(bin(root, "seed-demo"));
    seed.arg("--cards-dir").arg(cards);
    server_env(&mut seed, root, run_dir, web);
    run(&mut seed)
}

/// `smartcard-server serve` with this run's settings.
fn server_command(root: &Path, run_dir: &Path, web: Web) -> Command {
    let mut server = Command::new(bin(root, "smartcard-server"));
    server.arg("serve");
    server_env(&mut server, root, run_dir, web);
    // JOB-1: reminders go out within seconds of a card coming due, not a minute.
    server.env("SCSS_JOBS_INTERVAL_SECS", "5");
    server
}

/// The card bridge on `web`'s bridge port, reading vpcd's first reader, for `web`'s page
/// and pinning the server's grant key (on HTTPS when `web` is).
fn card_bridge_command(root: &Path, run_dir: &Path, web: Web) -> Result<Command> {
    let mut bridge = Command::new(bin(root, "card-bridge"));
    bridge
        .args([
            "--port",
            &web.bridge_port.to_string(),
            "--reader",
            VPCD_READER,
        ])
        .args(["--allow-origin", &web.origin()])
        .args(["--server-key", &grant_public_key(root, run_dir, web)?]);
    if let Some(tls) = web.tls {
        bridge.arg("--tls-dir").arg(tls.dir());
    }
    Ok(bridge)
}

/// John Rigby's virtual card (seeded locked) in vpcd's first reader.
fn johns_card_inserted(root: &Path, cards: &Path, run_dir: &Path) -> Result<Service> {
    Service::start(
        "virtual-card",
        Command::new(bin(root, "virtual-card"))
            .args(["insert", "--state"])
            .arg(cards.join("john-rigby.json"))
            .args(["--vpcd", VPCD_ADDR]),
        run_dir,
    )
}

/// The public key the bridge pins (BRG-5), from the server's own grant key.
fn grant_public_key(root: &Path, run_dir: &Path, web: Web) -> Result<String> {
    let mut cmd = Command::new(bin(root, "smartcard-server"));
    cmd.arg("grant-public-key");
    server_env(&mut cmd, root, run_dir, web);
    let output = cmd.output()?;
    if !output.status.success() {
        anyhow::bail!(
            "smartcard-server grant-public-key failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn test(root: &Path, args: &[String]) -> Result<()> {
    let started = std::time::Instant::now();
    setup::all(root)?;
    run(Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
    run(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    let run_dir = root.join(".run/test");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir)?;
    let mut services = start_platform(root, &run_dir)?;
    procs::ensure_postgres()?;
    run(Command::new("cargo")
        .args(["nextest", "run", "--workspace", "--no-fail-fast"])
        .env(
            "MAILDEV_API_URL",
            format!("http://127.0.0.1:{MAILDEV_WEB_PORT}"),
        )
        .env("MAILDEV_SMTP_PORT", SMTP_PORT.to_string()))?;
    // SMS-2: the Notify stand-in (built by `start_platform`) held to its OpenAPI contract.
    run(Command::new("bash").arg(root.join("notify-standin/contract/run.sh")))?;
    // OPS-1: the server held to the OpenAPI document it serves (built by the tests above).
    run(Command::new("cargo").args(["build", "--bin", "smartcard-server"]))?;
    run(Command::new("bash").arg(root.join("server/contract/run.sh")))?;
    // Issue 22: short versions of `cargo xtask load` and `chaos`.
    faults::short(root)?;
    if args.iter().any(|a| a == "--no-e2e") {
        return Ok(());
    }
    build(root)?;
    // Issue 18: the unlock page's size is a decision, checked like a test.
    let budget = spa_bench::check_budget(root);
    e2e::e2e_with(root, &run_dir, &mut services)?;
    budget?;
    println!("all suites passed in {:.0?}", started.elapsed());
    Ok(())
}
