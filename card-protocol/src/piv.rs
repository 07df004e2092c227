//! The PIV commands (NIST SP 800-73-4 part 2) this product uses, and the PIV data it
//! reads (CHUID, signatures, PIN status). Builders only; [`crate::client`] sends them, and
//! [`crate::issue`] builds issuance (GENERATE, certificate objects) from them.

use crate::apdu::CommandApdu;
use crate::ins::Ins;
use crate::pin::{Pin, Puk};
use crate::slot::KeySlot;
use crate::sw::StatusWord;
use crate::tlv;

pub use crate::client::PivError;

/// PIV AID prefix (RID + PIX start). Middleware selects by this; cards match the prefix.
pub const PIV_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x03, 0x08];
/// The full PIV AID, version 1.0.
pub const PIV_AID_FULL: &[u8] = &[
    0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
];

/// The passcode tries our cards are issued with: a card locks after three wrong passcodes,
/// and a right one (or an unlock) gives all three back.
pub const PIN_TRIES: u8 = 3;
/// The CLA bit of ISO command chaining: more parts of this command follow.
pub const CLA_CHAINING: u8 = 0x10;

pub const KEY_REF_PIN: u8 = 0x80;
pub const KEY_REF_PUK: u8 = 0x81;
pub const ALG_ECC_P256: u8 = 0x11;

/// Card Holder Unique Identifier object.
pub const TAG_CHUID: u32 = 0x5FC102;
/// Dynamic authentication template (GENERAL AUTHENTICATE).
pub const TAG_DYN_AUTH: u32 = 0x7C;
pub const TAG_DYN_AUTH_RESPONSE: u32 = 0x82;
pub const TAG_DYN_AUTH_CHALLENGE: u32 = 0x81;
/// Data object wrapper of every GET DATA response.
pub const TAG_DATA_OBJECT: u32 = 0x53;
/// Tag list of GET DATA and PUT DATA: which object.
pub const TAG_OBJECT_ID: u32 = 0x5C;
/// Inside a certificate object: the DER certificate, its CertInfo (`00`: not
/// compressed), and the empty error detection code.
pub const TAG_CERTIFICATE: u32 = 0x70;
pub const TAG_CERT_INFO: u32 = 0x71;
pub const TAG_ERROR_DETECTION: u32 = 0xFE;
/// GENERATE ASYMMETRIC KEY PAIR: the control template and its algorithm reference.
pub const TAG_KEY_TEMPLATE: u32 = 0xAC;
pub const TAG_ALGORITHM: u32 = 0x80;
/// GENERATE's answer: the public key template and, for EC keys, the point.
pub const TAG_PUBLIC_KEY: u32 = 0x7F49;
pub const TAG_EC_POINT: u32 = 0x86;

/// Largest data field of one part of a chained command. 239 bytes, so that a part sealed
/// in SCP03 at level `33` (padded to 240, plus an 8-byte C-MAC: 248) is still a short
/// APDU, which every reader and card takes; plain parts fit all the more.
pub const CHAIN_PART: usize = 239;

/// SELECT the PIV application by its AID prefix.
pub fn select() -> CommandApdu {
    CommandApdu::new(0x00, Ins::Select, 0x04, 0x00)
        .with_data(PIV_AID.to_vec())
        .with_le(256)
}

/// The tag list naming one object: `5C <tag bytes>`.
fn object_id(tag: u32) -> Vec<u8> {
    let mut tag_bytes = tlv::encode(tag, &[]);
    // encode(tag, []) = tag bytes + 00 length; keep only the tag bytes.
    tag_bytes.pop();
    tlv::encode(TAG_OBJECT_ID, &tag_bytes)
}

/// GET DATA for one object: `00 CB 3F FF 5C <tag>`.
pub fn get_data(tag: u32) -> CommandApdu {
    CommandApdu::new(0x00, Ins::GetData, 0x3F, 0xFF)
        .with_data(object_id(tag))
        .with_le(256)
}

