//! BRG-5: a grant is the server's signed permission for one card-changing operation of the
//! card bridge — bound to the page's origin, the card's GUID, the unlock attempt, the
//! operation and (for relays) the exact APDUs, valid for at most five minutes, usable
//! once. The server signs with its P-256 key ([`GrantSigner`]); the bridge checks with the
//! public key pinned in its configuration ([`GrantVerifier`]) and remembers what it has
//! used ([`ReplayCache`]). Each way a grant can be wrong has its own [`GrantError`], and
//! so its own error code on the wire.
//!
//! Wire form ([`SignedGrant`]): the claims as base64url JSON, and a P-256 ECDSA signature
//! (r ‖ s, base64url) over a domain-separation label followed by that base64url text, so
//! the bytes checked are the bytes received, with no re-serialising.

mod replay;

pub use api_types::bridge::SignedGrant;
pub use replay::ReplayCache;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The longest a grant may live (BRG-5).
pub const MAX_LIFETIME_SECS: i64 = 300;
/// How far apart the server's and the bridge's clocks may be.
pub const CLOCK_SKEW_SECS: i64 = 30;
/// Signed before the claims, so no other signature of this key can pass for a grant.
const LABEL: &[u8] = b"smartcard-self-service bridge grant v1\n";
const VERSION: u8 = 1;

/// What a grant lets the bridge do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Select PIV, check the card, relay the channel opening (INITIALIZE UPDATE).
    OpenChannel,
    /// Relay a sealed script as it is, sending nothing of the bridge's own.
    SealedScript,
    /// Change the one-time PIN to the user's passcode.
    ChangePin,
}

/// The signed statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub v: u8,
    /// The page's origin, exactly as its `Origin` header says.
    pub origin: String,
    /// The card's GUID, hex.
    pub card_guid: String,
    pub attempt: String,
    pub operation: Operation,
    /// [`apdus_digest`] of the APDUs a relay grant covers; none for a PIN change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apdus_sha256: Option<String>,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    /// 16 random bytes, hex: what the replay cache remembers.
    pub nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("no grant")]
    Missing,
    #[error("grant malformed or not signed by the server")]
    Invalid,
    #[error("grant expired")]
    Expired,
    #[error("grant already used")]
    Replayed,
    #[error("grant is for another origin")]
    WrongOrigin,
    #[error("grant is for another card")]
    WrongCard,
    #[error("grant is for another operation")]
    WrongOperation,
    #[error("grant does not cover these commands")]
    WrongScript,
    #[error("grant is for another unlock than the open channel's")]
    WrongAttempt,
}

/// SHA-256 over each APDU's length (4 bytes, big-endian) and bytes, hex: binds a relay
/// grant to exactly these commands in exactly this order.
pub fn apdus_digest<B: AsRef<[u8]>>(apdus: &[B]) -> String {
    let mut hash = Sha256::new();
    for apdu in apdus {
        let bytes = apdu.as_ref();
        hash.update(u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        hash.update(bytes);
    }
    hex::encode(hash.finalize())
}

/// What the server knows when it grants an operation.
#[derive(Debug, Clone)]
pub struct GrantRequest<'a> {
    pub origin: &'a str,
    pub card_guid: [u8; 16],
    pub attempt: &'a str,
    pub operation: Operation,
    /// The APDUs (bytes) a relay grant covers.
    pub apdus: Option<&'a [Vec<u8>]>,
    pub now: i64,
    /// Capped at [`MAX_LIFETIME_SECS`].
    pub lifetime_secs: i64,
}

/// The server's signing key. `Debug` never shows it.
pub struct GrantSigner {
    key: SigningKey,
}

impl std::fmt::Debug for GrantSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrantSigner(redacted)")
    }
}

