//! Installs what the build and the tests need on a fresh machine of our kind, and skips
//! whatever is already there: Debian packages (the browsers and their WebDriver servers
//! among them), the WASM target, npm packages, wasm-bindgen-cli (pinned to the version
//! in Cargo.lock) and geckodriver.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::procs::run;

const APT_PACKAGES: &[&str] = &[
    "pcscd",
    "libpcsclite-dev",
    "vsmartcard-vpcd",
    "pkg-config",
    "chromium",
    "opensc",
    "yubico-piv-tool",
    "brotli",
    // certutil: the card bridge trusts its local CA in browsers' NSS databases (BRG-7).
    "libnss3-tools",
    // The browser tests' other engines (ALL-3): Firefox ESR and WebKitGTK (Safari's engine)
    // through W3C WebDriver, WebKitGTK in a virtual display.
    "firefox-esr",
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    // OPS-6: the load balancer in front of several instances, and psql/pg_dump for the
    // database they share (roles, migrations as the owner, the browser tests' checks).
    "haproxy",
    "postgresql-client",
];

/// geckodriver, Firefox's WebDriver server, from crates.io.
const GECKODRIVER_VERSION: &str = "0.37.1";

pub fn all(root: &Path) -> Result<()> {
    apt()?;
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    // app/api-docs: Swagger UI for the API reference page (OPS-1), without install
    // scripts: swagger-ui-dist's only reports the install to its vendor.
    for (dir, scripts) in [("style", true), ("end2end", true), ("app/api-docs", false)] {
        if !root
            .join(dir)
            .join("node_modules/.package-lock.json")
            .exists()
        {
            let mut npm = Command::new("npm");
            npm.args(["ci", "--no-audit", "--no-fund"]);
            if !scripts {
                npm.arg("--ignore-scripts");
            }
            run(npm.current_dir(root.join(dir)))?;
        }
    }
    wasm_bindgen_cli(root)?;
    geckodriver(root)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn apt() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| !installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// PATH with the project's own tools first.
pub fn tool_path(root: &Path) -> OsString {
    let mut paths = vec![root.join(".tools/bin")];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap_or_default()
}

fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + marker.len();
    let end = lock[start..].find('"').context("malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_owned())
}

fn wasm_bindgen_cli(root: &Path) -> Result<()> {
    let version = locked_version(root, "wasm-bindgen")?;
    // Not --locked: one of its locked dependencies is missing from the index.
    cargo_tool(root, "wasm-bindgen-cli", "wasm-bindgen", &version)
}

fn geckodriver(root: &Path) -> Result<()> {
    cargo_tool(root, "geckodriver", "geckodriver", GECKODRIVER_VERSION)
}

/// `cargo install`s `package` at `version` into `.tools/`, unless its `binary` there
/// already says that version.
fn cargo_tool(root: &Path, package: &str, binary: &str, version: &str) -> Result<()> {
    let current = Command::new(root.join(".tools/bin").join(binary))
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if current.contains(version) {
        return Ok(());
    }
    run(Command::new("cargo")
        .args(["install", package, "--version", version, "--root"])
        .arg(root.join(".tools"))
        .arg("--target-dir")
        .arg(root.join("target/tools")))
}
