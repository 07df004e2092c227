//! YubiKey GET METADATA of a key slot (firmware 5.3+), written once (CERT-3, CARD-3): what
//! key a slot holds now. A renewal interrupted after the card made its new keys but
//! before the server heard them reads them back this way, sealed, so the card's MACed
//! answer — not the page — says which keys it holds.
//!
//! `00 F7 00 <slot> 00` answers TLVs: `01` algorithm, `02` PIN and touch policy, `03`
//! origin (generated or imported) and `04` the public key, holding the same `86` EC point
//! GENERATE answers with. A slot with no key answers `6A88`. The parser takes untrusted
//! card bytes and answers a typed error, never a panic (ALL-2).

use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::client::PivError;
use crate::ins::Ins;
use crate::issue::P256_POINT_LEN;
use crate::slot::KeySlot;
use crate::{piv, tlv};

/// `01`: the key's algorithm ([`piv::ALG_ECC_P256`]).
pub const TAG_ALGORITHM: u32 = 0x01;
/// `02`: the PIN policy, then the touch policy.
pub const TAG_POLICY: u32 = 0x02;
/// `03`: where the key came from.
pub const TAG_ORIGIN: u32 = 0x03;
/// `04`: the public key.
pub const TAG_PUBLIC_KEY: u32 = 0x04;
/// Origin: made on the card (GENERATE), never imported.
pub const ORIGIN_GENERATED: u8 = 0x01;
/// PIN policies: never needed (9E, CARD-6), once per card session (9A, AUTH-1).
pub const PIN_NEVER: u8 = 0x01;
pub const PIN_ONCE: u8 = 0x02;
/// Touch policy: none (a smartcard has no button).
pub const TOUCH_NEVER: u8 = 0x01;

/// GET METADATA of `slot`: `00 F7 00 <slot> 00`.
pub fn read_key(slot: KeySlot) -> CommandApdu {
    CommandApdu::new(0x00, Ins::GetMetadata, 0x00, slot.key_ref()).with_le(256)
}

/// The slot's P-256 public key from the card's (unwrapped) answer to [`read_key`].
pub fn public_key(answer: &ResponseApdu) -> Result<PublicKey, PivError> {
    if !answer.sw.is_success() {
        return Err(PivError::Status {
            ins: Ins::GetMetadata.byte(),
            sw: answer.sw,
        });
    }
    let malformed = |what: &str| PivError::Malformed(what.into());
    let algorithm = tlv::find(&answer.data, TAG_ALGORITHM)?;
    if algorithm != Some(&[piv::ALG_ECC_P256][..]) {
        return Err(malformed("the slot does not hold a P-256 key"));
    }
    let public = tlv::find(&answer.data, TAG_PUBLIC_KEY)?
        .ok_or_else(|| malformed("the metadata has no 04 public key"))?;
    let point = tlv::find(public, piv::TAG_EC_POINT)?
        .ok_or_else(|| malformed("the public key has no 86 EC point"))?;
    if point.len() != P256_POINT_LEN || point.first() != Some(&0x04) {
        return Err(malformed("the EC point is not an uncompressed P-256 point"));
    }
    PublicKey::from_sec1_bytes(point).map_err(|_| malformed("the EC point is not on P-256"))
}

/// The card's side of [`public_key`]: the metadata of a P-256 key it generated.
pub fn encode(key: &PublicKey, pin_policy: u8) -> Vec<u8> {
    let point = key.to_encoded_point(false);
    let mut out = tlv::encode(TAG_ALGORITHM, &[piv::ALG_ECC_P256]);
    tlv::encode_into(&mut out, TAG_POLICY, &[pin_policy, TOUCH_NEVER]);
    tlv::encode_into(&mut out, TAG_ORIGIN, &[ORIGIN_GENERATED]);
    tlv::encode_into(
        &mut out,
        TAG_PUBLIC_KEY,
        &tlv::encode(piv::TAG_EC_POINT, point.as_bytes()),
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sw::StatusWord;
    use proptest::prelude::*;

    fn key() -> PublicKey {
        p256::SecretKey::random(&mut rand::rngs::OsRng).public_key()
    }

    #[test]
    fn cert_3_get_metadata_names_the_slot_as_yubikeys_do() {
        assert_eq!(
            read_key(KeySlot::CardAuth).to_bytes(),
            vec![0x00, 0xF7, 0x00, 0x9E, 0x00]
        );
    }

    #[test]
    fn cert_3_the_public_key_round_trips_through_the_metadata() {
        let key = key();
        let answer = ResponseApdu::new(encode(&key, PIN_ONCE), StatusWord::SUCCESS);
        assert_eq!(public_key(&answer).unwrap(), key);
        assert_eq!(answer.data[..3], [0x01, 0x01, 0x11]);
    }

    #[test]
    fn cert_3_an_empty_slot_or_another_algorithm_is_an_error() {
        let empty = ResponseApdu::status(StatusWord::REF_DATA_NOT_FOUND);
        assert!(matches!(
            public_key(&empty),
            Err(PivError::Status { ins: 0xF7, .. })
        ));
        let mut rsa = encode(&key(), PIN_ONCE);
        rsa[2] = 0x07;
        let answer = ResponseApdu::new(rsa, StatusWord::SUCCESS);
        assert!(matches!(public_key(&answer), Err(PivError::Malformed(_))));
        let no_key = ResponseApdu::new(vec![0x01, 0x01, 0x11], StatusWord::SUCCESS);
        assert!(matches!(public_key(&no_key), Err(PivError::Malformed(_))));
    }

    proptest! {
        #[test]
        fn all_2_any_metadata_answer_parses_or_errs(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = public_key(&ResponseApdu::new(data, StatusWord::SUCCESS));
        }
    }
}
