//! The card's key pairs and certificates (CARD-1, CARD-3, CARD-6, AUTH-1, CERT-1, CERT-3):
//! GENERATE ASYMMETRIC KEY PAIR and PUT DATA for issuance, GET DATA of the certificate
//! objects, and GENERAL AUTHENTICATE signing with slot 9A or 9E.
//!
//! - GENERATE (`00 47 00 9A|9E AC{80 11}`) makes a random P-256 key pair in the slot, saves
//!   it in the state file before answering, and answers `7F49{86 04‖X‖Y}`.
//! - PUT DATA (`00 DB 3F FF 5C <tag> 53{…}`) stores the certificate object for 9A
//!   (`5FC105`) or 9E (`5FC101`) as given; `53 00` deletes it. Other objects: `6A82`.
//! - Both are admin operations, accepted only sealed inside the SCP03 session the server
//!   opens (CARD-3); plain, they are refused with `6982` and change nothing. A PIV card
//!   guards them with its card management key (9B, a GENERAL AUTHENTICATE
//!   challenge-response); this product's stand-in for 9B is the per-card SCP03 key set,
//!   which only the server holds (sealed with its KEK), so key generation and certificate
//!   writing need the server just as unlock does.
//! - GET DATA answers the certificate objects plain and without the PIN (certificates
//!   are public), as every PIV card does; an empty slot is `6A82`.
//! - GENERAL AUTHENTICATE signs a 32-byte digest (ECDSA P-256, prehashed): with 9E
//!   always (CARD-6), with 9A only once the PIN is verified in this card session
//!   (`6982` otherwise; AUTH-1). A slot with no key yet is `6A88`.
//! - YubiKey GET METADATA (`00 F7 00 9A|9E`) answers the slot's public key, plain or
//!   sealed: a renewal cut off after GENERATE reads the new keys back with it (CERT-3).

use super::{Reply, VirtualCard};
use crate::state::{CardError, CardState};
use card_protocol::apdu::CommandApdu;
use card_protocol::{issue, metadata};
use card_protocol::{piv, tlv, Ins, KeySlot, StatusWord};
use p256::ecdsa::SigningKey;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// The card's private keys (wiped on drop by `SigningKey`) and certificate objects.
pub(super) struct Keys {
    piv_auth: Option<SigningKey>,
    card_auth: SigningKey,
    piv_auth_certificate: Option<Vec<u8>>,
    card_auth_certificate: Option<Vec<u8>>,
}

impl Keys {
    /// A new card: a 9E key (so CARD-6 works before issuance), nothing else.
    pub(super) fn new() -> Self {
        Self {
            piv_auth: None,
            card_auth: SigningKey::random(&mut OsRng),
            piv_auth_certificate: None,
            card_auth_certificate: None,
        }
    }

    /// From the state file; the 9A key and the certificates are absent in files written
    /// before issuance existed.
    pub(super) fn from_state(state: &CardState) -> Result<Self, CardError> {
        let key = |name: &str, value: &str| {
            let bytes = Zeroizing::new(
                hex::decode(value).map_err(|e| CardError::Invalid(format!("{name}: {e}")))?,
            );
            SigningKey::from_slice(&bytes)
                .map_err(|_| CardError::Invalid(format!("{name} is not a P-256 private key")))
        };
        let object = |name: &str, value: &str| {
            let bytes =
                hex::decode(value).map_err(|e| CardError::Invalid(format!("{name}: {e}")))?;
            if !is_data_object(&bytes) {
                return Err(CardError::Invalid(format!("{name} is not one 53 object")));
            }
            Ok(bytes)
        };
        Ok(Self {
            piv_auth: state
                .piv_auth_key
                .as_deref()
                .map(|k| key("piv_auth_key", k))
                .transpose()?,
            card_auth: key("card_auth_key", &state.card_auth_key)?,
            piv_auth_certificate: state
                .piv_auth_certificate
                .as_deref()
                .map(|o| object("piv_auth_certificate", o))
                .transpose()?,
            card_auth_certificate: state
                .card_auth_certificate
                .as_deref()
                .map(|o| object("card_auth_certificate", o))
                .transpose()?,
        })
    }

    /// Fills the state's key and certificate fields.
    pub(super) fn to_state(&self, state: &mut CardState) {
        state.card_auth_key = key_hex(&self.card_auth);
        state.piv_auth_key = self.piv_auth.as_ref().map(key_hex);
        state.piv_auth_certificate = self.piv_auth_certificate.as_ref().map(hex::encode);
        state.card_auth_certificate = self.card_auth_certificate.as_ref().map(hex::encode);
    }

    pub(super) fn card_auth(&self) -> &SigningKey {
        &self.card_auth
    }

    pub(super) fn key(&self, slot: KeySlot) -> Option<&SigningKey> {
        match slot {
            KeySlot::PivAuth => self.piv_auth.as_ref(),
            KeySlot::CardAuth => Some(&self.card_auth),
        }
    }

    pub(super) fn certificate_object(&self, slot: KeySlot) -> Option<&[u8]> {
        match slot {
            KeySlot::PivAuth => self.piv_auth_certificate.as_deref(),
            KeySlot::CardAuth => self.card_auth_certificate.as_deref(),
        }
    }

    fn set_key(&mut self, slot: KeySlot, key: SigningKey) {
        match slot {
            KeySlot::PivAuth => self.piv_auth = Some(key),
            KeySlot::CardAuth => self.card_auth = key,
        }
    }

    fn set_certificate_object(&mut self, slot: KeySlot, object: Option<Vec<u8>>) {
        match slot {
            KeySlot::PivAuth => self.piv_auth_certificate = object,
            KeySlot::CardAuth => self.card_auth_certificate = object,
        }
    }
}