/// PUT DATA of one object, `00 DB 3F FF 5C <tag> <object>` where `object` is the whole
/// `53 L …` TLV, split by ISO command chaining into parts of at most [`CHAIN_PART`]
/// bytes (as OpenSC and yubico-piv-tool send it). Send every part, in order; each is
/// answered `9000` until the last, whose answer is the command's.
pub fn put_data(tag: u32, object: &[u8]) -> Vec<CommandApdu> {
    let mut data = object_id(tag);
    data.extend_from_slice(object);
    chain(CommandApdu::new(0x00, Ins::PutData, 0x3F, 0xFF).with_data(data))
}

/// Split a command into ISO-chained parts of at most [`CHAIN_PART`] data bytes: every
/// part but the last has CLA bit `10`; only the last keeps the Le. A command that fits
/// is returned as it is.
pub fn chain(command: CommandApdu) -> Vec<CommandApdu> {
    if command.data.len() <= CHAIN_PART {
        return vec![command];
    }
    let CommandApdu {
        cla,
        ins,
        p1,
        p2,
        data,
        le,
    } = command;
    let mut parts: Vec<CommandApdu> = data
        .chunks(CHAIN_PART)
        .map(|part| CommandApdu {
            cla: cla | CLA_CHAINING,
            ins,
            p1,
            p2,
            data: part.to_vec(),
            le: None,
        })
        .collect();
    if let Some(last) = parts.last_mut() {
        last.cla = cla;
        last.le = le;
    }
    parts
}

/// GENERATE ASYMMETRIC KEY PAIR in `slot`: `00 47 00 slot AC{80 algorithm} 00`. The card
/// answers with the new public key ([`crate::issue::parse_public_key`]).
pub fn generate_key_pair(slot: KeySlot, algorithm: u8) -> CommandApdu {
    let template = tlv::encode(TAG_ALGORITHM, &[algorithm]);
    CommandApdu::new(0x00, Ins::GenerateAsymmetricKeyPair, 0x00, slot.key_ref())
        .with_data(tlv::encode(TAG_KEY_TEMPLATE, &template))
        .with_le(256)
}

pub fn verify_pin(pin: &Pin) -> CommandApdu {
    CommandApdu::new(0x00, Ins::Verify, 0x00, KEY_REF_PIN).with_data(pin.padded().to_vec())
}

/// Empty VERIFY: answers 9000 (verified) or 63Cx / 6983 and spends no try (BRG-6).
pub fn verify_pin_status() -> CommandApdu {
    CommandApdu::new(0x00, Ins::Verify, 0x00, KEY_REF_PIN)
}

/// VERIFY with P1=FF: drop the verified state of the PIN.
pub fn verify_pin_reset() -> CommandApdu {
    CommandApdu::new(0x00, Ins::Verify, 0xFF, KEY_REF_PIN)
}

pub fn change_pin(old: &Pin, new: &Pin) -> CommandApdu {
    let mut data = Vec::with_capacity(16);
    data.extend_from_slice(old.padded());
    data.extend_from_slice(new.padded());
    CommandApdu::new(0x00, Ins::ChangeReferenceData, 0x00, KEY_REF_PIN).with_data(data)
}

pub fn change_puk(old: &Puk, new: &Puk) -> CommandApdu {
    let mut data = Vec::with_capacity(16);
    data.extend_from_slice(old.as_bytes());
    data.extend_from_slice(new.as_bytes());
    CommandApdu::new(0x00, Ins::ChangeReferenceData, 0x00, KEY_REF_PUK).with_data(data)
}

/// RESET RETRY COUNTER: PUK || new PIN; unblocks the PIN and sets it.
pub fn reset_retry_counter(puk: &Puk, new_pin: &Pin) -> CommandApdu {
    let mut data = Vec::with_capacity(16);
    data.extend_from_slice(puk.as_bytes());
    data.extend_from_slice(new_pin.padded());
    CommandApdu::new(0x00, Ins::ResetRetryCounter, 0x00, KEY_REF_PIN).with_data(data)
}

