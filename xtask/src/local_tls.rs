//! HTTPS on this one machine, for the browser tests and `cargo xtask demo --https`
//! (ALL-3, BRG-7): `card-bridge install` makes a CA here, a certificate for `127.0.0.1`
//! and destroys the CA's key, then trusts the CA in the system store (as root: WebKitGTK
//! reads it) and in the NSS databases under `home` (Chromium's and each Firefox
//! profile's). The bridge serves that certificate; the page's server serves the same one,
//! since both are `127.0.0.1` here — a real deployment gives the server a public
//! certificate. Dropping it runs `card-bridge uninstall`, so no trust outlives the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::procs::run;

pub struct LocalTls {
    dir: PathBuf,
    home: PathBuf,
    bridge: PathBuf,
}

impl LocalTls {
    /// Installs into `dir`, trusting the CA for the browsers of the user whose home is
    /// `home` (made if absent).
    pub fn install(bridge: PathBuf, dir: &Path, home: &Path) -> Result<Self> {
        std::fs::create_dir_all(home).with_context(|| format!("making {}", home.display()))?;
        let tls = Self {
            dir: dir.to_owned(),
            home: home.to_owned(),
            bridge,
        };
        run(&mut tls.command("install"))?;
        Ok(tls)
    }

    fn command(&self, verb: &str) -> Command {
        let mut cmd = Command::new(&self.bridge);
        cmd.arg(verb)
            .arg("--tls-dir")
            .arg(&self.dir)
            .env("HOME", &self.home);
        cmd
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    // The file names below are the ones card-bridge's `tls` module writes (xtask does
    // not link the bridge, which would bring PC/SC into the build tool).
    pub fn cert_file(&self) -> PathBuf {
        self.dir.join("bridge.pem")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.join("bridge-key.pem")
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("bridge-ca.pem")
    }
}

impl Drop for LocalTls {
    fn drop(&mut self) {
        if let Err(error) = run(&mut self.command("uninstall")) {
            eprintln!("xtask: could not take the local CA out of the trust stores: {error:#}");
        }
    }
}

/// An empty Firefox profile under `home`, so `card-bridge install` finds its NSS database
/// and trusts the CA there, as it does for a real user's profiles.
pub fn firefox_profile(home: &Path) -> Result<PathBuf> {
    let profile = home.join(".mozilla/firefox/e2e.default");
    std::fs::create_dir_all(&profile)?;
    if !profile.join("cert9.db").exists() {
        run(Command::new("certutil")
            .args(["-N", "--empty-password", "-d"])
            .arg(format!("sql:{}", profile.display())))?;
    }
    Ok(profile)
}