/// A private key as the state file keeps it: the 32-byte scalar in hex.
fn key_hex(key: &SigningKey) -> String {
    hex::encode(Zeroizing::new(key.to_bytes().to_vec()))
}

/// One well-formed `53` TLV and nothing after it.
fn is_data_object(bytes: &[u8]) -> bool {
    matches!(tlv::parse_all(bytes).as_deref(), Ok([t]) if t.tag == piv::TAG_DATA_OBJECT)
}

/// The commands that only run sealed in the SCP03 session.
pub(super) fn is_admin(ins: Ins) -> bool {
    matches!(ins, Ins::GenerateAsymmetricKeyPair | Ins::PutData)
}

impl VirtualCard {
    /// GENERATE ASYMMETRIC KEY PAIR, P-256 only. The key is saved before the answer.
    pub(super) fn generate_key_pair(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let slot = KeySlot::from_key_ref(cmd.p2).ok_or(StatusWord::INCORRECT_P1P2)?;
        let template = match tlv::parse_all(&cmd.data).as_deref() {
            Ok([t]) if t.tag == piv::TAG_KEY_TEMPLATE => t.value,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let algorithm =
            tlv::find(template, piv::TAG_ALGORITHM).map_err(|_| StatusWord::WRONG_DATA)?;
        if algorithm != Some(&[piv::ALG_ECC_P256][..]) {
            return Err(StatusWord::WRONG_DATA);
        }
        let key = SigningKey::random(&mut OsRng);
        let public = p256::PublicKey::from(key.verifying_key());
        self.keys.set_key(slot, key);
        self.commit()?;
        Ok(issue::encode_public_key(&public))
    }

    /// YubiKey GET METADATA of a key slot, plain or sealed (a public key is public):
    /// `6A88` for an empty slot or any other reference.
    pub(super) fn get_metadata(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let slot = KeySlot::from_key_ref(cmd.p2).ok_or(StatusWord::REF_DATA_NOT_FOUND)?;
        let key = self.keys.key(slot).ok_or(StatusWord::REF_DATA_NOT_FOUND)?;
        let pin_policy = match slot {
            KeySlot::PivAuth => metadata::PIN_ONCE,
            KeySlot::CardAuth => metadata::PIN_NEVER,
        };
        Ok(metadata::encode(
            &p256::PublicKey::from(key.verifying_key()),
            pin_policy,
        ))
    }

    /// PUT DATA of a certificate object; `53 00` deletes it. Saved before the answer.
    pub(super) fn put_data(&mut self, cmd: &CommandApdu) -> Reply {
        if (cmd.p1, cmd.p2) != (0x3F, 0xFF) {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let (tag, object) = match tlv::parse_all(&cmd.data).as_deref() {
            Ok([id, object])
                if id.tag == piv::TAG_OBJECT_ID && object.tag == piv::TAG_DATA_OBJECT =>
            {
                (tag_value(id.value)?, object.encode())
            }
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let slot = KeySlot::from_certificate_tag(tag).ok_or(StatusWord::FILE_NOT_FOUND)?;
        let empty = object.len() == 2;
        self.keys
            .set_certificate_object(slot, (!empty).then_some(object));
        self.commit()?;
        Ok(Vec::new())
    }

    /// GET DATA of a certificate object: `6A82` for an empty slot or another tag.
    pub(super) fn certificate_object(&self, tag: u32) -> Reply {
        KeySlot::from_certificate_tag(tag)
            .and_then(|slot| self.keys.certificate_object(slot))
            .map(<[u8]>::to_vec)
            .ok_or(StatusWord::FILE_NOT_FOUND)
    }

    /// Sign a 32-byte digest with the 9A key (PIN verified) or the 9E key (no PIN).
    pub(super) fn general_authenticate(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != piv::ALG_ECC_P256 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let slot = KeySlot::from_key_ref(cmd.p2).ok_or(StatusWord::INCORRECT_P1P2)?;
        let template = match tlv::parse_all(&cmd.data).as_deref() {
            Ok([t]) if t.tag == piv::TAG_DYN_AUTH => t.value,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        let items = tlv::parse_all(template).map_err(|_| StatusWord::WRONG_DATA)?;
        let asks_response = items
            .iter()
            .any(|t| t.tag == piv::TAG_DYN_AUTH_RESPONSE && t.value.is_empty());
        let challenges: Vec<_> = items
            .iter()
            .filter(|t| t.tag == piv::TAG_DYN_AUTH_CHALLENGE)
            .collect();
        let digest = match challenges.as_slice() {
            [c] if asks_response && items.len() == 2 && c.value.len() == 32 => c.value,
            _ => return Err(StatusWord::WRONG_DATA),
        };
        if slot == KeySlot::PivAuth && !self.pin_verified {
            return Err(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
        }
        let key = self.keys.key(slot).ok_or(StatusWord::REF_DATA_NOT_FOUND)?;
        let signature =
            super::signing::sign_prehash(key, digest).map_err(|_| StatusWord::WRONG_DATA)?;
        let der = signature.to_der();
        Ok(tlv::encode(
            piv::TAG_DYN_AUTH,
            &tlv::encode(piv::TAG_DYN_AUTH_RESPONSE, der.as_bytes()),
        ))
    }
}

/// The tag in a `5C` tag list (1 to 3 bytes).
pub(super) fn tag_value(tag_bytes: &[u8]) -> Result<u32, StatusWord> {
    if !(1..=3).contains(&tag_bytes.len()) {
        return Err(StatusWord::WRONG_DATA);
    }
    Ok(tag_bytes
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}