/// GENERAL AUTHENTICATE: sign a P-256 digest with the key in `slot`:
/// `00 87 11 slot 7C{82 00, 81 digest} 00`.
pub fn general_authenticate_sign(slot: KeySlot, digest: &[u8; 32]) -> CommandApdu {
    let mut inner = tlv::encode(TAG_DYN_AUTH_RESPONSE, &[]);
    tlv::encode_into(&mut inner, TAG_DYN_AUTH_CHALLENGE, digest);
    CommandApdu::new(0x00, Ins::GeneralAuthenticate, ALG_ECC_P256, slot.key_ref())
        .with_data(tlv::encode(TAG_DYN_AUTH, &inner))
        .with_le(256)
}

/// The DER signature from a GENERAL AUTHENTICATE response `7C{82 sig}`.
pub fn parse_signature(response_data: &[u8]) -> Result<Vec<u8>, PivError> {
    let template = tlv::find(response_data, TAG_DYN_AUTH)?
        .ok_or_else(|| PivError::Malformed("no 7C template in the signature response".into()))?;
    let sig = tlv::find(template, TAG_DYN_AUTH_RESPONSE)?
        .ok_or_else(|| PivError::Malformed("no 82 response in the 7C template".into()))?;
    // A DER ECDSA signature is a SEQUENCE.
    if sig.first() != Some(&0x30) {
        return Err(PivError::Malformed(
            "signature is not a DER SEQUENCE".into(),
        ));
    }
    Ok(sig.to_vec())
}

/// Card Holder Unique Identifier (SP 800-73-4 part 1, 3.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chuid {
    pub guid: [u8; 16],
    pub fasc_n: Vec<u8>,
    /// `YYYYMMDD`, empty if the card gives none.
    pub expiration: String,
}

const CHUID_FASCN: u32 = 0x30;
const CHUID_GUID: u32 = 0x34;
const CHUID_EXPIRY: u32 = 0x35;
const CHUID_SIGNATURE: u32 = 0x3E;
const CHUID_LRC: u32 = 0xFE;

impl Chuid {
    /// Parse the GET DATA response `53 { ... }`. Unknown inner tags are ignored.
    pub fn parse(object: &[u8]) -> Result<Chuid, PivError> {
        let body = tlv::find(object, TAG_DATA_OBJECT)?
            .ok_or_else(|| PivError::Malformed("CHUID is not wrapped in tag 53".into()))?;
        let mut guid = None;
        let mut fasc_n = Vec::new();
        let mut expiration = String::new();
        for t in tlv::parse_all(body)? {
            match t.tag {
                CHUID_GUID => {
                    guid = Some(<[u8; 16]>::try_from(t.value).map_err(|_| {
                        PivError::Malformed(format!(
                            "CHUID GUID is {} bytes, not 16",
                            t.value.len()
                        ))
                    })?)
                }
                CHUID_FASCN => fasc_n = t.value.to_vec(),
                CHUID_EXPIRY => {
                    if t.value.len() != 8 || !t.value.iter().all(u8::is_ascii_digit) {
                        return Err(PivError::Malformed("CHUID expiry is not YYYYMMDD".into()));
                    }
                    expiration = t.value.iter().map(|&b| char::from(b)).collect();
                }
                _ => {}
            }
        }
        let guid = guid.ok_or_else(|| PivError::Malformed("CHUID has no GUID (tag 34)".into()))?;
        Ok(Chuid {
            guid,
            fasc_n,
            expiration,
        })
    }

    /// `53{30 fascn, 34 guid, 35 expiry, 3E empty signature, FE empty LRC}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(64 + self.fasc_n.len());
        tlv::encode_into(&mut body, CHUID_FASCN, &self.fasc_n);
        tlv::encode_into(&mut body, CHUID_GUID, &self.guid);
        tlv::encode_into(&mut body, CHUID_EXPIRY, self.expiration.as_bytes());
        tlv::encode_into(&mut body, CHUID_SIGNATURE, &[]);
        tlv::encode_into(&mut body, CHUID_LRC, &[]);
        tlv::encode(TAG_DATA_OBJECT, &body)
    }
}

