//! `cargo xtask bench [ARGS]`: release-builds the server and `unlock-bench`, then runs
//! the bench with ARGS passed through (`--help` lists them). A measurement, not a test:
//! CI does not run it.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::procs::run;

pub fn bench(root: &Path, args: &[String]) -> Result<()> {
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
        "unlock-bench",
    ]))?;
    run(Command::new(root.join("target/release/unlock-bench")).args(args))
}
