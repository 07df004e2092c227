//! CARD-3 / ALL-7: card secrets sealed with the key-encryption key (AES-256-GCM). Each
//! sealed value says which KEK version sealed it, and its associated data binds it to its
//! card *and* its column's purpose, so a database writer can neither move a PUK to another
//! card nor swap a card's current and pending PUKs. Earlier KEK versions stay readable
//! while `smartcard-server rotate-kek` re-seals everything under the current one.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use api_types::CardGuid;
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use super::SecretsError;

/// The first byte of every sealed value: this layout.
const FORMAT: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

/// Which column a sealed value belongs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPurpose {
    /// `cards.puk_enc`: the PUK the card is known to have.
    Puk,
    /// `cards.puk_next_enc`: a PUK sent to the card, outcome unknown.
    PendingPuk,
    /// `cards.scp03_keys_enc`: the card's SCP03 static keys.
    ChannelKeys,
    /// `certificate_authority.key_enc`: the CA's private key (CERT-1); its owner is the
    /// CA, not a card ([`Kek::seal_ca_key`]).
    CaKey,
}

impl SealPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            SealPurpose::Puk => b"cards.puk",
            SealPurpose::PendingPuk => b"cards.puk_next",
            SealPurpose::ChannelKeys => b"cards.scp03_keys",
            SealPurpose::CaKey => b"certificate_authority.key",
        }
    }
}

/// The current KEK and the earlier versions still readable.
#[derive(Clone)]
pub struct Kek {
    current: (u32, Aes256Gcm),
    earlier: Vec<(u32, Aes256Gcm)>,
}

/// What a sealed value belongs to: a card, or the certificate authority.
const CA_OWNER: [u8; 16] = *b"certificate-auth";

fn associated_data(owner: &[u8; 16], purpose: SealPurpose, version: u32) -> Vec<u8> {
    [
        b"scss-seal-v1\0".as_slice(),
        purpose.label(),
        b"\0",
        owner,
        &version.to_be_bytes(),
    ]
    .concat()
}

impl Kek {
    /// The KEK `version`, with `earlier` (version, key) pairs still readable.
    pub fn new(version: u32, key: &[u8; 32], earlier: &[(u32, Zeroizing<[u8; 32]>)]) -> Self {
        Self {
            current: (version, Aes256Gcm::new(key.into())),
            earlier: earlier
                .iter()
                .map(|(v, k)| (*v, Aes256Gcm::new((&**k).into())))
                .collect(),
        }
    }

    pub fn current_version(&self) -> u32 {
        self.current.0
    }

    /// The version that sealed a value, if it has our layout.
    pub fn version_of(sealed: &[u8]) -> Option<u32> {
        match sealed {
            [FORMAT, a, b, c, d, ..] if sealed.len() > HEADER => {
                Some(u32::from_be_bytes([*a, *b, *c, *d]))
            }
            _ => None,
        }
    }

    pub fn seal(
        &self,
        plaintext: &[u8],
        card: &CardGuid,
        purpose: SealPurpose,
    ) -> Result<Vec<u8>, SecretsError> {
        self.seal_for(plaintext, card.as_bytes(), purpose)
    }

    pub fn open(
        &self,
        sealed: &[u8],
        card: &CardGuid,
        purpose: SealPurpose,
    ) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        self.open_for(sealed, card.as_bytes(), purpose)
    }

    /// The CA's private key, sealed (CERT-1).
    pub fn seal_ca_key(&self, key: &[u8]) -> Result<Vec<u8>, SecretsError> {
        self.seal_for(key, &CA_OWNER, SealPurpose::CaKey)
    }

    pub fn open_ca_key(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        self.open_for(sealed, &CA_OWNER, SealPurpose::CaKey)
    }

    fn seal_for(
        &self,
        plaintext: &[u8],
        owner: &[u8; 16],
        purpose: SealPurpose,
    ) -> Result<Vec<u8>, SecretsError> {
        let (version, cipher) = &self.current;
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(owner, purpose, *version);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretsError::Seal)?;
        Ok([&[FORMAT][..], &version.to_be_bytes(), &nonce, &sealed].concat())
    }

    fn open_for(
        &self,
        sealed: &[u8],
        owner: &[u8; 16],
        purpose: SealPurpose,
    ) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
        let version = Self::version_of(sealed).ok_or(SecretsError::Open)?;
        let cipher = std::iter::once(&self.current)
            .chain(&self.earlier)
            .find(|(v, _)| *v == version)
            .map(|(_, cipher)| cipher)
            .ok_or(SecretsError::UnknownKekVersion(version))?;
        let (nonce, ciphertext) = sealed
            .get(5..)
            .and_then(|rest| rest.split_at_checked(12))
            .ok_or(SecretsError::Open)?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretsError::Open)?;
        let aad = associated_data(owner, purpose, version);
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretsError::Open)
    }

    /// Opens a value and seals it again under the current KEK, for `to`.
    pub fn reseal(
        &self,
        sealed: &[u8],
        card: &CardGuid,
        from: SealPurpose,
        to: SealPurpose,
    ) -> Result<Vec<u8>, SecretsError> {
        let plaintext = self.open(sealed, card, from)?;
        self.seal(&plaintext, card, to)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn guid(byte: u8) -> CardGuid {
        CardGuid::from_bytes([byte; 16])
    }

    #[test]
    fn card_3_a_sealed_puk_opens_only_for_its_card_purpose_and_key() {
        let kek = Kek::new(1, &[1; 32], &[]);
        let sealed = kek.seal(b"12345678", &guid(0xA), SealPurpose::Puk).unwrap();
        let opened = kek.open(&sealed, &guid(0xA), SealPurpose::Puk).unwrap();
        assert_eq!(opened.as_slice(), b"12345678");
        assert!(kek.open(&sealed, &guid(0xB), SealPurpose::Puk).is_err());
        assert!(kek
            .open(&sealed, &guid(0xA), SealPurpose::PendingPuk)
            .is_err());
        assert!(Kek::new(1, &[2; 32], &[])
            .open(&sealed, &guid(0xA), SealPurpose::Puk)
            .is_err());
        assert!(kek
            .open(&sealed[..5], &guid(0xA), SealPurpose::Puk)
            .is_err());
        // A changed version byte is caught by the associated data too.
        let mut relabelled = sealed.clone();
        relabelled[4] = 2;
        let both = Kek::new(2, &[1; 32], &[(1, Zeroizing::new([1; 32]))]);
        assert!(both
            .open(&relabelled, &guid(0xA), SealPurpose::Puk)
            .is_err());
    }

    #[test]
    fn all_7_earlier_kek_versions_stay_readable_and_reseal_under_the_current() {
        let old = Kek::new(1, &[1; 32], &[]);
        let sealed = old.seal(b"87654321", &guid(1), SealPurpose::Puk).unwrap();
        let rotating = Kek::new(2, &[2; 32], &[(1, Zeroizing::new([1; 32]))]);
        assert_eq!(Kek::version_of(&sealed), Some(1));
        let resealed = rotating
            .reseal(&sealed, &guid(1), SealPurpose::Puk, SealPurpose::Puk)
            .unwrap();
        assert_eq!(Kek::version_of(&resealed), Some(2));
        let new_only = Kek::new(2, &[2; 32], &[]);
        assert!(new_only.open(&sealed, &guid(1), SealPurpose::Puk).is_err());
        let opened = new_only
            .open(&resealed, &guid(1), SealPurpose::Puk)
            .unwrap();
        assert_eq!(opened.as_slice(), b"87654321");
    }
}
