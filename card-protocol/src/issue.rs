//! Issuing a card in the card's language, written once (CARD-1, CARD-3, CERT-1, CERT-3,
//! AUTH-1, CARD-6): the card generates its own P-256 key pairs for slot 9A (PIV
//! authentication: card login, AUTH-1) and slot 9E (card authentication: presence, CARD-6),
//! the server's CA certifies the public keys it answers with, and the certificates are
//! written back with PUT DATA, where any PIV middleware finds them.
//!
//! GENERATE and PUT DATA are admin operations: a PIV card accepts them only after
//! authenticating its card management key (9B); this product runs them inside the SCP03
//! channel the server opens ([`crate::scp03`], CARD-3) and the card refuses them plain.
//! One session, two sealed rounds through the bridge:
//! 1. [`generate_key_pair`] for [`KeySlot::PivAuth`] and [`KeySlot::CardAuth`]; each
//!    unwrapped answer gives the slot's public key through [`public_key`].
//! 2. The CA issues a certificate for each key; [`put_certificate`] gives each one's
//!    (chained) PUT DATA commands, and [`written`] judges their unwrapped answers.
//!
//! Reading a certificate back needs no channel and no PIN ([`read_certificate`],
//! [`certificate`], or [`crate::PivClient::read_certificate`]). Every parser here takes
//! untrusted card bytes and answers a typed error, never a panic (ALL-2).

use crate::apdu::{CommandApdu, ResponseApdu};
use crate::client::PivError;
use crate::ins::Ins;
use crate::piv;
use crate::sw::StatusWord;
use crate::tlv;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::PublicKey;

/// The slots issuance fills; their one definition is [`crate::slot`].
pub use crate::slot::KeySlot;

/// Length of an uncompressed SEC1 P-256 point: `04 ‖ X ‖ Y`.
pub const P256_POINT_LEN: usize = 65;
/// Largest certificate object [`put_certificate`] writes (a PIV card's certificate
/// containers hold under 2 KB; ours are about 500 bytes).
pub const MAX_CERTIFICATE_OBJECT: usize = 4096;

/// GENERATE ASYMMETRIC KEY PAIR, P-256: `00 47 00 <slot> 05 AC 03 80 01 11 00`.
pub fn generate_key_pair(slot: KeySlot) -> CommandApdu {
    piv::generate_key_pair(slot, piv::ALG_ECC_P256)
}

/// The new public key from the card's (unwrapped) answer to [`generate_key_pair`].
pub fn public_key(answer: &ResponseApdu) -> Result<PublicKey, PivError> {
    success(Ins::GenerateAsymmetricKeyPair, answer)?;
    parse_public_key(&answer.data)
}

/// Parse `7F49 L 86 41 04‖X‖Y`: an uncompressed point that must be on P-256.
pub fn parse_public_key(data: &[u8]) -> Result<PublicKey, PivError> {
    let template = match tlv::parse_all(data)?.as_slice() {
        [t] if t.tag == piv::TAG_PUBLIC_KEY => t.value,
        _ => return Err(malformed("the answer is not one 7F49 public key template")),
    };
    let point = tlv::find(template, piv::TAG_EC_POINT)?
        .ok_or_else(|| malformed("the public key template has no 86 EC point"))?;
    if point.len() != P256_POINT_LEN || point.first() != Some(&0x04) {
        return Err(malformed("the EC point is not an uncompressed P-256 point"));
    }
    PublicKey::from_sec1_bytes(point).map_err(|_| malformed("the EC point is not on P-256"))
}

/// The card's side of [`parse_public_key`]: `7F49{86 04‖X‖Y}`.
pub fn encode_public_key(key: &PublicKey) -> Vec<u8> {
    let point = key.to_encoded_point(false);
    tlv::encode(
        piv::TAG_PUBLIC_KEY,
        &tlv::encode(piv::TAG_EC_POINT, point.as_bytes()),
    )
}

/// A certificate object as PIV stores it: `53{70 <DER>, 71 00, FE 00}` (not compressed).
pub fn certificate_object(certificate_der: &[u8]) -> Vec<u8> {
    let mut body = tlv::encode(piv::TAG_CERTIFICATE, certificate_der);
    tlv::encode_into(&mut body, piv::TAG_CERT_INFO, &[0x00]);
    tlv::encode_into(&mut body, piv::TAG_ERROR_DETECTION, &[]);
    tlv::encode(piv::TAG_DATA_OBJECT, &body)
}

