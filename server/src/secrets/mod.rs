//! Secrets at rest and in flight: card secrets sealed with the versioned KEK ([`kek`],
//! CARD-3), security answers as argon2id hashes ([`answers`], REG-2), one-time codes from
//! the OS CSPRNG stored only as keyed hashes and compared in constant time (ALL-1, ALL-7),
//! the flow cookie's secret (ALL-6) and the audit key (RA-4). None of them prints in
//! `Debug`.

mod answers;
mod kek;
mod passcodes;

pub use answers::{normalise_answer, AnswerHasher};
pub use kek::{Kek, SealPurpose};
pub use passcodes::PasscodeHasher;

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use api_types::recovery::{OneTimePasscode, ONE_TIME_PASSCODE_ALPHABET};
use api_types::UnlockCode;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the audit key is not usable as an HMAC key")]
    AuditKey,
    #[error("sealing failed")]
    Seal,
    #[error("a sealed value does not open with this KEK (wrong key, or the value was moved)")]
    Open,
    #[error("a value was sealed with KEK version {0}, which is not configured")]
    UnknownKekVersion(u32),
    #[error("the code pepper is not usable as an HMAC key")]
    CodePepper,
    #[error("argon2 parameters: {0}")]
    Argon2Params(argon2::Error),
    #[error("argon2: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// RA-4: the key of the audit chains' HMACs, from configuration; never printed.
#[derive(Clone)]
pub struct AuditKey(Hmac<Sha256>);

impl AuditKey {
    pub fn new(key: &[u8; 32]) -> Result<Self, SecretsError> {
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map(Self)
            .map_err(|_| SecretsError::AuditKey)
    }

    /// A fresh MAC under the key.
    pub fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(****)")
    }
}

/// ALL-6: the secret in the flow cookie that binds an attempt to the browser that started
/// it. Only its SHA-256 is stored (32 random bytes need no slow hash); never printed.
pub struct FlowSecret([u8; 32]);

impl FlowSecret {
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// A secret the browser sent in a request body (already parsed as 32 bytes).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The cookie's value as the browser sends it back; `None` for any other shape.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        hex::decode(text).ok()?.try_into().ok().map(Self)
    }

    pub fn cookie_value(&self) -> String {
        hex::encode(self.0)
    }

    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0).to_vec()
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        self.hash().ct_eq(stored_hash).into()
    }
}

impl std::fmt::Debug for FlowSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowSecret(****)")
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A 6-digit unlock code (UNL-5), uniform over 000000..=999999.
pub fn new_unlock_code() -> UnlockCode {
    UnlockCode::from_draw(OsRng.gen_range(0..1_000_000u32))
}

/// SCSC-2: a 12-character One Time Passcode, each character uniform over its alphabet
/// (about 59 bits).
pub fn new_one_time_passcode() -> OneTimePasscode {
    let alphabet = u8::try_from(ONE_TIME_PASSCODE_ALPHABET.len()).unwrap_or(u8::MAX);
    OneTimePasscode::from_draws(std::array::from_fn(|_| OsRng.gen_range(0..alphabet)))
}

/// ALL-1 / ALL-7: the pepper codes are hashed with (HMAC-SHA256), from configuration and
/// never in the database, so a stolen database can't be searched through the 10^6 codes.
#[derive(Clone)]
pub struct CodePepper(Hmac<Sha256>);

impl CodePepper {
    pub fn new(key: &[u8; 32]) -> Result<Self, SecretsError> {
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .map(Self)
            .map_err(|_| SecretsError::CodePepper)
    }

    /// Any one-time code's text: the 6-digit codes and the SCSC's One Time Passcode.
    pub fn hash(&self, salt: &[u8], code: &str) -> Vec<u8> {
        let mut mac = self.0.clone();
        mac.update(&(salt.len() as u64).to_be_bytes());
        mac.update(salt);
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, salt: &[u8], code: &str, stored_hash: &[u8]) -> bool {
        self.hash(salt, code).ct_eq(stored_hash).into()
    }
}

impl std::fmt::Debug for CodePepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodePepper(****)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn all_1_codes_are_six_digits_and_compared_by_hash() {
        for _ in 0..100 {
            let code = new_unlock_code();
            assert_eq!(code.expose().len(), 6);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        let salt = random_bytes::<16>();
        let pepper = CodePepper::new(&[7; 32]).unwrap();
        let stored = pepper.hash(&salt, "123456");
        assert!(pepper.matches(&salt, "123456", &stored));
        assert!(!pepper.matches(&salt, "123457", &stored));
        // Keyed: without the pepper the hash can't be recomputed.
        let other = CodePepper::new(&[8; 32]).unwrap();
        assert!(!other.matches(&salt, "123456", &stored));
    }

    #[test]
    fn all_6_flow_secrets_round_trip_match_only_themselves_and_never_print() {
        let secret = FlowSecret::generate();
        let again = FlowSecret::parse(&secret.cookie_value()).unwrap();
        assert!(again.matches(&secret.hash()));
        assert!(!FlowSecret::generate().matches(&secret.hash()));
        assert!(FlowSecret::parse("00").is_none());
        assert!(FlowSecret::parse(&"zz".repeat(32)).is_none());
        assert!(!format!("{secret:?}").contains(&secret.cookie_value()));
    }
}
