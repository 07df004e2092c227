//! REG-2 / ALL-7: security answers, normalised and stored only as argon2id hashes under a
//! pepper (argon2's secret input), so a copy of the database alone cannot be guessed
//! against: the pepper lives in the server's configuration, derived from the code
//! pepper. Hashes from before the pepper (no `p1` mark) still verify, without it, until
//! the user registers again.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::SecretsError;

/// REG-2: trim, case-fold, collapse inner whitespace.
pub fn normalise_answer(answer: &str) -> String {
    answer
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The mark before a peppered hash's PHC string (which itself starts with `$`).
const PEPPERED: &str = "p1";

#[derive(Clone)]
pub struct AnswerHasher {
    params: Params,
    pepper: Zeroizing<[u8; 32]>,
}

impl AnswerHasher {
    /// `key`: the code pepper, from which the answers' own pepper is derived.
    pub fn new(memory_kib: u32, iterations: u32, key: &[u8; 32]) -> Result<Self, SecretsError> {
        let params =
            Params::new(memory_kib, iterations, 1, None).map_err(SecretsError::Argon2Params)?;
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SecretsError::CodePepper)?;
        mac.update(b"smartcard-self-service/v1/answer-pepper");
        let pepper = Zeroizing::new(mac.finalize().into_bytes().into());
        Ok(Self { params, pepper })
    }

    fn argon2(&self, peppered: bool) -> Result<Argon2<'_>, SecretsError> {
        let (algorithm, version, params) =
            (Algorithm::Argon2id, Version::V0x13, self.params.clone());
        if peppered {
            Argon2::new_with_secret(self.pepper.as_slice(), algorithm, version, params)
                .map_err(SecretsError::Argon2Params)
        } else {
            Ok(Argon2::new(algorithm, version, params))
        }
    }

    pub fn hash(&self, answer: &str) -> Result<String, SecretsError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2(true)?
            .hash_password(normalise_answer(answer).as_bytes(), &salt)
            .map(|h| format!("{PEPPERED}{h}"))
            .map_err(SecretsError::Argon2)
    }

    pub fn verify(&self, answer: &str, stored: &str) -> bool {
        let (peppered, phc) = match stored.strip_prefix(PEPPERED) {
            Some(phc) => (true, phc),
            None => (false, stored),
        };
        let Ok(argon2) = self.argon2(peppered) else {
            return false;
        };
        PasswordHash::new(phc).is_ok_and(|hash| {
            argon2
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
        let hasher = AnswerHasher::new(8, 1, &[1; 32]).unwrap();
        let stored = hasher.hash("Ford Fiesta").unwrap();
        assert!(stored.starts_with("p1$argon2id$"));
        assert!(hasher.verify("  ford   fiesta ", &stored));
        assert!(!hasher.verify("ford focus", &stored));
        assert!(!hasher.verify("ford fiesta", "not a hash"));
    }

    #[test]
    fn all_7_answer_hashes_need_the_servers_pepper_and_old_hashes_still_verify() {
        let hasher = AnswerHasher::new(8, 1, &[1; 32]).unwrap();
        let stored = hasher.hash("Ford Fiesta").unwrap();
        // A database copy without the pepper: no guess verifies, the right one included.
        let without = AnswerHasher::new(8, 1, &[2; 32]).unwrap();
        assert!(!without.verify("ford fiesta", &stored));
        let unpeppered = stored.strip_prefix("p1").unwrap();
        assert!(!hasher.verify("ford fiesta", unpeppered));
        // A hash stored before the pepper (no mark) verifies as it was made.
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"ford fiesta", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(hasher.verify("Ford Fiesta", &old));
        assert!(!hasher.verify("Ford Focus", &old));
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
