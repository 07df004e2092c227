//! The real `smartcard-server` binary as a child process, for what only a process shows:
//! its log as written (ALL-7, OPS-3) and how it stops on a signal (OPS-5).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::ORIGIN;

/// Killed when dropped, if it has not stopped by itself.
pub struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    /// `serve` on a free port, its output in `log`, once it accepts connections.
    pub async fn start(database_url: &str, log: &Path, env: &[(&str, &str)]) -> (Self, u16) {
        let port = free_port();
        let maildev_smtp = std::env::var("MAILDEV_SMTP_PORT").unwrap_or_else(|_| "1025".into());
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_smartcard-server"))
            .arg("serve")
            .env("SCSS_LISTEN", format!("127.0.0.1:{port}"))
            .env("SCSS_DATABASE_URL", database_url)
            .env("SCSS_KEK_HEX", "11".repeat(32))
            .env("SCSS_AUDIT_KEY_HEX", "22".repeat(32))
            .env("SCSS_CODE_PEPPER_HEX", "33".repeat(32))
            .env("SCSS_GRANT_KEY_HEX", "44".repeat(32))
            .env("SCSS_PUBLIC_ORIGIN", ORIGIN)
            .env("SCSS_SMTP_PORT", maildev_smtp)
            .env("SCSS_ARGON2_MEMORY_KIB", "8")
            .env("SCSS_ARGON2_ITERATIONS", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let server = Self(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (server, port);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never listened on {port}");
    }

    /// Sends SIGTERM, as systemd's stop does.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// SIGKILL: no drain, no goodbye (a crash, the OOM killer, a pulled plug).
    pub fn kill_now(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }

    /// Its exit status, if it exits within `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let since = Instant::now();
        while since.elapsed() < limit {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}
