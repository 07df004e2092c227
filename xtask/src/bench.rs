//! `cargo xtask bench [ARGS]`: release-builds the server and `unlock-bench`, then runs
//! the bench with ARGS passed through (`--help` lists them); `cargo xtask bench spa`
//! measures the SPA instead ([`crate::spa_bench`]). Measurements, not tests: CI does not
//! run them.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::procs::run;

pub fn bench(root: &Path, args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("spa") {
        crate::setup::all(root)?;
        return crate::spa_bench::bench(root);
    }
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
