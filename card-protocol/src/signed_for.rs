//! What a card signs for a web page (issue 17, item 10): never the bytes a page hands the
//! bridge, but a digest the bridge computes of a fixed label naming the purpose, the
//! page's origin (as the bridge checked it) and the server's challenge. So a page on
//! another origin, or a server of another service, cannot have our cards sign anything
//! that our server would accept, and a login signature is no unlock proof (or the
//! reverse). The server verifies exactly this digest under its own public origin.

use sha2::{Digest, Sha256};

/// Why the card signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedFor {
    /// AUTH-1 / REG-1 / RA-5: card login, or the passcode again (9A, after the PIN).
    Login,
    /// CARD-6: the card proves itself for an unlock (9E, no PIN).
    CardProof,
}

impl SignedFor {
    fn label(self) -> &'static [u8] {
        match self {
            SignedFor::Login => b"smartcard-self-service/v1/login",
            SignedFor::CardProof => b"smartcard-self-service/v1/card-proof",
        }
    }

    /// The label, the origin and the challenge, each length-prefixed so no two different
    /// triples give the same bytes: what a verifier that hashes for itself is given.
    pub fn message(self, origin: &str, challenge: &[u8; 32]) -> Vec<u8> {
        let parts = [self.label(), origin.as_bytes(), challenge.as_slice()];
        let mut message = Vec::with_capacity(parts.iter().map(|p| 8 + p.len()).sum());
        for part in parts {
            message.extend_from_slice(&(part.len() as u64).to_be_bytes());
            message.extend_from_slice(part);
        }
        message
    }

    /// SHA-256 of [`Self::message`]: what the card signs.
    pub fn digest(self, origin: &str, challenge: &[u8; 32]) -> [u8; 32] {
        Sha256::digest(self.message(origin, challenge)).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brg_5_a_signature_is_bound_to_its_purpose_its_origin_and_its_challenge() {
        let origin = "https://selfservice.example.nhs.uk";
        let login = SignedFor::Login.digest(origin, &[1; 32]);
        assert_ne!(login, [1; 32]);
        assert_ne!(login, SignedFor::CardProof.digest(origin, &[1; 32]));
        assert_ne!(
            login,
            SignedFor::Login.digest("https://evil.example", &[1; 32])
        );
        assert_ne!(login, SignedFor::Login.digest(origin, &[2; 32]));
        assert_eq!(login, SignedFor::Login.digest(origin, &[1; 32]));
    }
}
