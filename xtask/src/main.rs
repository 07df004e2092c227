//! `cargo xtask …`: the project's set-up, build, demo and test orchestration, so the
//! README's two commands (`cargo xtask demo`, `cargo xtask test`) do everything on a
//! fresh machine.

mod bench;
mod procs;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use procs::{run, wait_for_port, Service};

/// Ports the demo and the browser tests use.
const SERVER_PORT: u16 = 8080;
const BRIDGE_PORT: u16 = 9981;
const E2E_SERVER_PORT: u16 = 18080;
const E2E_BRIDGE_PORT: u16 = 19981;
const SMTP_PORT: u16 = 1025;
const MAILDEV_WEB_PORT: u16 = 1080;
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
        Some("demo") => demo(&root),
        Some("test") => test(&root, &args[1..]),
        Some("bench") => bench::bench(&root, &args[1..]),
        Some("e2e") => {
            setup::all(&root)?;
            build(&root)?;
            e2e(&root)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <setup|build|demo|test|e2e|bench>\n\
                 \n  setup  install system packages, npm packages and tools\
                 \n  build  build the server, card bridge, virtual card and the SPA\
                 \n  demo   run the whole product with a simulated card and a mail catcher\
                 \n  test   run every test (what CI runs)\
                 \n  e2e    only the Playwright browser tests\
                 \n  bench  measure the unlock's answers step against the argon2id bound\
                 \n         (release build; ARGS after it go to unlock-bench, see --help)"
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
    ]))?;
    run(Command::new("bash")
        .arg("app/build.sh")
        .arg(dist(root))
        .env("PATH", setup::tool_path(root)))?;
    Ok(())
}

/// Everything the demo and the browser tests share: pcscd, the mail catcher.
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
    Ok(services)
}

fn server_env(cmd: &mut Command, root: &Path, run_dir: &Path, port: u16, bridge_port: u16) {
    cmd.env("SCSS_LISTEN", format!("127.0.0.1:{port}"))
        .env("SCSS_PUBLIC_ORIGIN", format!("http://127.0.0.1:{port}"))
        .env(
            "SCSS_DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                run_dir.join("smartcard.db").display()
            ),
        )
        .env("SCSS_STATIC_DIR", dist(root))
        .env("SCSS_SMTP_HOST", "127.0.0.1")
        .env("SCSS_SMTP_PORT", SMTP_PORT.to_string())
        .env("SCSS_BRIDGE_URL", format!("http://127.0.0.1:{bridge_port}"))
        .env("SCSS_KEK_HEX", procs::demo_kek(run_dir))
        .env("SCSS_AUDIT_KEY_HEX", procs::demo_audit_key(run_dir))
        .env("SCSS_CODE_PEPPER_HEX", procs::demo_code_pepper(run_dir))
        .env("SCSS_GRANT_KEY_HEX", procs::demo_grant_key(run_dir));
}

