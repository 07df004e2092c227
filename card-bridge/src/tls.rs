//! BRG-7: the bridge on HTTPS/WSS, with a certificate authority made on this computer
//! whose private key is destroyed once it has signed the bridge's certificate — so the
//! CA the computer trusts can never sign anything else. It is name-constrained to
//! `127.0.0.1` too, so even a stolen copy of the key could not vouch for another host.
//!
//! `card-bridge install` writes the bridge's certificate and key into its directory and
//! the CA's certificate where the OS and browsers look ([`crate::trust`]); renewal is
//! installing again before the certificate ends (the bridge warns 30 days ahead).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
    PKCS_ECDSA_P256_SHA256,
};

/// The CA's certificate (public: it goes into trust stores).
pub const CA_FILE: &str = "bridge-ca.pem";
/// The bridge's certificate, signed by that CA, for `127.0.0.1` only.
pub const CERT_FILE: &str = "bridge.pem";
/// The bridge's private key, readable by its owner only.
pub const KEY_FILE: &str = "bridge-key.pem";
/// How long the bridge's certificate (and its CA) last.
pub const VALID_DAYS: i64 = 397;
pub use api_types::bridge::certificate_due_for_renewal as due_for_renewal;
const DAY: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("making the certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a PEM certificate or key")]
    Pem(PathBuf),
    #[error("the bridge's certificate and key: {0}")]
    Config(#[from] https_serve::TlsFileError),
    #[error("the time is out of range")]
    Time,
}

/// What `install` made.
#[derive(Debug, Clone)]
pub struct Issued {
    pub ca_pem: String,
    /// Unix seconds.
    pub not_after: i64,
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::File {
        path: path.to_owned(),
        source,
    }
}

fn at(unix: i64) -> Result<time::OffsetDateTime, TlsError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|_| TlsError::Time)
}

/// Makes a CA and the bridge's certificate in `dir` (replacing any earlier ones); the CA's
/// key is dropped here, never written anywhere.
pub fn issue(dir: &Path, now: i64) -> Result<Issued, TlsError> {
    let not_after = now + VALID_DAYS * DAY;
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        "Smartcard Self-Service card bridge, this computer only",
    );
    ca.distinguished_name = name;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4(
            [127, 0, 0, 1],
            [255, 255, 255, 255],
        ))],
        excluded_subtrees: Vec::new(),
    });
    ca.not_before = at(now - DAY)?;
    ca.not_after = at(not_after)?;
    let ca_cert = ca.self_signed(&ca_key)?;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut leaf = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "127.0.0.1");
    leaf.distinguished_name = name;
    leaf.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.not_before = at(now - DAY)?;
    leaf.not_after = at(not_after)?;
    let leaf_cert = leaf.signed_by(&key, &ca_cert, &ca_key)?;
    drop(ca_key);

    std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    let ca_pem = ca_cert.pem();
    write(&dir.join(CA_FILE), ca_pem.as_bytes(), 0o644)?;
    write(&dir.join(CERT_FILE), leaf_cert.pem().as_bytes(), 0o644)?;
    write(&dir.join(KEY_FILE), key.serialize_pem().as_bytes(), 0o600)?;
    Ok(Issued { ca_pem, not_after })
}

/// Writes a file with `mode` from its very creation (no window where a key is readable).
fn write(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(file_error(path))?;
    file.write_all(contents).map_err(file_error(path))
}

/// Removes what [`issue`] wrote.
pub fn remove(dir: &Path) -> Result<(), TlsError> {
    for file in [CA_FILE, CERT_FILE, KEY_FILE] {
        let path = dir.join(file);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(file_error(&path)(error))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The bridge's certificate and key, as rustls serves them, and when the certificate
/// ends (unix seconds).
#[derive(Clone)]
pub struct Served {
    pub config: Arc<https_serve::ServerConfig>,
    pub not_after: i64,
}

pub fn load(dir: &Path) -> Result<Served, TlsError> {
    let cert_path = dir.join(CERT_FILE);
    let (config, chain) = https_serve::config_from_files(&cert_path, &dir.join(KEY_FILE))?;
    let not_after = chain
        .first()
        .and_then(|leaf| not_after(leaf))
        .ok_or(TlsError::Pem(cert_path))?;
    Ok(Served { config, not_after })
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn not_after(certificate: &[u8]) -> Option<i64> {
    use der::Decode as _;
    let parsed = x509_cert::Certificate::from_der(certificate).ok()?;
    let end = parsed.tbs_certificate.validity.not_after.to_unix_duration();
    i64::try_from(end.as_secs()).ok()
}
