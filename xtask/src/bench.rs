//! `cargo xtask bench [ARGS]`: release-builds the server and the benches, then runs
//! `unlock-bench` with ARGS passed through (`--help` lists them), `overhead-bench` (a
//! non-KDF endpoint against bare axum), `bridge-bench` (the card bridge's added time over
//! raw PC/SC; pcscd with vpcd is started if it is not running), `footprint-bench`
//! (resident memory over 10,000 flows) and last `signin-bench`, whose last line is
//! `signin X.XX of pgbench`. `cargo xtask bench NAME [ARGS]` runs one of `signin`,
//! `overhead`, `bridge`, `footprint` alone (ARGS to it); `cargo xtask bench spa` measures
//! the SPA instead ([`crate::spa_bench`]). Measurements, not tests: CI does not run them.

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
        "--bin",
        "overhead-bench",
        "--bin",
        "hello-axum",
        "--bin",
        "footprint-bench",
        "--bin",
        "bridge-bench",
        "-p",
        "card-bridge",
        "--bin",
        "card-bridge",
    ]))?;
    let release = root.join("target/release");
    let one = |name: &str| release.join(format!("{name}-bench"));
    // The bridge bench's card sits behind pcscd with vpcd, as in the demo.
    let run_dir = root.join(".run/bench");
    std::fs::create_dir_all(&run_dir)?;
    let _pcscd = crate::procs::ensure_pcscd(&run_dir)?;
    if let Some(name @ ("signin" | "overhead" | "footprint" | "bridge")) =
        args.first().map(String::as_str)
    {
        return run(Command::new(one(name)).args(&args[1..]));
    }
    run(Command::new(release.join("unlock-bench")).args(args))?;
    // Issue 22: the middleware against bare axum, the bridge against raw PC/SC, memory
    // over 10,000 flows, and the sign-ins through two instances against pgbench, last.
    run(&mut Command::new(one("overhead")))?;
    run(&mut Command::new(one("bridge")))?;
    run(&mut Command::new(one("footprint")))?;
    run(&mut Command::new(one("signin")))
}
