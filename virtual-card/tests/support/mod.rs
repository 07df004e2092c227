//! Shared by the issuance tests (`issue.rs` in process, `pcsc.rs` through pcscd): a test CA
//! made with RustCrypto's `x509-cert` builder and `p256` ECDSA, as the server's CA
//! (CERT-1) is, and the server's end of issuance: one SCP03 session at level 33 in which
//! the card generates its 9A and 9E keys and the CA's certificates are written (CARD-3).

// Each test binary uses part of this.
#![allow(dead_code)]

use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::issue;
use card_protocol::scp03::{HostHandshake, HostSession, Scp03Error, SecurityLevel};
use card_protocol::KeySlot;
use card_protocol::PivClient;
use der::{Decode, Encode, EncodePem};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::DecodePublicKey;
use rand::rngs::OsRng;
use rand::RngCore;
use std::str::FromStr;
use std::time::Duration;
use virtual_card::SharedCard;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

pub const LEVEL: SecurityLevel = SecurityLevel::CMacCDecRMacREnc;

/// A self-signed P-256 root that issues leaf certificates for card keys.
pub struct TestCa {
    key: SigningKey,
    name: Name,
    pub certificate: Certificate,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = SigningKey::random(&mut OsRng);
        let name = Name::from_str("CN=Smartcard Self-Service Test CA,O=NHS Test").unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).unwrap();
        let validity = Validity::from_now(Duration::from_secs(3600)).unwrap();
        let builder = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity,
            name.clone(),
            spki,
            &key,
        )
        .unwrap();
        let certificate = builder.build::<DerSignature>().unwrap();
        TestCa {
            key,
            name,
            certificate,
        }
    }

    /// A leaf certificate (digitalSignature, nonRepudiation) for a card's public key, DER.
    pub fn issue(&self, common_name: &str, key: &p256::PublicKey, serial: u32) -> Vec<u8> {
        let profile = Profile::Leaf {
            issuer: self.name.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        };
        let subject = Name::from_str(&format!("CN={common_name},O=NHS Test")).unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(*key).unwrap();
        let validity = Validity::from_now(Duration::from_secs(3600)).unwrap();
        let builder = CertificateBuilder::new(
            profile,
            SerialNumber::from(serial),
            validity,
            subject,
            spki,
            &self.key,
        )
        .unwrap();
        builder.build::<DerSignature>().unwrap().to_der().unwrap()
    }

    pub fn pem(&self) -> String {
        self.certificate.to_pem(der::pem::LineEnding::LF).unwrap()
    }
}

/// The public key in a DER certificate.
pub fn certificate_key(der: &[u8]) -> p256::PublicKey {
    let certificate = Certificate::from_der(der).unwrap();
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    p256::PublicKey::from_public_key_der(&spki).unwrap()
}

/// The server's end of an open SCP03 session, relaying through a `PivClient`.
pub struct Issuer {
    pub client: PivClient<SharedCard>,
    pub session: HostSession,
}

impl Issuer {
    /// SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE at level 33 with the card's keys.
    pub fn open(card: &SharedCard) -> Issuer {
        let keys = card.with_card(|c| c.scp03_keys());
        let mut client = PivClient::new(card.clone());
        client.select().unwrap();
        let handshake = HostHandshake::random(keys, 0, &mut OsRng);
        let answer = client.transmit(&handshake.initialize_update()).unwrap();
        let (external_authenticate, mut session) = handshake.authenticate(&answer, LEVEL).unwrap();
        let answer = client.transmit(&external_authenticate).unwrap();
        session.confirm_external_authenticate(&answer).unwrap();
        Issuer { client, session }
    }

    /// Seal, send, and check and open the answer.
    pub fn send(&mut self, command: CommandApdu) -> Result<ResponseApdu, Scp03Error> {
        let sealed = self.session.wrap(command)?;
        let answer = self.client.transmit(&sealed).unwrap();
        self.session.unwrap(answer)
    }

    /// GENERATE in `slot`; the card's new public key.
    pub fn generate(&mut self, slot: KeySlot) -> p256::PublicKey {
        let answer = self.send(issue::generate_key_pair(slot)).unwrap();
        issue::public_key(&answer).unwrap()
    }

    /// PUT DATA of `slot`'s certificate, every chained part sealed.
    pub fn put_certificate(&mut self, slot: KeySlot, der: &[u8]) {
        let parts = issue::put_certificate(slot, der).unwrap();
        let count = parts.len();
        let answers: Vec<ResponseApdu> = parts
            .into_iter()
            .map(|part| {
                let sealed = self.session.wrap(part).unwrap();
                // Sealed (padded, encrypted, MACed), every part is still a short APDU.
                assert!(sealed.data.len() <= 255, "{}", sealed.data.len());
                let answer = self.client.transmit(&sealed).unwrap();
                self.session.unwrap(answer).unwrap()
            })
            .collect();
        issue::written(count, &answers).unwrap();
    }
}

/// What issuance gave one slot.
pub struct Issued {
    pub key: p256::PublicKey,
    pub certificate: Vec<u8>,
}

/// The whole issuance in one session: GENERATE 9A and 9E, the CA certifies both keys,
/// PUT DATA both certificates. Returns 9A's then 9E's.
pub fn issue_card(card: &SharedCard, ca: &TestCa) -> [Issued; 2] {
    let mut issuer = Issuer::open(card);
    let keys = KeySlot::ALL.map(|slot| issuer.generate(slot));
    let issued = keys.map(|key| Issued {
        key,
        certificate: ca.issue("Test Cardholder", &key, OsRng.next_u32() >> 1),
    });
    for (slot, issued) in KeySlot::ALL.into_iter().zip(&issued) {
        issuer.put_certificate(slot, &issued.certificate);
    }
    issued
}
