//! pgbench's TPC-B-like transactions per second on a database of its own, on the same
//! PostgreSQL as the product (issue 22's yardstick for a sign-in), and what a
//! transaction cost the whole machine.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::backend::{random_hex, PG_ADMIN};
use crate::cpu;

/// One pgbench run.
pub struct Pgbench {
    pub tps: f64,
    /// Busy CPU time of the whole machine per transaction (none without `/proc`).
    pub busy_ms_per_transaction: Option<f64>,
}

/// `clients` clients on two threads for `length`, at scale 10, then the database gone.
pub fn run(clients: usize, length: Duration) -> Result<Pgbench> {
    let name = format!("scss_pgbench_{}", random_hex(4));
    let admin = PG_ADMIN.to_owned();
    let url = admin.replace("/test", &format!("/{name}"));
    let psql = |sql: String| {
        Command::new("psql")
            .args([admin.as_str(), "-q", "-c", &sql])
            .status()
    };
    if !psql(format!("CREATE DATABASE {name}"))?.success() {
        bail!("could not create {name}");
    }
    let measured = (|| -> Result<Pgbench> {
        let init = Command::new("pgbench")
            .args(["-i", "-q", "-s", "10", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !init.success() {
            bail!("pgbench -i failed");
        }
        let clients = clients.to_string();
        let secs = length.as_secs().max(1);
        let from = cpu::sample(&[]);
        let output = Command::new("pgbench")
            .args([
                "-n",
                "-c",
                &clients,
                "-j",
                "2",
                "-T",
                &secs.to_string(),
                &url,
            ])
            .output()?;
        let to = cpu::sample(&[]);
        let text = String::from_utf8_lossy(&output.stdout);
        let tps: f64 = text
            .lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|tps| tps.parse().ok())
            .with_context(|| format!("no tps in pgbench's output: {text}"))?;
        let transactions = (tps * secs as f64).round().max(1.0) as usize;
        let busy_ms_per_transaction = from.zip(to).map(|(from, to)| {
            let usage = to.usage_since(&from, transactions);
            usage.ms_per_step(1.0 - usage.idle)
        });
        Ok(Pgbench {
            tps,
            busy_ms_per_transaction,
        })
    })();
    let _ = psql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    measured
}
