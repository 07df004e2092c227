//! REG-2: security answers, normalised and stored only as argon2id hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;

use super::SecretsError;

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
