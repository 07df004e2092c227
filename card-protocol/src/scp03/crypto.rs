//! The primitives SCP03 is built from, all from RustCrypto (nothing hand-rolled): AES keys
//! of 128, 192 or 256 bits held in zeroizing buffers, AES-CMAC, the NIST SP 800-108
//! counter-mode KDF laid out as Amendment D §4.1.5 says, and AES-CBC with ISO/IEC 7816-4
//! padding (`80 00…`).

use super::{Scp03Error, StaticKeys};
use aes::cipher::block_padding::Iso7816;
use aes::cipher::{BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit};
use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use zeroize::Zeroizing;

/// AES block size.
pub(crate) const BLOCK: usize = 16;

/// Data derivation constants, Amendment D Table 4-1.
pub(crate) mod constant {
    pub const CARD_CRYPTOGRAM: u8 = 0x00;
    pub const HOST_CRYPTOGRAM: u8 = 0x01;
    pub const CARD_CHALLENGE: u8 = 0x02;
    pub const S_ENC: u8 = 0x04;
    pub const S_MAC: u8 = 0x06;
    pub const S_RMAC: u8 = 0x07;
}

/// One AES key; the bytes are wiped when it is dropped.
#[derive(Clone)]
pub(crate) enum AesKey {
    Aes128(Zeroizing<[u8; 16]>),
    Aes192(Zeroizing<[u8; 24]>),
    Aes256(Zeroizing<[u8; 32]>),
}

/// Runs `$body` with `$c` bound to the concrete cipher type and `$k` to the key array.
macro_rules! with_cipher {
    ($key:expr, $c:ident, $k:ident => $body:expr) => {
        match $key {
            AesKey::Aes128($k) => {
                type $c = Aes128;
                $body
            }
            AesKey::Aes192($k) => {
                type $c = Aes192;
                $body
            }
            AesKey::Aes256($k) => {
                type $c = Aes256;
                $body
            }
        }
    };
}

