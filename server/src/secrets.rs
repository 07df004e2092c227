//! Secrets at rest and in flight: PUKs sealed with the key-encryption key (CARD-3),
//! security answers as argon2id hashes (REG-2), one-time codes from the OS CSPRNG, stored
//! hashed and compared in constant time (ALL-1).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use api_types::{CardGuid, UnlockCode};

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the audit key is not usable as an HMAC key")]
    AuditKey,
    #[error("sealing failed")]
    Seal,
    #[error("a sealed value does not open with this KEK (wrong key, or the value was moved)")]
    Open,
    #[error("argon2 parameters: {0}")]
    Argon2Params(argon2::Error),
    #[error("argon2: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// Seals small secrets with AES-256-GCM; the associated data binds a sealed value to its
/// card, so one card's PUK can't be swapped onto another.
#[derive(Clone)]
pub struct Kek(Aes256Gcm);

impl Kek {
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    pub fn seal(&self, plaintext: &[u8], card: &CardGuid) -> Result<Vec<u8>, SecretsError> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: card.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Seal)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &[u8], card: &CardGuid) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        let (nonce, ciphertext) = sealed.split_at_checked(12).ok_or(SecretsError::Open)?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretsError::Open)?;
        self.0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: card.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretsError::Open)
    }
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

/// REG-2: trim, case-fold, collapse inner whitespace.
pub fn normalise_answer(answer: &str) -> String {
    answer
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone)]
pub struct AnswerHasher {
    params: Params,
}

impl AnswerHasher {
    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, SecretsError> {
        let params =
            Params::new(memory_kib, iterations, 1, None).map_err(SecretsError::Argon2Params)?;
        Ok(Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash(&self, answer: &str) -> Result<String, SecretsError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(normalise_answer(answer).as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(SecretsError::Argon2)
    }

    pub fn verify(&self, answer: &str, stored: &str) -> bool {
        PasswordHash::new(stored).is_ok_and(|hash| {
            self.argon2()
                .verify_password(normalise_answer(answer).as_bytes(), &hash)
                .is_ok()
        })
    }
}

/// ALL-6: the secret in the flow cookie that binds an attempt to the browser that started
/// it. Only its SHA-256 is stored (32 random bytes need no slow hash); never printed.
pub struct FlowSecret([u8; 32]);

impl FlowSecret {
    pub fn generate() -> Self {
        Self(random_bytes())
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

pub fn code_hash(salt: &[u8], code: &UnlockCode) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(code.expose().as_bytes());
    hasher.finalize().to_vec()
}

pub fn code_matches(salt: &[u8], code: &UnlockCode, stored_hash: &[u8]) -> bool {
    code_hash(salt, code).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reg_2_normalisation() {
        assert_eq!(normalise_answer("  Ford   FIESTA \t"), "ford fiesta");
        assert_eq!(normalise_answer("ÉCOLE"), "école");
    }

    #[test]
    fn reg_2_answers_verify_after_normalisation_only() {
        let hasher = AnswerHasher::new(8, 1).unwrap();
        let stored = hasher.hash("Ford Fiesta").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(hasher.verify("  ford   fiesta ", &stored));
        assert!(!hasher.verify("ford focus", &stored));
        assert!(!hasher.verify("ford fiesta", "not a hash"));
    }

    #[test]
    fn card_3_sealed_puk_opens_only_for_its_card_and_key() {
        let kek = Kek::new(&[1; 32]);
        let (a, b) = (
            CardGuid::from_bytes([0xA; 16]),
            CardGuid::from_bytes([0xB; 16]),
        );
        let sealed = kek.seal(b"12345678", &a).unwrap();
        assert_eq!(kek.open(&sealed, &a).unwrap().as_slice(), b"12345678");
        assert!(kek.open(&sealed, &b).is_err());
        assert!(Kek::new(&[2; 32]).open(&sealed, &a).is_err());
        assert!(kek.open(&sealed[..5], &a).is_err());
    }

    #[test]
    fn all_1_codes_are_six_digits_and_compared_by_hash() {
        for _ in 0..100 {
            let code = new_unlock_code();
            assert_eq!(code.expose().len(), 6);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        let salt = random_bytes::<16>();
        let code = |text: &str| UnlockCode::parse(text).unwrap();
        let stored = code_hash(&salt, &code("123456"));
        assert!(code_matches(&salt, &code("123456"), &stored));
        assert!(!code_matches(&salt, &code("123457"), &stored));
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

    proptest! {
        // REG-2: normalising is idempotent and insensitive to case and spacing.
        #[test]
        fn reg_2_normalise_is_idempotent(s in "\\PC{0,40}") {
            let once = normalise_answer(&s);
            prop_assert_eq!(normalise_answer(&once), once.clone());
            prop_assert_eq!(normalise_answer(&format!("  {}  ", s.to_uppercase())), normalise_answer(&s.to_uppercase()));
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }
    }
}
