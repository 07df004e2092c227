//! `cargo xtask bench [ARGS]`: release-builds the server and the benches, then runs
//! `unlock-bench` with ARGS passed through (`--help` lists them) and `signin-bench`, whose
//! last line is `signin X.XX of pgbench`. `cargo xtask bench signin [ARGS]` runs only the
//! sign-in bench (ARGS to `signin-bench`); `cargo xtask bench spa` measures the SPA
//! instead ([`crate::spa_bench`]). Measurements, not tests: CI does not run them.

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
        "--bin",
        "signin-bench",
    ]))?;
    let signin = root.join("target/release/signin-bench");
    if args.first().map(String::as_str) == Some("signin") {
        return run(Command::new(signin).args(&args[1..]));
    }
    run(Command::new(root.join("target/release/unlock-bench")).args(args))?;
    // OPS-6 / issue 22: sign-ins through two instances against pgbench, last.
    run(&mut Command::new(signin))
}
