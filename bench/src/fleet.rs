//! Several release instances on one database behind HAProxy (OPS-6), as
//! `deploy/haproxy/haproxy.cfg` arranges them: each request to the next instance, an
//! instance out when its `/readyz` says it is draining or has lost its database or
//! schema, a failed connection tried on another. Instances can be killed (SIGKILL) and
//! started again, as systemd's `Restart=always` would; their resident memory is read
//! from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::process::{free_port, ServerConfig, ServerProcess};

pub struct Instance {
    pub config: ServerConfig,
    /// None while it is dead.
    pub process: Option<ServerProcess>,
}

pub struct Fleet {
    binary: PathBuf,
    dir: PathBuf,
    pub instances: Vec<Instance>,
    _balancer: Balancer,
    /// The origin the page is served from: the balancer.
    pub origin: String,
}

impl Fleet {
    /// `count` instances with `config`'s settings (its `public_port` is the balancer's),
    /// each healthy before the balancer starts.
    pub async fn start(
        binary: &Path,
        config: &ServerConfig,
        count: u16,
        dir: &Path,
    ) -> Result<Self> {
        let client = reqwest::Client::new();
        let mut instances = Vec::new();
        for n in 0..count {
            let config = if n == 0 {
                config.clone()
            } else {
                config.on_port(free_port()?)
            };
            let mut process = ServerProcess::start(binary, &config, dir)?;
            process
                .wait_healthy(&client, Duration::from_secs(60))
                .await?;
            instances.push(Instance {
                config,
                process: Some(process),
            });
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.config.port).collect();
        let balancer = Balancer::start(config.public_port, &ports, dir)?;
        let origin = config.base_url();
        let fleet = Self {
            binary: binary.to_owned(),
            dir: dir.to_owned(),
            instances,
            _balancer: balancer,
            origin,
        };
        fleet.wait_balanced(&client).await?;
        Ok(fleet)
    }

    async fn wait_balanced(&self, client: &reqwest::Client) -> Result<()> {
        let url = format!("{}/healthz", self.origin);
        for _ in 0..100 {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("no answer through the balancer at {url}")
    }

    /// SIGKILL: no draining, nothing finished.
    pub fn kill(&mut self, n: usize) {
        if let Some(instance) = self.instances.get_mut(n) {
            // ServerProcess's drop kills (SIGKILL) and reaps.
            instance.process = None;
        }
    }

    /// Starts instance `n` again on its port, and waits until it answers.
    pub async fn restart(&mut self, n: usize) -> Result<()> {
        let Some(instance) = self.instances.get_mut(n) else {
            return Ok(());
        };
        let mut process = ServerProcess::start(&self.binary, &instance.config, &self.dir)?;
        process
            .wait_healthy(&reqwest::Client::new(), Duration::from_secs(60))
            .await?;
        instance.process = Some(process);
        Ok(())
    }

    /// Each running instance's resident memory, KiB.
    pub fn resident_kib(&self) -> Result<Vec<u64>> {
        self.instances
            .iter()
            .filter_map(|i| i.process.as_ref())
            .map(|p| resident_kib(p.pid()))
            .collect()
    }
}

/// `VmRSS` from `/proc/<pid>/status`.
pub fn resident_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading process {pid}'s status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("no VmRSS for process {pid}"))
}

/// HAProxy in front of the instances, killed when dropped.
pub struct Balancer(Child);

impl Balancer {
    pub fn start(port: u16, instances: &[u16], dir: &Path) -> Result<Self> {
        let servers: String = instances
            .iter()
            .enumerate()
            .map(|(n, port)| format!("    server i{n} 127.0.0.1:{port}\n"))
            .collect();
        let config = dir.join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n    maxconn 4000\n\
                 defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
                 timeout server 60s\n    retry-on conn-failure\n    retries 2\n    \
                 option redispatch 1\n\
                 frontend bench\n    bind 127.0.0.1:{port}\n    option forwardfor\n    \
                 default_backend instances\n\
                 backend instances\n    balance roundrobin\n    option httpchk GET /readyz\n    \
                 http-check expect rstring \"\\\"draining\\\":false,\\\"database\\\":\\\"ok\\\",\
                 \\\"schema\\\":\\\"ok\\\"\"\n    default-server check inter 500 fall 1 rise 1\n\
                 {servers}"
            ),
        )?;
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting haproxy (cargo xtask setup installs it)")?;
        Ok(Self(child))
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
