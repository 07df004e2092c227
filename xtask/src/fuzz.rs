//! `cargo xtask fuzz [SECONDS]` (issue 22, ALL-2): every cargo-fuzz target in `fuzz/` for
//! SECONDS each (default 600) under libFuzzer with nightly's address sanitizer, growing
//! its corpus in `fuzz/corpus/<target>/`, then minimising it. A crash stops the run with
//! the input saved in `fuzz/artifacts/`; the kept corpus is replayed on stable by
//! fuzz-targets' test in every `cargo xtask test`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::procs::run;
use crate::setup;

/// The targets, as `fuzz/Cargo.toml` names them (and fuzz-targets' `TARGETS`).
const TARGETS: [&str; 5] = [
    "card_answers",
    "scp03_card_unwrap",
    "scp03_host_unwrap",
    "api_json",
    "settings",
];

pub fn fuzz(root: &Path, args: &[String]) -> Result<()> {
    let seconds: u64 = match args.first() {
        Some(text) => text
            .parse()
            .context("usage: cargo xtask fuzz [SECONDS per target]")?,
        None => 600,
    };
    let tools = root.join(".tools");
    if !tools.join("bin/cargo-fuzz").exists() {
        run(Command::new("cargo")
            .args(["install", "--locked", "cargo-fuzz", "--root"])
            .arg(&tools))?;
    }
    let path = setup::tool_path(root);
    for target in TARGETS {
        let corpus = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        run(Command::new("cargo")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .args(["--", &format!("-max_total_time={seconds}"), "-timeout=10"])
            .env("PATH", &path)
            .current_dir(root))?;
        // Only what adds coverage is kept, so the replay test stays quick.
        run(Command::new("cargo")
            .args(["+nightly", "fuzz", "cmin", target])
            .arg(&corpus)
            .env("PATH", &path)
            .current_dir(root))?;
    }
    println!(
        "fuzzed {} targets for {seconds} s each: no crash, no hang",
        TARGETS.len()
    );
    Ok(())
}