impl GrantSigner {
    /// From the 32-byte P-256 private scalar.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, GrantError> {
        SigningKey::from_slice(secret)
            .map(|key| Self { key })
            .map_err(|_| GrantError::Invalid)
    }

    /// A new random key (tests, and `generate-grant-key`).
    pub fn generate() -> Self {
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    /// The private scalar, for writing a new key to a file.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.key.to_bytes().to_vec()
    }

    /// The public key (SEC1 compressed, hex): what the bridge pins.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_encoded_point(true).as_bytes())
    }

    pub fn grant(&self, request: &GrantRequest<'_>) -> SignedGrant {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let claims = Claims {
            v: VERSION,
            origin: request.origin.to_owned(),
            card_guid: hex::encode(request.card_guid),
            attempt: request.attempt.to_owned(),
            operation: request.operation,
            apdus_sha256: request.apdus.map(apdus_digest),
            issued_at: request.now,
            expires_at: request.now + request.lifetime_secs.clamp(0, MAX_LIFETIME_SECS),
            nonce: hex::encode(nonce),
        };
        self.sign(&claims)
    }

    /// Signs any claims as they are (the checks' tests need bad ones too).
    pub fn sign(&self, claims: &Claims) -> SignedGrant {
        // Serialising a struct of strings and integers cannot fail.
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let encoded = URL_SAFE_NO_PAD.encode(json);
        let signature: Signature = self.key.sign(&signed_bytes(&encoded));
        SignedGrant {
            signature: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            claims: encoded,
        }
    }
}

fn signed_bytes(encoded_claims: &str) -> Vec<u8> {
    [LABEL, encoded_claims.as_bytes()].concat()
}

/// What the bridge checks a grant against.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub origin: &'a str,
    /// The operations this endpoint performs (a relay endpoint does two).
    pub operations: &'a [Operation],
    /// The APDUs the page asks to relay (bytes), for relay operations.
    pub apdus: Option<&'a [Vec<u8>]>,
    pub now: i64,
}

/// The server's public key, pinned in the bridge's configuration.
#[derive(Debug, Clone)]
pub struct GrantVerifier {
    key: VerifyingKey,
}

impl GrantVerifier {
    /// From SEC1 hex (compressed or not), as [`GrantSigner::public_key_hex`] prints it.
    pub fn from_hex(public_key: &str) -> Result<Self, GrantError> {
        let bytes = hex::decode(public_key.trim()).map_err(|_| GrantError::Invalid)?;
        VerifyingKey::from_sec1_bytes(&bytes)
            .map(|key| Self { key })
            .map_err(|_| GrantError::Invalid)
    }

    /// Checks signature, lifetime, operation, origin and commands, in that order; the card
    /// and single use are checked after, by [`Claims::check_card`] and [`ReplayCache`].
    pub fn check(
        &self,
        grant: Option<&SignedGrant>,
        expected: &Expected<'_>,
    ) -> Result<Claims, GrantError> {
        let grant = grant.ok_or(GrantError::Missing)?;
        let signature = URL_SAFE_NO_PAD
            .decode(&grant.signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or(GrantError::Invalid)?;
        self.key
            .verify(&signed_bytes(&grant.claims), &signature)
            .map_err(|_| GrantError::Invalid)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(&grant.claims)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(GrantError::Invalid)?;
        let lifetime = claims.expires_at.saturating_sub(claims.issued_at);
        if claims.v != VERSION
            || !(0..=MAX_LIFETIME_SECS).contains(&lifetime)
            || claims.issued_at > expected.now.saturating_add(CLOCK_SKEW_SECS)
        {
            return Err(GrantError::Invalid);
        }
        if expected.now > claims.expires_at.saturating_add(CLOCK_SKEW_SECS) {
            return Err(GrantError::Expired);
        }
        if !expected.operations.contains(&claims.operation) {
            return Err(GrantError::WrongOperation);
        }
        if claims.origin != expected.origin {
            return Err(GrantError::WrongOrigin);
        }
        let covered = expected.apdus.map(apdus_digest);
        if claims.apdus_sha256 != covered {
            return Err(GrantError::WrongScript);
        }
        Ok(claims)
    }
}

impl Claims {
    /// The card in the reader must be the one the grant names.
    pub fn check_card(&self, guid: &[u8; 16]) -> Result<(), GrantError> {
        if self.card_guid == hex::encode(guid) {
            Ok(())
        } else {
            Err(GrantError::WrongCard)
        }
    }

    /// The card GUID the grant names.
    pub fn card(&self) -> Result<[u8; 16], GrantError> {
        hex::decode(&self.card_guid)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(GrantError::Invalid)
    }
}

#[cfg(test)]
mod tests;