/// The public key the bridge pins (BRG-5), from the server's own grant key.
fn grant_public_key(root: &Path, run_dir: &Path, port: u16, bridge_port: u16) -> Result<String> {
    let mut cmd = Command::new(bin(root, "smartcard-server"));
    cmd.arg("grant-public-key");
    server_env(&mut cmd, root, run_dir, port, bridge_port);
    let output = cmd.output()?;
    if !output.status.success() {
        anyhow::bail!(
            "smartcard-server grant-public-key failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn demo(root: &Path) -> Result<()> {
    setup::all(root)?;
    build(root)?;
    let run_dir = root.join(".run/demo");
    std::fs::create_dir_all(&run_dir)?;
    let cards = run_dir.join("cards");
    let mut services = start_platform(root, &run_dir)?;

    let mut seed = Command::new(bin(root, "seed-demo"));
    seed.arg("--cards-dir").arg(&cards);
    server_env(&mut seed, root, &run_dir, SERVER_PORT, BRIDGE_PORT);
    run(&mut seed)?;

    services.push(Service::start(
        "virtual-card",
        Command::new(bin(root, "virtual-card"))
            .args(["insert", "--state"])
            .arg(cards.join("john-rigby.json"))
            .args(["--vpcd", VPCD_ADDR]),
        &run_dir,
    )?);
    let origin = format!("http://127.0.0.1:{SERVER_PORT}");
    services.push(Service::start(
        "card-bridge",
        Command::new(bin(root, "card-bridge"))
            .args(["--port", &BRIDGE_PORT.to_string(), "--reader", VPCD_READER])
            .args(["--allow-origin", &origin])
            // `trunk serve` (README, "Working on the SPA") serves the page from :8081.
            .args(["--allow-origin", "http://127.0.0.1:8081"])
            .args([
                "--server-key",
                &grant_public_key(root, &run_dir, SERVER_PORT, BRIDGE_PORT)?,
            ]),
        &run_dir,
    )?);
    let mut server = Command::new(bin(root, "smartcard-server"));
    server.arg("serve");
    server_env(&mut server, root, &run_dir, SERVER_PORT, BRIDGE_PORT);
    services.push(Service::start("server", &mut server, &run_dir)?);
    wait_for_port(SERVER_PORT, Duration::from_secs(30))?;
    wait_for_port(BRIDGE_PORT, Duration::from_secs(30))?;

    println!(
        "\n==================== Smartcard Self-Service demo ====================\n\
         Open   http://127.0.0.1:{SERVER_PORT}/  (browser tests prove it in Chromium)\n\
         Card   John Rigby's locked virtual card is in reader \"{VPCD_READER}\"\n\
         \x20      (through pcscd + vpcd; the card bridge listens on 127.0.0.1:{BRIDGE_PORT})\n\
         Answers to his security questions were printed above by seed-demo.\n\
         Mail   read the emailed unlock code at http://127.0.0.1:{MAILDEV_WEB_PORT}/\n\
         RA     http://127.0.0.1:{SERVER_PORT}/ra with an RA's card in the reader (PIN 1234):\n\
         \x20      target/debug/virtual-card insert --state {cards}/ravi-patel.json (agent)\n\
         \x20      or {cards}/grace-okafor.json (manager), after stopping John's card\n\
         Logs   {}\n\
         Stop   Ctrl-C\n\
         ======================================================================",
        run_dir.display(),
        cards = run_dir.join("cards").display(),
    );
    procs::wait_for_ctrl_c(&mut services)
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
    if args.iter().any(|a| a == "--no-e2e") {
        return Ok(());
    }
    build(root)?;
    e2e_with(root, &run_dir, &mut services)?;
    println!("all suites passed in {:.0?}", started.elapsed());
    Ok(())
}

fn e2e(root: &Path) -> Result<()> {
    let run_dir = root.join(".run/e2e");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir)?;
    let mut services = start_platform(root, &run_dir)?;
    e2e_with(root, &run_dir, &mut services)
}

/// Starts the server; Playwright's fixtures run the card and the bridge per test, so a
/// test can pull the card or stop the bridge.
fn e2e_with(root: &Path, run_dir: &Path, services: &mut Vec<Service>) -> Result<()> {
    let cards = run_dir.join("cards");
    let mut seed = Command::new(bin(root, "seed-demo"));
    seed.arg("--cards-dir").arg(&cards);
    server_env(&mut seed, root, run_dir, E2E_SERVER_PORT, E2E_BRIDGE_PORT);
    run(&mut seed)?;
    let mut server = Command::new(bin(root, "smartcard-server"));
    server.arg("serve");
    server_env(&mut server, root, run_dir, E2E_SERVER_PORT, E2E_BRIDGE_PORT);
    services.push(Service::start("server", &mut server, run_dir)?);
    wait_for_port(E2E_SERVER_PORT, Duration::from_secs(30))?;

    let mut seed_env: Vec<(String, String)> = Vec::new();
    let mut probe = Command::new("true");
    server_env(&mut probe, root, run_dir, E2E_SERVER_PORT, E2E_BRIDGE_PORT);
    for (key, value) in probe.get_envs() {
        if let (Some(key), Some(value)) = (key.to_str(), value.and_then(|v| v.to_str())) {
            seed_env.push((key.to_owned(), value.to_owned()));
        }
    }
    let tmp = run_dir.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    run(
        Command::new(root.join("end2end/node_modules/.bin/playwright"))
            .arg("test")
            .current_dir(root.join("end2end"))
            .envs(seed_env)
            .env("TMPDIR", &tmp)
            .env(
                "E2E_BASE_URL",
                format!("http://127.0.0.1:{E2E_SERVER_PORT}"),
            )
            .env("E2E_BRIDGE_PORT", E2E_BRIDGE_PORT.to_string())
            .env(
                "CARD_BRIDGE_SERVER_KEY",
                grant_public_key(root, run_dir, E2E_SERVER_PORT, E2E_BRIDGE_PORT)?,
            )
            .env(
                "E2E_MAILDEV_URL",
                format!("http://127.0.0.1:{MAILDEV_WEB_PORT}"),
            )
            .env("E2E_VPCD_ADDR", VPCD_ADDR)
            .env("E2E_VPCD_READER", VPCD_READER)
            .env("E2E_CARDS_DIR", &cards)
            .env("E2E_RUN_DIR", run_dir)
            .env("E2E_BIN_DIR", root.join("target/debug")),
    )?;
    Ok(())
}