/// What the card says about the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    Verified,
    TriesLeft(u8),
    Blocked,
}

/// Read a VERIFY status word: 9000, 63Cx (x = 0 means blocked) or 6983.
pub fn pin_status_from_sw(sw: StatusWord) -> Result<PinStatus, PivError> {
    if sw.is_success() {
        return Ok(PinStatus::Verified);
    }
    if sw.is_blocked() {
        return Ok(PinStatus::Blocked);
    }
    match sw.tries_left() {
        Some(0) => Ok(PinStatus::Blocked),
        Some(n) => Ok(PinStatus::TriesLeft(n)),
        None => Err(PivError::Status {
            ins: Ins::Verify.byte(),
            sw,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn card_1_command_bytes() {
        assert_eq!(select().to_bytes(), hex("00 A4 04 00 05 A0 00 00 03 08 00"));
        assert_eq!(
            get_data(TAG_CHUID).to_bytes(),
            hex("00 CB 3F FF 05 5C 03 5F C1 02 00")
        );
        let pin = Pin::parse("1234").unwrap();
        assert_eq!(
            verify_pin(&pin).to_bytes(),
            hex("00 20 00 80 08 31 32 33 34 FF FF FF FF")
        );
        assert_eq!(verify_pin_status().to_bytes(), hex("00 20 00 80"));
        let new = Pin::parse("abcdefgh").unwrap();
        assert_eq!(
            change_pin(&pin, &new).to_bytes(),
            hex("00 24 00 80 10 31 32 33 34 FF FF FF FF 61 62 63 64 65 66 67 68")
        );
        let puk = Puk::parse("12345678").unwrap();
        assert_eq!(
            reset_retry_counter(&puk, &pin).to_bytes(),
            hex("00 2C 00 80 10 31 32 33 34 35 36 37 38 31 32 33 34 FF FF FF FF")
        );
        let puk2 = Puk::parse("87654321").unwrap();
        assert_eq!(
            change_puk(&puk, &puk2).to_bytes().get(..5),
            Some(&hex("00 24 00 81 10")[..])
        );
        let ga = general_authenticate_sign(KeySlot::CardAuth, &[0xAA; 32]).to_bytes();
        let mut want = hex("00 87 11 9E 26 7C 24 82 00 81 20");
        want.extend([0xAA; 32]);
        want.push(0);
        assert_eq!(ga, want);
    }

    #[test]
    fn card_1_generate_and_put_data_bytes() {
        assert_eq!(
            generate_key_pair(KeySlot::CardAuth, ALG_ECC_P256).to_bytes(),
            hex("00 47 00 9E 05 AC 03 80 01 11 00")
        );
        assert_eq!(
            put_data(0x5FC105, &hex("53 00")),
            vec![CommandApdu::new(0, Ins::PutData, 0x3F, 0xFF)
                .with_data(hex("5C 03 5F C1 05 53 00"))]
        );
    }

    #[test]
    fn card_1_chain_keeps_header_and_le_on_the_last_part() {
        let cmd = CommandApdu::new(0x00, Ins::PutData, 0x3F, 0xFF)
            .with_data((0..600u32).map(|i| i as u8).collect())
            .with_le(256);
        let parts = chain(cmd.clone());
        let sizes: Vec<usize> = parts.iter().map(|p| p.data.len()).collect();
        assert_eq!(sizes, vec![CHAIN_PART, CHAIN_PART, 600 - 2 * CHAIN_PART]);
        let clas: Vec<u8> = parts.iter().map(|p| p.cla).collect();
        assert_eq!(clas, vec![0x10, 0x10, 0x00]);
        let les: Vec<Option<usize>> = parts.iter().map(|p| p.le).collect();
        assert_eq!(les, vec![None, None, Some(256)]);
        assert!(parts
            .iter()
            .all(|p| (p.instruction(), p.p1, p.p2) == (Some(Ins::PutData), 0x3F, 0xFF)));
        let data: Vec<u8> = parts.into_iter().flat_map(|p| p.data).collect();
        assert_eq!(data, cmd.data);
        let short = CommandApdu::new(0, Ins::PutData, 0x3F, 0xFF).with_data(vec![1; CHAIN_PART]);
        assert_eq!(chain(short.clone()), vec![short]);
    }

    #[test]
    fn signature_extraction() {
        let resp = tlv::encode(0x7C, &tlv::encode(0x82, &hex("30 06 02 01 01 02 01 02")));
        assert_eq!(
            parse_signature(&resp).unwrap(),
            hex("30 06 02 01 01 02 01 02")
        );
        assert!(parse_signature(&tlv::encode(0x7C, &[])).is_err());
        assert!(parse_signature(&tlv::encode(0x7C, &tlv::encode(0x82, &[1]))).is_err());
        assert!(parse_signature(&[]).is_err());
    }

    #[test]
    fn chuid_round_trip_and_errors() {
        let c = Chuid {
            guid: [7; 16],
            fasc_n: vec![0xD4; 25],
            expiration: "20301231".into(),
        };
        assert_eq!(Chuid::parse(&c.encode()).unwrap(), c);
        assert!(Chuid::parse(&tlv::encode(0x53, &tlv::encode(0x34, &[1; 15]))).is_err());
        assert!(Chuid::parse(&tlv::encode(0x53, &[])).is_err());
        assert!(Chuid::parse(&tlv::encode(0x54, &[])).is_err());
        // Minimal CHUID with only a GUID is accepted.
        let min = Chuid::parse(&tlv::encode(0x53, &tlv::encode(0x34, &[1; 16]))).unwrap();
        assert_eq!(min.guid, [1; 16]);
    }

    #[test]
    fn card_2_pin_status_words() {
        assert_eq!(
            pin_status_from_sw(StatusWord(0x9000)).unwrap(),
            PinStatus::Verified
        );
        assert_eq!(
            pin_status_from_sw(StatusWord(0x63C2)).unwrap(),
            PinStatus::TriesLeft(2)
        );
        assert_eq!(
            pin_status_from_sw(StatusWord(0x63C0)).unwrap(),
            PinStatus::Blocked
        );
        assert_eq!(
            pin_status_from_sw(StatusWord(0x6983)).unwrap(),
            PinStatus::Blocked
        );
        assert!(matches!(
            pin_status_from_sw(StatusWord(0x6A88)),
            Err(PivError::Status {
                ins,
                sw: StatusWord(0x6A88)
            }) if Ins::parse(ins) == Some(Ins::Verify)
        ));
    }

    proptest! {
        #[test]
        fn chuid_round_trips(guid: [u8; 16], fasc_n in proptest::collection::vec(any::<u8>(), 0..40), exp in "[0-9]{8}") {
            let c = Chuid { guid, fasc_n, expiration: exp };
            prop_assert_eq!(Chuid::parse(&c.encode()).unwrap(), c);
        }

        // ALL-2: card responses are untrusted; no bytes panic these parsers.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), sw: u16) {
            let _ = Chuid::parse(&bytes);
            let _ = parse_signature(&bytes);
            let _ = pin_status_from_sw(StatusWord(sw));
        }

        #[test]
        fn get_data_names_the_tag(tag in prop_oneof![Just(TAG_CHUID), Just(0x7Eu32), Just(0x5FC105u32)]) {
            let cmd = get_data(tag);
            let mut want = tlv::encode(tag, &[]);
            want.pop();
            prop_assert_eq!(tlv::find(&cmd.data, 0x5C).unwrap(), Some(&want[..]));
        }
    }
}
