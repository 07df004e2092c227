//! BRG-7: putting the bridge's local CA where this computer's browsers look, and taking
//! it out again. On Linux: the system store (`update-ca-certificates`, which WebKitGTK
//! and most programs use) and every NSS database — Chromium's `~/.pki/nssdb` (made if
//! absent) and each Firefox profile's. On Windows and macOS the steps are printed: a
//! program should not quietly change those trust stores.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How the CA is named in NSS databases.
pub const NSS_NICKNAME: &str = "Smartcard Self-Service card bridge";
/// Its file name in the system store's local folder.
pub const SYSTEM_FILE: &str = "smartcard-bridge-local-ca.crt";

/// Where the trust stores are: the real ones, or a test's.
#[derive(Debug, Clone)]
pub struct Stores {
    /// `/usr/local/share/ca-certificates`, or `None` to leave the system store alone.
    pub system_dir: Option<PathBuf>,
    /// The user whose browsers' NSS databases get the CA.
    pub home: Option<PathBuf>,
}

impl Stores {
    /// This computer's stores (the system one only when run as root).
    pub fn of_this_computer() -> Self {
        let root = std::env::var("USER").is_ok_and(|u| u == "root")
            || Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        Self {
            system_dir: root.then(|| PathBuf::from("/usr/local/share/ca-certificates")),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    /// Chromium's NSS database and every Firefox profile's.
    fn nss_databases(&self) -> Vec<PathBuf> {
        let Some(home) = &self.home else {
            return Vec::new();
        };
        let mut found = vec![home.join(".pki/nssdb")];
        for firefox in [".mozilla/firefox", ".mozilla/firefox-esr"] {
            if let Ok(profiles) = std::fs::read_dir(home.join(firefox)) {
                for profile in profiles.flatten() {
                    if profile.path().join("cert9.db").is_file() {
                        found.push(profile.path());
                    }
                }
            }
        }
        found
    }
}

/// What trusting (or untrusting) did, a line each, for the user to read.
pub type Report = Vec<String>;

fn certutil(args: &[&str]) -> Result<(), String> {
    let output = Command::new("certutil")
        .args(args)
        .output()
        .map_err(|e| format!("certutil: {e} (install libnss3-tools)"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// Trusts the CA in `ca_file` for websites in every store found.
pub fn install(stores: &Stores, ca_file: &Path) -> Report {
    let mut report = Report::new();
    if let Some(dir) = &stores.system_dir {
        let target = dir.join(SYSTEM_FILE);
        let copied = std::fs::create_dir_all(dir).and_then(|()| std::fs::copy(ca_file, &target));
        report.push(
            match copied
                .map_err(|e| e.to_string())
                .and_then(|_| update_system_store())
            {
                Ok(()) => format!("trusted in the system store ({})", target.display()),
                Err(error) => format!("NOT trusted in the system store: {error}"),
            },
        );
    }
    let ca = ca_file.to_string_lossy();
    for db in stores.nss_databases() {
        let sql = format!("sql:{}", db.display());
        let made = if db.join("cert9.db").is_file() {
            Ok(())
        } else {
            std::fs::create_dir_all(&db)
                .map_err(|e| e.to_string())
                .and_then(|()| certutil(&["-N", "--empty-password", "-d", &sql]))
        };
        // A CA installed before is replaced, not duplicated.
        let _ = certutil(&["-D", "-n", NSS_NICKNAME, "-d", &sql]);
        let added = made.and_then(|()| {
            certutil(&["-A", "-n", NSS_NICKNAME, "-t", "C,,", "-i", &ca, "-d", &sql])
        });
        report.push(match added {
            Ok(()) => format!("trusted in the NSS database {}", db.display()),
            Err(error) => format!("NOT trusted in the NSS database {}: {error}", db.display()),
        });
    }
    report
}

/// Takes the CA out of every store it was put in.
pub fn uninstall(stores: &Stores) -> Report {
    let mut report = Report::new();
    if let Some(dir) = &stores.system_dir {
        let target = dir.join(SYSTEM_FILE);
        if target.exists() {
            let removed = std::fs::remove_file(&target)
                .map_err(|e| e.to_string())
                .and_then(|()| update_system_store());
            report.push(match removed {
                Ok(()) => format!("removed from the system store ({})", target.display()),
                Err(error) => format!("NOT removed from the system store: {error}"),
            });
        }
    }
    for db in stores.nss_databases() {
        if db.join("cert9.db").is_file() {
            let sql = format!("sql:{}", db.display());
            if certutil(&["-D", "-n", NSS_NICKNAME, "-d", &sql]).is_ok() {
                report.push(format!("removed from the NSS database {}", db.display()));
            }
        }
    }
    report
}

fn update_system_store() -> Result<(), String> {
    let output = Command::new("update-ca-certificates")
        .arg("--fresh")
        .output()
        .map_err(|e| format!("update-ca-certificates: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// The steps for the systems a program should not change by itself.
pub fn manual_steps(ca_file: &Path) -> String {
    let ca = ca_file.display();
    format!(
        "On Windows, as an administrator:\n  certutil -addstore -f Root \"{ca}\"\n\
         On macOS (Safari and Chrome use the Keychain):\n  sudo security add-trusted-cert -d -r \
         trustRoot -k /Library/Keychains/System.keychain \"{ca}\"\n\
         Firefox on either: Settings → Privacy & Security → Certificates → View Certificates → \
         Authorities → Import, and tick \"Trust this CA to identify websites\" (or set the \
         ImportEnterpriseRoots policy)."
    )
}
