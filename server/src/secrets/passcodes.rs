//! PASS-1 / PASS-3 / ALL-7: the Account Recovery and Verification Passcodes, exactly as
//! typed (a passcode, unlike a security answer, is not normalised): stored as argon2id
//! hashes under a pepper, and remembered for the history as HMACs under a key of their
//! own over the user, the kind and the passcode. Both keys derive from the code pepper
//! in the configuration, so a copy of the database alone can neither be guessed against
//! nor tell two users' passcodes apart.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::SecretsError;

#[derive(Clone)]
pub struct PasscodeHasher {
    params: Params,
    pepper: Zeroizing<[u8; 32]>,
    history_key: Zeroizing<[u8; 32]>,
    /// A hash of nothing anyone chose, verified against when there is no passcode, so an
    /// unknown user takes the time a known one does (PASS-5).
    dummy: String,
}

fn derive(key: &[u8; 32], label: &[u8]) -> Result<Zeroizing<[u8; 32]>, SecretsError> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| SecretsError::CodePepper)?;
    mac.update(label);
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

impl PasscodeHasher {
    /// `key`: the code pepper, from which both of this hasher's keys are derived.
    pub fn new(memory_kib: u32, iterations: u32, key: &[u8; 32]) -> Result<Self, SecretsError> {
        let mut hasher = Self {
            params: Params::new(memory_kib, iterations, 1, None)
                .map_err(SecretsError::Argon2Params)?,
            pepper: derive(key, b"smartcard-self-service/v1/passcode-pepper")?,
            history_key: derive(key, b"smartcard-self-service/v1/passcode-history")?,
            dummy: String::new(),
        };
        let unguessable = hex::encode(super::random_bytes::<16>());
        hasher.dummy = hasher.hash(&unguessable)?;
        Ok(hasher)
    }

    /// Whether `passcode` is `stored`'s; with none stored, the same work and no.
    pub fn verify_or_dummy(&self, passcode: &str, stored: Option<&str>) -> bool {
        let matched = self.verify(passcode, stored.unwrap_or(&self.dummy));
        matched && stored.is_some()
    }

    fn argon2(&self) -> Result<Argon2<'_>, SecretsError> {
        Argon2::new_with_secret(
            self.pepper.as_slice(),
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        )
        .map_err(SecretsError::Argon2Params)
    }

    pub fn hash(&self, passcode: &str) -> Result<String, SecretsError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()?
            .hash_password(passcode.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(SecretsError::Argon2)
    }

    pub fn verify(&self, passcode: &str, stored: &str) -> bool {
        let Ok(argon2) = self.argon2() else {
            return false;
        };
        PasswordHash::new(stored)
            .is_ok_and(|hash| argon2.verify_password(passcode.as_bytes(), &hash).is_ok())
    }

    /// PASS-3: the passcode's keyed hash for `user`'s history of `kind`.
    pub fn keyed(&self, user: &str, kind: &str, passcode: &str) -> Result<Vec<u8>, SecretsError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.history_key.as_slice())
            .map_err(|_| SecretsError::CodePepper)?;
        for part in [user, kind, passcode] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// PASS-3: whether the passcode is one of `history`'s.
    pub fn in_history(&self, keyed: &[u8], history: &[Vec<u8>]) -> bool {
        history.iter().fold(false, |found, kept| {
            found | bool::from(kept.as_slice().ct_eq(keyed))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hasher(key: u8) -> PasscodeHasher {
        PasscodeHasher::new(8, 1, &[key; 32]).unwrap()
    }

    #[test]
    fn pass_1_passcodes_verify_exactly_as_typed_and_need_the_pepper() {
        let stored = hasher(1).hash("Correct Horse 1").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(hasher(1).verify("Correct Horse 1", &stored));
        assert!(!hasher(1).verify("correct horse 1", &stored));
        assert!(!hasher(1).verify(" Correct Horse 1", &stored));
        assert!(!hasher(2).verify("Correct Horse 1", &stored));
        assert!(!hasher(1).verify("Correct Horse 1", "not a hash"));
    }

    #[test]
    fn pass_3_keyed_hashes_differ_by_user_kind_and_key() {
        let h = hasher(1);
        let keyed =
            |h: &PasscodeHasher, user, kind, passcode| h.keyed(user, kind, passcode).unwrap();
        let mine = keyed(&h, "555555555501", "verification", "Correct Horse 1");
        assert_eq!(
            mine,
            keyed(&h, "555555555501", "verification", "Correct Horse 1")
        );
        for other in [
            keyed(&h, "555555555502", "verification", "Correct Horse 1"),
            keyed(&h, "555555555501", "account_recovery", "Correct Horse 1"),
            keyed(&h, "555555555501", "verification", "Correct Horse 2"),
            keyed(
                &hasher(2),
                "555555555501",
                "verification",
                "Correct Horse 1",
            ),
        ] {
            assert_ne!(mine, other);
        }
        assert!(h.in_history(&mine, &[vec![0; 32], mine.clone()]));
        assert!(!h.in_history(&mine, &[vec![0; 32]]));
    }
}
