//! The keys in the settings (KEK and its earlier versions, audit key, code pepper, grant
//! key): each
//! 32 random bytes given as 64 hex characters, kept as `SecretString` until parsed here.

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::{ConfigError, Settings};

/// A KEK and the version number it seals under.
pub type VersionedKey = (u32, Zeroizing<[u8; 32]>);

impl Settings {
    /// The 32-byte key-encryption key.
    pub fn kek(&self) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
        key_32("kek_hex", "SCSS_KEK_HEX", self.kek_hex.expose_secret())
    }

    /// The earlier KEKs still readable, by version.
    pub fn previous_keks(&self) -> Result<Vec<VersionedKey>, ConfigError> {
        let invalid = || ConfigError::Invalid {
            name: "previous_keks",
            reason: "must be VERSION:HEX entries separated by commas".into(),
        };
        let keks: Vec<VersionedKey> = self
            .previous_keks
            .expose_secret()
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| {
                let (version, key) = entry.trim().split_once(':').ok_or_else(invalid)?;
                let version: u32 = version.parse().map_err(|_| invalid())?;
                Ok((version, key_32("previous_keks", "SCSS_PREVIOUS_KEKS", key)?))
            })
            .collect::<Result<_, ConfigError>>()?;
        if keks.iter().any(|(version, _)| *version == self.kek_version) {
            return Err(ConfigError::Invalid {
                name: "previous_keks",
                reason: "must not repeat the current kek_version".into(),
            });
        }
        Ok(keks)
    }

    /// The 32-byte audit chain key.
    pub fn audit_key(&self) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
        key_32(
            "audit_key_hex",
            "SCSS_AUDIT_KEY_HEX",
            self.audit_key_hex.expose_secret(),
        )
    }

    /// The P-256 key that signs bridge grants (BRG-5).
    pub fn grant_key(&self) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
        key_32(
            "grant_key_hex",
            "SCSS_GRANT_KEY_HEX",
            self.grant_key_hex.expose_secret(),
        )
    }

    /// The 32-byte pepper of the code hashes.
    pub fn code_pepper(&self) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
        key_32(
            "code_pepper_hex",
            "SCSS_CODE_PEPPER_HEX",
            self.code_pepper_hex.expose_secret(),
        )
    }
}

/// A required 32-byte key given as 64 hex characters.
fn key_32(
    name: &'static str,
    variable: &str,
    hex_text: &str,
) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        reason: reason.into(),
    };
    if hex_text.is_empty() {
        return Err(invalid(&format!(
            "is missing: set {variable} to 64 hex characters (32 random bytes)"
        )));
    }
    let bytes = Zeroizing::new(hex::decode(hex_text).map_err(|_| invalid("is not hex"))?);
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| invalid("must be 32 bytes (64 hex characters)"))?;
    Ok(Zeroizing::new(key))
}