/// PUT DATA of the slot's certificate object, as ISO-chained parts that each stay a
/// short APDU once sealed ([`piv::CHAIN_PART`]). Wrap every part, in order, in the
/// session; an empty or oversized certificate is refused here.
pub fn put_certificate(
    slot: KeySlot,
    certificate_der: &[u8],
) -> Result<Vec<CommandApdu>, PivError> {
    // A DER certificate is a SEQUENCE.
    if certificate_der.first() != Some(&0x30) {
        return Err(malformed("the certificate is not a DER SEQUENCE"));
    }
    let object = certificate_object(certificate_der);
    if object.len() > MAX_CERTIFICATE_OBJECT {
        return Err(malformed("the certificate is too long for the card"));
    }
    Ok(piv::put_data(slot.certificate_tag(), &object))
}

/// Judge the (unwrapped) answers to [`put_certificate`]'s parts: all `9000`, one per part.
pub fn written(parts: usize, answers: &[ResponseApdu]) -> Result<(), PivError> {
    if answers.len() != parts {
        return Err(malformed("not every part of PUT DATA was answered"));
    }
    answers
        .iter()
        .try_for_each(|answer| success(Ins::PutData, answer))
}

/// GET DATA of the slot's certificate object (no PIN, no channel needed).
pub fn read_certificate(slot: KeySlot) -> CommandApdu {
    piv::get_data(slot.certificate_tag())
}

/// The DER certificate from the answer to [`read_certificate`]; `None` when the card has
/// none in that slot (`6A82`).
pub fn certificate(answer: &ResponseApdu) -> Result<Option<Vec<u8>>, PivError> {
    if answer.sw == StatusWord::FILE_NOT_FOUND {
        return Ok(None);
    }
    success(Ins::GetData, answer)?;
    parse_certificate_object(&answer.data).map(Some)
}

/// The DER certificate in a certificate object `53{70 <DER>, 71 <info>, …}`. A compressed
/// certificate (CertInfo bit 0 set) is refused: our cards never write one.
pub fn parse_certificate_object(object: &[u8]) -> Result<Vec<u8>, PivError> {
    let body = match tlv::parse_all(object)?.as_slice() {
        [t] if t.tag == piv::TAG_DATA_OBJECT => t.value,
        _ => return Err(malformed("the certificate object is not one 53 TLV")),
    };
    let items = tlv::parse_all(body)?;
    let der = items
        .iter()
        .find(|t| t.tag == piv::TAG_CERTIFICATE)
        .map(|t| t.value)
        .ok_or_else(|| malformed("the certificate object has no 70 certificate"))?;
    let compressed = items
        .iter()
        .find(|t| t.tag == piv::TAG_CERT_INFO)
        .is_some_and(|t| t.value.first().is_some_and(|info| info & 0x01 != 0));
    if compressed {
        return Err(malformed("the certificate is compressed"));
    }
    if der.first() != Some(&0x30) {
        return Err(malformed("the certificate is not a DER SEQUENCE"));
    }
    Ok(der.to_vec())
}

fn success(ins: Ins, answer: &ResponseApdu) -> Result<(), PivError> {
    if answer.sw.is_success() {
        Ok(())
    } else {
        Err(PivError::Status {
            ins: ins.byte(),
            sw: answer.sw,
        })
    }
}

