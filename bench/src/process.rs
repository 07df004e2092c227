//! The release server as a child process on a free port, with mail pointed at a closed
//! port (nothing is delivered; the outbox worker retries, as it would with the relay
//! down). Killed when dropped, so every exit — errors included — stops it.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use api_types::unlock::Health;
use api_types::Endpoint;
use secrecy::SecretString;
use server::Settings;

use crate::backend::random_hex;

/// One server's settings: what the child gets as `SCSS_*` variables, and the same values
/// as [`Settings`] for the bench's own enrolment (so the KEK and hasher match).
#[derive(Clone)]
pub struct ServerConfig {
    pub port: u16,
    /// Where the page is served from: this server, or the load balancer in front of it.
    pub public_port: u16,
    /// Nothing listens there: mail is never delivered.
    pub smtp_port: u16,
    pub database_url: String,
    /// argon2id (memory KiB, iterations).
    pub cost: (u32, u32),
    /// Where `/metrics` is served (OPS-2), if anywhere.
    pub metrics_port: Option<u16>,
    kek_hex: String,
    audit_key_hex: String,
    code_pepper_hex: String,
    grant_key_hex: String,
}

impl ServerConfig {
    /// Fresh ports and keys; every setting not named here is the default.
    pub fn new(database_url: &str, cost: (u32, u32)) -> Result<Self> {
        let port = free_port()?;
        Ok(Self {
            port,
            public_port: port,
            smtp_port: free_port()?,
            database_url: database_url.to_owned(),
            cost,
            metrics_port: None,
            kek_hex: random_hex(32),
            audit_key_hex: random_hex(32),
            code_pepper_hex: random_hex(32),
            grant_key_hex: random_hex(32),
        })
    }

    /// The page's origin: the server itself, as in the demo, or its load balancer.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public_port)
    }

    /// The same instance's settings on another port (another instance behind the same
    /// load balancer).
    pub fn on_port(&self, port: u16) -> Self {
        Self {
            port,
            // Each instance's metrics need an address of their own.
            metrics_port: None,
            ..self.clone()
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let metrics = self
            .metrics_port
            .map(|port| ("SCSS_METRICS_LISTEN", format!("127.0.0.1:{port}")));
        vec![
            ("SCSS_LISTEN", format!("127.0.0.1:{}", self.port)),
            ("SCSS_PUBLIC_ORIGIN", self.base_url()),
            // The bench stands in for the reverse proxy in front of many users.
            ("SCSS_TRUSTED_PROXIES", "127.0.0.1".into()),
            ("SCSS_DATABASE_URL", self.database_url.clone()),
            ("SCSS_KEK_HEX", self.kek_hex.clone()),
            ("SCSS_AUDIT_KEY_HEX", self.audit_key_hex.clone()),
            ("SCSS_CODE_PEPPER_HEX", self.code_pepper_hex.clone()),
            ("SCSS_GRANT_KEY_HEX", self.grant_key_hex.clone()),
            ("SCSS_ARGON2_MEMORY_KIB", self.cost.0.to_string()),
            ("SCSS_ARGON2_ITERATIONS", self.cost.1.to_string()),
            ("SCSS_SMTP_HOST", "127.0.0.1".into()),
            ("SCSS_SMTP_PORT", self.smtp_port.to_string()),
        ]
        .into_iter()
        .chain(metrics)
        .collect()
    }

    /// The same settings, for an [`server::AppState`] in the bench.
    pub fn settings(&self) -> Result<Settings> {
        Ok(Settings {
            listen: format!("127.0.0.1:{}", self.port).parse()?,
            public_origin: self.base_url(),
            trusted_proxies: vec![[127, 0, 0, 1].into()],
            database_url: self.database_url.clone(),
            kek_hex: SecretString::from(self.kek_hex.as_str()),
            audit_key_hex: SecretString::from(self.audit_key_hex.as_str()),
            code_pepper_hex: SecretString::from(self.code_pepper_hex.as_str()),
            grant_key_hex: SecretString::from(self.grant_key_hex.as_str()),
            argon2_memory_kib: self.cost.0,
            argon2_iterations: self.cost.1,
            smtp_host: "127.0.0.1".into(),
            smtp_port: self.smtp_port,
            ..Settings::default()
        })
    }
}

pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub log: PathBuf,
}

/// The release server binary: `explicit`, or `smartcard-server` beside the running bench.
pub fn server_binary(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path.to_owned()),
        None => Ok(std::env::current_exe()?
            .parent()
            .context("this binary has no directory")?
            .join("smartcard-server")),
    }
}

/// A port nothing listens on right now (bound, read, released).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl ServerProcess {
    /// `smartcard-server serve` with `config`, its output in `<dir>/server-<port>.log`.
    pub fn start(binary: &Path, config: &ServerConfig, dir: &Path) -> Result<Self> {
        let log = dir.join(format!("server-{}.log", config.port));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(binary);
        // Only the settings above: nothing inherited may change what is measured.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SCSS_") {
                command.env_remove(name);
            }
        }
        let child = command
            .arg("serve")
            .envs(config.env())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self {
            child,
            base_url: format!("http://127.0.0.1:{}", config.port),
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `/api/health` until it answers 200.
    pub async fn wait_healthy(&mut self, client: &reqwest::Client, within: Duration) -> Result<()> {
        let url = format!("{}{}", self.base_url, Health::path(&()));
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited ({status}); {}", self.log_tail());
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "no answer from {url} within {within:?}; {}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        format!("server log {}:\n{tail}", self.log.display())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
