//! `cargo xtask load [ARGS]` and `cargo xtask chaos [ARGS]` (issue 22): release-builds the
//! server and the `load` or `chaos` instrument of the bench crate and runs it, ARGS passed
//! through (`--help` lists them). Both run on loopback against PostgreSQL and stop by
//! themselves. [`short`] is the short version of each that `cargo xtask test` runs, on
//! debug builds: correctness under load and faults, not speed.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::procs::{ensure_postgres, run};

/// `load` or `chaos`, release-built, with `args`.
pub fn instrument(root: &Path, name: &str, args: &[String]) -> Result<()> {
    crate::setup::all(root)?;
    ensure_postgres()?;
    run(Command::new("cargo").args([
        "build",
        "--release",
        "-p",
        "server",
        "--bin",
        "smartcard-server",
        "-p",
        "bench",
        "--bin",
        name,
    ]))?;
    run(Command::new(root.join("target/release").join(name)).args(args))
}

/// 20 clients for 15 s through three instances; then 60 flows over 20 s with an
/// instance killed every 4 s.
pub fn short(root: &Path) -> Result<()> {
    run(Command::new("cargo").args([
        "build",
        "-p",
        "server",
        "--bin",
        "smartcard-server",
        "-p",
        "bench",
        "--bin",
        "load",
        "--bin",
        "chaos",
    ]))?;
    let debug = root.join("target/debug");
    run(Command::new(debug.join("load")).args(["--clients", "20", "--secs", "15"]))?;
    run(Command::new(debug.join("chaos")).args([
        "--flows",
        "60",
        "--secs",
        "20",
        "--clients",
        "10",
        "--kill-every",
        "4",
    ]))
}