impl AesKey {
    /// A key of 16, 24 or 32 bytes; any other length is refused.
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Self, Scp03Error> {
        fn copy<const N: usize>(bytes: &[u8]) -> Zeroizing<[u8; N]> {
            let mut key = Zeroizing::new([0u8; N]);
            key.iter_mut().zip(bytes).for_each(|(d, s)| *d = *s);
            key
        }
        match bytes.len() {
            16 => Ok(Self::Aes128(copy(bytes))),
            24 => Ok(Self::Aes192(copy(bytes))),
            32 => Ok(Self::Aes256(copy(bytes))),
            n => Err(Scp03Error::KeyLength(n)),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Aes128(k) => &k[..],
            Self::Aes192(k) => &k[..],
            Self::Aes256(k) => &k[..],
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// AES-CMAC (NIST SP 800-38B) over the concatenation of `parts`, all 16 bytes.
    pub(crate) fn cmac(&self, parts: &[&[u8]]) -> [u8; BLOCK] {
        with_cipher!(self, C, k => {
            let mut mac = <Cmac<C> as KeyInit>::new((&**k).into());
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().into()
        })
    }

    /// One raw AES block encryption (only used to turn a counter into an ICV).
    pub(crate) fn encrypt_block(&self, block: [u8; BLOCK]) -> [u8; BLOCK] {
        let mut block: aes::Block = block.into();
        with_cipher!(self, C, k => C::new((&**k).into()).encrypt_block(&mut block));
        block.into()
    }

    /// AES-CBC with `iv`, after ISO/IEC 7816-4 padding (always at least one byte, `80`).
    pub(crate) fn cbc_encrypt(&self, iv: &[u8; BLOCK], plain: &[u8]) -> Vec<u8> {
        with_cipher!(self, C, k => {
            cbc::Encryptor::<C>::new((&**k).into(), iv.into())
                .encrypt_padded_vec_mut::<Iso7816>(plain)
        })
    }

    /// Reverses [`Self::cbc_encrypt`]: whole blocks only, and the padding must be exact.
    pub(crate) fn cbc_decrypt(
        &self,
        iv: &[u8; BLOCK],
        cipher: &[u8],
    ) -> Result<Vec<u8>, Scp03Error> {
        if cipher.is_empty() || !cipher.chunks_exact(BLOCK).remainder().is_empty() {
            return Err(Scp03Error::WrongLength(cipher.len()));
        }
        let plain = with_cipher!(self, C, k => {
            cbc::Decryptor::<C>::new((&**k).into(), iv.into())
                .decrypt_padded_vec_mut::<Iso7816>(cipher)
        });
        plain.map_err(|_| Scp03Error::BadPadding)
    }
}

/// NIST SP 800-108 KDF in counter mode with AES-CMAC as the PRF and a one-byte counter
/// placed between two fixed inputs: block i = CMAC(key, `before` || i || `after`), i from 1.
/// `out` is at most a few blocks here (the largest is a 32-byte key).
pub(crate) fn kdf_counter(key: &AesKey, before: &[u8], after: &[u8], out: &mut [u8]) {
    let mut counter: u8 = 0;
    for chunk in out.chunks_mut(BLOCK) {
        counter = counter.wrapping_add(1);
        let block = Zeroizing::new(key.cmac(&[before, &[counter], after]));
        chunk
            .iter_mut()
            .zip(block.iter())
            .for_each(|(d, s)| *d = *s);
    }
}

/// Amendment D §4.1.5: the fixed input before the counter is a label of 11 bytes `00` and
/// the derivation constant, a `00` separator and L (the output length in bits, 2 bytes);
/// the context follows the counter.
pub(crate) fn derive(key: &AesKey, derivation_constant: u8, context: &[u8], out: &mut [u8]) {
    let bits = u16::try_from(out.len() * 8).unwrap_or(u16::MAX);
    let [hi, lo] = bits.to_be_bytes();
    let before = [
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        derivation_constant,
        0,
        hi,
        lo,
    ];
    kdf_counter(key, &before, context, out);
}

/// A key of the same length as `base`, derived from it (session keys are as long as the
/// static keys they come from).
fn derive_key(base: &AesKey, derivation_constant: u8, context: &[u8]) -> AesKey {
    fn make<const N: usize>(base: &AesKey, c: u8, context: &[u8]) -> Zeroizing<[u8; N]> {
        let mut out = Zeroizing::new([0u8; N]);
        derive(base, c, context, &mut out[..]);
        out
    }
    match base {
        AesKey::Aes128(_) => AesKey::Aes128(make(base, derivation_constant, context)),
        AesKey::Aes192(_) => AesKey::Aes192(make(base, derivation_constant, context)),
        AesKey::Aes256(_) => AesKey::Aes256(make(base, derivation_constant, context)),
    }
}

/// The three session keys of one secure channel session (§6.2.1).
#[derive(Clone)]
pub(crate) struct SessionKeys {
    pub(crate) enc: AesKey,
    pub(crate) mac: AesKey,
    pub(crate) rmac: AesKey,
}

impl SessionKeys {
    /// S-ENC from K-ENC, S-MAC and S-RMAC from K-MAC; context = host challenge || card challenge.
    pub(crate) fn derive(keys: &StaticKeys, context: &[u8; 16]) -> Self {
        Self {
            enc: derive_key(&keys.enc, constant::S_ENC, context),
            mac: derive_key(&keys.mac, constant::S_MAC, context),
            rmac: derive_key(&keys.mac, constant::S_RMAC, context),
        }
    }
}

/// A card or host authentication cryptogram (§6.2.2.2–3): 64 bits derived from S-MAC.
pub(crate) fn cryptogram(s_mac: &AesKey, derivation_constant: u8, context: &[u8; 16]) -> [u8; 8] {
    let mut out = [0u8; 8];
    derive(s_mac, derivation_constant, context, &mut out);
    out
}

/// The pseudo-random card challenge (§6.2.2.1): 64 bits derived from the static K-ENC over
/// the sequence counter and the AID of the application the channel is opened with.
pub(crate) fn pseudo_random_challenge(k_enc: &AesKey, sequence: [u8; 3], aid: &[u8]) -> [u8; 8] {
    let mut context = Vec::with_capacity(3 + aid.len());
    context.extend_from_slice(&sequence);
    context.extend_from_slice(aid);
    let mut out = [0u8; 8];
    derive(k_enc, constant::CARD_CHALLENGE, &context, &mut out);
    out
}
