//! Child processes the demo and the tests start, stopped again when dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd.get_program());
    }
    Ok(())
}

pub struct Service {
    name: String,
    child: Child,
    /// A card, or one of several instances behind a load balancer: its ending is part of
    /// the demo (a card taken out, an instance killed to see the others carry on), not a
    /// failure.
    removable: bool,
}

impl Service {
    /// Starts `cmd` in the background, its output in `<log_dir>/<name>.log`.
    pub fn start(name: &str, cmd: &mut Command, log_dir: &Path) -> Result<Self> {
        let log_path = log_dir.join(format!("{name}.log"));
        let log = File::create(&log_path)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        eprintln!(
            "xtask: started {name} (pid {}), log {}",
            child.id(),
            log_path.display()
        );
        Ok(Self {
            name: name.to_owned(),
            child,
            removable: false,
        })
    }

    /// A service whose ending the demo reports and carries on after (a card taken out, an
    /// instance of several killed).
    pub fn removable(mut self) -> Self {
        self.removable = true;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // SIGTERM first so the virtual card and the server close cleanly.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: {} did not stop on SIGTERM; killed", self.name);
    }
}

pub fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

pub fn wait_for_port(port: u16, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if port_open(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on 127.0.0.1:{port} after {limit:?}")
}

/// pcscd with the vpcd driver (virtual readers on ports 35963/35964), if not running.
pub fn ensure_pcscd(log_dir: &Path) -> Result<Option<Service>> {
    let running = Command::new("pgrep")
        .args(["-x", "pcscd"])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if running {
        return Ok(None);
    }
    // Not --auto-exit: it quits after 60 s idle and nothing restarts it.
    let service = Service::start(
        "pcscd",
        Command::new("/usr/sbin/pcscd").arg("--foreground"),
        log_dir,
    )?;
    wait_for_port(35963, Duration::from_secs(10))?;
    Ok(Some(service))
}

pub fn ensure_postgres() -> Result<()> {
    if port_open(5432) {
        return Ok(());
    }
    eprintln!("xtask: PostgreSQL is not answering on 5432; trying to start it");
    let versions = std::fs::read_dir("/etc/postgresql").context("no PostgreSQL installed")?;
    for version in versions.flatten() {
        let _ = Command::new("pg_ctlcluster")
            .arg("--skip-systemctl-redirect")
            .arg(version.file_name())
            .args(["main", "start"])
            .status();
    }
    wait_for_port(5432, Duration::from_secs(20))
}

/// The demo's key-encryption key: random once, then kept with the demo's database.
/// The demo's key-encryption key, kept in the run directory across restarts.
pub fn demo_kek(run_dir: &Path) -> String {
    demo_key(run_dir, "kek.hex")
}

/// The demo's audit chain key, kept like the KEK.
pub fn demo_audit_key(run_dir: &Path) -> String {
    demo_key(run_dir, "audit-key.hex")
}

/// The demo's pepper for unlock-code hashes, kept like the KEK.
pub fn demo_code_pepper(run_dir: &Path) -> String {
    demo_key(run_dir, "code-pepper.hex")
}

/// The demo's key for signing bridge grants (BRG-5), kept like the KEK.
pub fn demo_grant_key(run_dir: &Path) -> String {
    demo_key(run_dir, "grant-key.hex")
}

fn demo_key(run_dir: &Path, file: &str) -> String {
    let path = run_dir.join(file);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() == 64 {
            return existing.trim().to_owned();
        }
    }
    let mut bytes = [0u8; 32];
    let random =
        File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if random.is_err() {
        eprintln!("xtask: cannot read /dev/urandom");
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let _ = std::fs::write(&path, &hex);
    hex
}

pub fn wait_for_ctrl_c(services: &mut [Service]) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    let mut taken_out = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        for service in services.iter_mut() {
            match service.exited() {
                Some(status) if !service.removable => {
                    bail!(
                        "{} stopped unexpectedly ({status}); see its log",
                        service.name
                    );
                }
                Some(status) if !taken_out.contains(&service.name) => {
                    eprintln!(
                        "xtask: {} stopped ({status}); the demo carries on",
                        service.name
                    );
                    taken_out.push(service.name.clone());
                }
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    eprintln!("\nxtask: stopping the demo");
    Ok(())
}
