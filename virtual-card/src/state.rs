//! The card's persistent state as a versioned JSON file, written atomically (CARD-4).

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Version of the state file format this build reads and writes.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum CardError {
    #[error("card state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("card state file {path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("card state file version {0} is not supported (expected {STATE_VERSION})")]
    UnsupportedVersion(u32),
    #[error("invalid card state: {0}")]
    Invalid(String),
    #[error("invalid PIN or PUK: {0}")]
    Pin(#[from] card_protocol::PinError),
}

/// Everything the card remembers across power cycles. Binary values are lowercase hex.
/// Holds secrets (PIN, PUK, private keys, SCP03 keys): zeroised on drop, never logged.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct CardState {
    pub version: u32,
    pub serial: u32,
    /// 16 bytes, the GUID in the CHUID.
    pub guid: String,
    pub fasc_n: String,
    /// CHUID expiry, `YYYYMMDD`.
    pub expiration: String,
    /// The PIN in its 8-byte 0xFF-padded form.
    pub pin: String,
    pub pin_tries_left: u8,
    pub pin_max_tries: u8,
    pub puk: String,
    pub puk_tries_left: u8,
    pub puk_max_tries: u8,
    /// The last PINs the holder chose, newest last (CARD-5), as salted SHA-256 hashes
    /// (padded PINs in files written before the salt existed).
    #[serde(default)]
    pub pin_history: Vec<String>,
    #[serde(default)]
    pub pin_history_salt: Option<String>,
    /// Set by RESET RETRY COUNTER: the next PIN change may reuse an old PIN (UNL-6).
    #[serde(default)]
    pub pin_reset_pending: bool,
    /// The 9E card authentication key: P-256 private scalar, 32 bytes.
    pub card_auth_key: String,
    /// The 9A PIV authentication key (same form), once generated (AUTH-1). Absent in
    /// files written before issuance existed, as are the certificates.
    #[serde(default)]
    pub piv_auth_key: Option<String>,
    /// The certificate objects (`53{70 cert, 71 00, FE 00}`, as written with PUT DATA)
    /// for 9A (`5FC105`) and 9E (`5FC101`). Public, but kept out of `Debug` all the same.
    #[serde(default)]
    pub piv_auth_certificate: Option<String>,
    #[serde(default)]
    pub card_auth_certificate: Option<String>,
    /// The SCP03 static keys (CARD-3). Absent in files written before the secure channel:
    /// such a card gets fresh random keys when loaded, saved at once.
    #[serde(default)]
    pub scp03: Option<Scp03State>,
}

/// A card's SCP03 static keys (K-ENC, K-MAC, K-DEK), each 16, 24 or 32 bytes in hex.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct Scp03State {
    pub enc: String,
    pub mac: String,
    pub dek: String,
}

impl std::fmt::Debug for Scp03State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scp03State(redacted)")
    }
}

impl std::fmt::Debug for CardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardState")
            .field("version", &self.version)
            .field("serial", &self.serial)
            .field("guid", &self.guid)
            .field("pin_tries_left", &self.pin_tries_left)
            .field("puk_tries_left", &self.puk_tries_left)
            .field("scp03", &self.scp03)
            .finish_non_exhaustive()
    }
}

impl CardState {
    pub fn read(path: &Path) -> Result<CardState, CardError> {
        let io = |source| CardError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io)?);
        let state: CardState = serde_json::from_str(&text).map_err(|source| CardError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        if state.version != STATE_VERSION {
            return Err(CardError::UnsupportedVersion(state.version));
        }
        Ok(state)
    }

    /// Write temp file + fsync + rename + fsync the folder, so a crash leaves either the
    /// old or the new state, never a torn one. The file is readable by its owner only.
    pub fn write_atomic(&self, path: &Path) -> Result<(), CardError> {
        let io = |source| CardError::Io {
            path: path.to_path_buf(),
            source,
        };
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(self).map_err(|e| CardError::Invalid(e.to_string()))?,
        );
        let file_name = path
            .file_name()
            .ok_or_else(|| CardError::Invalid(format!("{} is not a file path", path.display())))?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(file_name);
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        file.write_all(&json).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        fs::rename(&tmp, path).map_err(io)?;
        // The rename is durable once the folder is synced; not every platform allows it.
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
