//! Where the CPU went during a timed run (Linux `/proc`): the server processes, the
//! PostgreSQL processes, this bench, everything else, and idle — so a low ratio can be
//! told apart from a busy machine, and a step's cost split by who paid it. Times are in
//! USER_HZ ticks (100 per second on Linux).

/// One reading of the counters.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    machine_busy: u64,
    machine_total: u64,
    server: u64,
    postgres: u64,
    bench: u64,
}

/// Shares of all cores over the run (they add up to about 1), the server's CPU per step,
/// and all cores' time per step (a share of it is that part's CPU per step).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub server: f64,
    pub postgres: f64,
    pub bench: f64,
    pub other: f64,
    pub idle: f64,
    pub server_ms_per_step: f64,
    pub cores_ms_per_step: f64,
}

impl Usage {
    /// CPU time per step of a part whose share of all cores is `share`.
    pub fn ms_per_step(&self, share: f64) -> f64 {
        share * self.cores_ms_per_step
    }
}

const TICKS_PER_SEC: f64 = 100.0;

/// utime + stime of one process (all its threads), from `/proc/<pid>/stat`.
fn process_ticks(stat_path: &str) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(stat_path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3 of the man page, utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// The `cpu` line of `/proc/stat`: (busy, total).
fn machine_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4)?;
    Some((total - idle, total))
}

fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.bytes().all(|b| b.is_ascii_digit()).then_some(name)
        })
        .filter_map(|pid| process_ticks(&format!("/proc/{pid}/stat")))
        .filter(|(name, _)| name == "postgres")
        .map(|(_, ticks)| ticks)
        .sum()
}

/// Reads the counters now (the servers' summed); `None` where `/proc` is not there.
pub fn sample(server_pids: &[u32]) -> Option<Sample> {
    let (machine_busy, machine_total) = machine_ticks()?;
    let mut server = 0;
    for pid in server_pids {
        server += process_ticks(&format!("/proc/{pid}/stat"))?.1;
    }
    Some(Sample {
        machine_busy,
        machine_total,
        server,
        postgres: postgres_ticks(),
        bench: process_ticks("/proc/self/stat")?.1,
    })
}

impl Sample {
    pub fn usage_since(&self, before: &Sample, steps: usize) -> Usage {
        let total = self
            .machine_total
            .saturating_sub(before.machine_total)
            .max(1) as f64;
        let busy = self.machine_busy.saturating_sub(before.machine_busy) as f64;
        let server = self.server.saturating_sub(before.server) as f64;
        let postgres = self.postgres.saturating_sub(before.postgres) as f64;
        let bench = self.bench.saturating_sub(before.bench) as f64;
        let ours = server + postgres + bench;
        Usage {
            server: server / total,
            postgres: postgres / total,
            bench: bench / total,
            other: ((busy - ours) / total).max(0.0),
            idle: 1.0 - busy / total,
            server_ms_per_step: server / TICKS_PER_SEC * 1000.0 / steps.max(1) as f64,
            cores_ms_per_step: total / TICKS_PER_SEC * 1000.0 / steps.max(1) as f64,
        }
    }
}