fn malformed(what: &str) -> PivError {
    PivError::Malformed(what.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn key() -> PublicKey {
        p256::SecretKey::random(&mut rand::rngs::OsRng).public_key()
    }

    #[test]
    fn card_1_generate_command_bytes() {
        assert_eq!(
            generate_key_pair(KeySlot::PivAuth).to_bytes(),
            hex("00 47 00 9A 05 AC 03 80 01 11 00")
        );
        assert_eq!(
            generate_key_pair(KeySlot::CardAuth).to_bytes(),
            hex("00 47 00 9E 05 AC 03 80 01 11 00")
        );
    }

    #[test]
    fn card_1_generated_public_key_round_trips_and_is_checked() {
        let key = key();
        let data = encode_public_key(&key);
        assert_eq!(data.get(..5), Some(&hex("7F 49 43 86 41")[..]));
        assert_eq!(data.get(5), Some(&0x04));
        let answer = ResponseApdu::new(data.clone(), StatusWord::SUCCESS);
        assert_eq!(public_key(&answer).unwrap(), key);
        // Refused by the card: the status word is kept.
        let refused = public_key(&ResponseApdu::status(StatusWord(0x6982))).unwrap_err();
        assert_eq!(refused.status_word(), Some(StatusWord(0x6982)));
        // A point off the curve, a compressed point, a wrong template.
        let mut off_curve = data.clone();
        *off_curve.last_mut().unwrap() ^= 1;
        assert!(parse_public_key(&off_curve).is_err());
        let compressed = key.to_encoded_point(true);
        let inner = tlv::encode(0x86, compressed.as_bytes());
        assert!(parse_public_key(&tlv::encode(0x7F49, &inner)).is_err());
        assert!(parse_public_key(&tlv::encode(0x7F48, &tlv::encode(0x86, &[4; 65]))).is_err());
        let mut trailing = data;
        trailing.push(0);
        assert!(parse_public_key(&trailing).is_err());
    }

    #[test]
    fn card_1_certificate_object_layout() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(
            certificate_object(&der),
            hex("53 0C 70 05 30 03 02 01 05 71 01 00 FE 00")
        );
        assert_eq!(
            parse_certificate_object(&certificate_object(&der)).unwrap(),
            der
        );
        let compressed = tlv::encode(
            0x53,
            &[tlv::encode(0x70, &der), tlv::encode(0x71, &[1])].concat(),
        );
        assert!(parse_certificate_object(&compressed).is_err());
        assert!(parse_certificate_object(&tlv::encode(0x53, &tlv::encode(0x71, &[0]))).is_err());
        assert!(parse_certificate_object(&tlv::encode(0x54, &[])).is_err());
    }

    #[test]
    fn card_1_a_500_byte_certificate_is_chained_in_short_parts() {
        let mut der = vec![0x30, 0x82, 0x01, 0xF0];
        der.extend([0xA5; 0x1F0]);
        let parts = put_certificate(KeySlot::PivAuth, &der).unwrap();
        assert_eq!(parts.len(), 3);
        let (last, rest) = parts.split_last().unwrap();
        assert!(rest
            .iter()
            .all(|p| p.cla == 0x10 && p.data.len() == piv::CHAIN_PART));
        assert_eq!(
            (last.cla, last.instruction(), last.p1, last.p2),
            (0x00, Some(Ins::PutData), 0x3F, 0xFF)
        );
        // Every part is a short APDU.
        assert!(parts
            .iter()
            .all(|p| p.to_bytes().get(4) == Some(&(p.data.len() as u8))));
        let data: Vec<u8> = parts.iter().flat_map(|p| p.data.clone()).collect();
        assert_eq!(data.get(..5), Some(&hex("5C 03 5F C1 05")[..]));
        assert_eq!(data.get(5..), Some(&certificate_object(&der)[..]));
        // 9E's object; a short certificate is one plain command.
        let one = put_certificate(KeySlot::CardAuth, &[0x30, 0x00]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            one[0].to_bytes(),
            hex("00 DB 3F FF 10 5C 03 5F C1 01 53 09 70 02 30 00 71 01 00 FE 00")
        );
        assert!(put_certificate(KeySlot::CardAuth, &[]).is_err());
        assert!(put_certificate(KeySlot::CardAuth, &[0x30; 5000]).is_err());
    }

    #[test]
    fn card_1_written_and_read_back_answers() {
        let ok = ResponseApdu::status(StatusWord::SUCCESS);
        assert!(written(2, &[ok.clone(), ok.clone()]).is_ok());
        assert!(written(2, std::slice::from_ref(&ok)).is_err());
        let refused = written(1, &[ResponseApdu::status(StatusWord(0x6982))]).unwrap_err();
        assert_eq!(refused.status_word(), Some(StatusWord(0x6982)));

        assert_eq!(
            read_certificate(KeySlot::PivAuth).to_bytes(),
            hex("00 CB 3F FF 05 5C 03 5F C1 05 00")
        );
        let der = vec![0x30, 0x01, 0x00];
        let answer = ResponseApdu::new(certificate_object(&der), StatusWord::SUCCESS);
        assert_eq!(certificate(&answer).unwrap(), Some(der));
        assert_eq!(
            certificate(&ResponseApdu::status(StatusWord::FILE_NOT_FOUND)).unwrap(),
            None
        );
        assert!(certificate(&ResponseApdu::status(StatusWord(0x6982))).is_err());
    }

    proptest! {
        // ALL-2: card answers are untrusted; no bytes panic these parsers.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), sw: u16) {
            let answer = ResponseApdu::new(bytes.clone(), StatusWord(sw));
            let _ = public_key(&answer);
            let _ = certificate(&answer);
            let _ = parse_certificate_object(&bytes);
            let _ = parse_public_key(&bytes);
        }

        #[test]
        fn certificates_round_trip_through_chained_put_data(len in 2usize..2000, slot in prop_oneof![Just(KeySlot::PivAuth), Just(KeySlot::CardAuth)]) {
            let mut der = vec![0x30];
            der.extend((1..len).map(|i| i as u8));
            let parts = put_certificate(slot, &der).unwrap();
            prop_assert!(parts.iter().all(|p| p.data.len() <= piv::CHAIN_PART));
            let data: Vec<u8> = parts.iter().flat_map(|p| p.data.clone()).collect();
            let all = tlv::parse_all(&data).unwrap();
            prop_assert_eq!(all.len(), 2);
            prop_assert_eq!(parse_certificate_object(&all[1].encode()).unwrap(), der);
        }
    }
}
