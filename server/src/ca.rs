//! CERT-1 groundwork: the service's own certificate authority. Its P-256 key is sealed
//! with the KEK and kept in the database beside its certificate, made once at first start;
//! it issues the certificates for the key pairs each card generates itself (slots 9A and
//! 9E), which standard middleware and `openssl verify` check against the CA certificate
//! the server publishes (`GET /api/ca-certificate`).

use std::str::FromStr;
use std::time::Duration;

use der::asn1::UtcTime;
use der::{Decode, Encode, EncodePem};
use p256::ecdsa::{DerSignature, SigningKey};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;
use zeroize::Zeroizing;

use card_protocol::KeySlot;

use crate::secrets::{Kek, SecretsError};
use crate::store::{certificates, Store, StoreError};

/// How long the CA certificate is valid.
const CA_LIFETIME_DAYS: u64 = 10 * 365;
/// How long a card certificate is valid (a card's life, as NHS smartcards).
pub const CARD_LIFETIME_DAYS: u64 = 3 * 365;
const DAY: u64 = 24 * 60 * 60;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("certificate encoding: {0}")]
    Der(#[from] der::Error),
    #[error("certificate building: {0}")]
    Build(#[from] x509_cert::builder::Error),
    #[error("the CA key does not match its certificate, or is malformed")]
    Key,
    #[error("a time outside what a certificate can carry")]
    Time,
    #[error("a stored serial number is not hex")]
    Serial,
}

/// A certificate the CA issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub der: Vec<u8>,
    /// The serial number, hex.
    pub serial: String,
    /// Unix seconds.
    pub not_after: i64,
}

/// Who a card certificate names.
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub display_name: &'a str,
    pub uuid: &'a str,
    pub organisation: &'a str,
}

pub struct CertificateAuthority {
    key: SigningKey,
    certificate: Certificate,
    der: Vec<u8>,
    /// SHA-256 of certificates whose signature by this CA verified.
    verified: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
}

/// How many verified certificates are remembered (about 2 MB at most).
const VERIFIED_REMEMBERED: usize = 30_000;

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field(
                "subject",
                &self.certificate.tbs_certificate.subject.to_string(),
            )
            .finish_non_exhaustive()
    }
}

/// RFC 4514 text of one attribute value: the characters with a meaning there are
/// escaped, so a name cannot add attributes of its own.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && matches!(c, ' ' | '#'));
        if special {
            out.push('\\');
        }
        if !c.is_control() {
            out.push(c);
        }
    }
    out.trim_end().to_owned()
}

fn time(unix: i64) -> Result<Time, CaError> {
    let seconds = u64::try_from(unix).map_err(|_| CaError::Time)?;
    Ok(Time::UtcTime(UtcTime::from_unix_duration(
        Duration::from_secs(seconds),
    )?))
}

fn validity(now: i64, days: u64) -> Result<Validity, CaError> {
    let end = now
        .checked_add(i64::try_from(days * DAY).map_err(|_| CaError::Time)?)
        .ok_or(CaError::Time)?;
    Ok(Validity {
        not_before: time(now)?,
        not_after: time(end)?,
    })
}

/// 16 random bytes with the top bit clear: a positive serial that never repeats.
fn random_serial() -> Result<(SerialNumber, String), CaError> {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7F;
    bytes[0] |= 0x01;
    Ok((SerialNumber::new(&bytes)?, hex::encode(bytes)))
}

impl CertificateAuthority {
    /// A new CA for `organisation`, valid from `now`.
    pub fn create(organisation: &str, now: i64) -> Result<Self, CaError> {
        let key = SigningKey::random(&mut OsRng);
        let name = escape(organisation);
        let subject = Name::from_str(&format!("CN={name} Smartcard CA,O={name}"))?;
        let spki =
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(|_| CaError::Key)?;
        let (serial, _) = random_serial()?;
        let builder = CertificateBuilder::new(
            Profile::Root,
            serial,
            validity(now, CA_LIFETIME_DAYS)?,
            subject,
            spki,
            &key,
        )?;
        let certificate = builder.build::<DerSignature>()?;
        let der = certificate.to_der()?;
        Ok(Self {
            key,
            certificate,
            der,
            verified: Default::default(),
        })
    }

    /// The CA as stored: its certificate and its private key (opened from the KEK).
    pub fn load(certificate_der: &[u8], key: &[u8]) -> Result<Self, CaError> {
        let key = SigningKey::from_slice(key).map_err(|_| CaError::Key)?;
        let certificate = Certificate::from_der(certificate_der)?;
        let ours =
            SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(|_| CaError::Key)?;
        if certificate.tbs_certificate.subject_public_key_info != ours {
            return Err(CaError::Key);
        }
        Ok(Self {
            key,
            certificate,
            der: certificate_der.to_vec(),
            verified: Default::default(),
        })
    }

    /// The private key, for sealing where the CA is kept.
    pub fn key_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.key.to_bytes().to_vec())
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.der
    }

    /// The CA certificate as PEM, as `GET /api/ca-certificate` serves it.
    pub fn certificate_pem(&self) -> Result<String, CaError> {
        Ok(self.certificate.to_pem(der::pem::LineEnding::LF)?)
    }

    /// The public key of a certificate this CA issued, if it is current at `now`: issuer,
    /// this CA's signature and validity checked (not only taken from our records).
    pub fn current_key(&self, der: &[u8], now: i64) -> Option<p256::ecdsa::VerifyingKey> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = &cert.tbs_certificate;
        let unix = |t: &Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
        let current =
            unix(&tbs.validity.not_before)? <= now && now < unix(&tbs.validity.not_after)?;
        let signed = self.signed_by_us(der, &cert);
        let ours = tbs.issuer == self.certificate.tbs_certificate.subject;
        (ours && signed && current).then_some(())?;
        p256::ecdsa::VerifyingKey::from_sec1_bytes(
            tbs.subject_public_key_info.subject_public_key.raw_bytes(),
        )
        .ok()
    }

    /// Whether this CA's signature on `cert` (whose DER is `der`) verifies. A signature
    /// that verified once always will: the certificates that did are remembered by their
    /// SHA-256, so a sign-in checks one ECDSA signature (the card's), not two.
    fn signed_by_us(&self, der: &[u8], cert: &Certificate) -> bool {
        use p256::ecdsa::signature::Verifier;
        let digest: [u8; 32] = Sha256::digest(der).into();
        if self
            .verified
            .lock()
            .is_ok_and(|seen| seen.contains(&digest))
        {
            return true;
        }
        let signed = p256::ecdsa::Signature::from_der(cert.signature.raw_bytes())
            .ok()
            .zip(cert.tbs_certificate.to_der().ok())
            .is_some_and(|(signature, tbs)| {
                self.key.verifying_key().verify(&tbs, &signature).is_ok()
            });
        if signed {
            if let Ok(mut seen) = self.verified.lock() {
                // Bounded: forgetting costs only a verify again.
                if seen.len() >= VERIFIED_REMEMBERED {
                    seen.clear();
                }
                seen.insert(digest);
            }
        }
        signed
    }

    /// A certificate for the key a card generated in `slot`, naming its holder (9A) or
    /// the holder's card (9E).
    pub fn issue(
        &self,
        slot: KeySlot,
        holder: &Holder<'_>,
        public_key: &p256::PublicKey,
        now: i64,
    ) -> Result<Issued, CaError> {
        let name = escape(holder.display_name);
        let subject = match slot {
            KeySlot::PivAuth => format!(
                "CN={name},UID={},O={}",
                escape(holder.uuid),
                escape(holder.organisation)
            ),
            KeySlot::CardAuth => format!(
                "CN=Card Authentication {name},UID={},O={}",
                escape(holder.uuid),
                escape(holder.organisation)
            ),
        };
        let spki = SubjectPublicKeyInfoOwned::from_key(*public_key).map_err(|_| CaError::Key)?;
        let (serial, serial_hex) = random_serial()?;
        let validity = validity(now, CARD_LIFETIME_DAYS)?;
        let not_after = validity.not_after.to_unix_duration().as_secs();
        let builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: self.certificate.tbs_certificate.subject.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            serial,
            validity,
            Name::from_str(&subject)?,
            spki,
            &self.key,
        )?;
        let certificate = builder.build::<DerSignature>()?;
        Ok(Issued {
            der: certificate.to_der()?,
            serial: serial_hex,
            not_after: i64::try_from(not_after).map_err(|_| CaError::Time)?,
        })
    }
}

/// The CA kept in the database, or a new one made and kept there (the first start; when
/// two instances race, both end up with the one stored first).
pub async fn open_or_create(
    store: &Store,
    kek: &Kek,
    organisation: &str,
    now: i64,
) -> Result<CertificateAuthority, OpenError> {
    let mut conn = store.pool.acquire().await.map_err(StoreError::from)?;
    if certificates::find_authority(&mut conn).await?.is_none() {
        let created = CertificateAuthority::create(organisation, now)?;
        let sealed = kek.seal_ca_key(&created.key_bytes())?;
        certificates::insert_authority(&mut conn, created.certificate_der(), &sealed, now).await?;
    }
    let stored = certificates::find_authority(&mut conn)
        .await?
        .ok_or(StoreError::Corrupt {
            table: "certificate_authority",
            column: "id",
        })?;
    let key = kek.open_ca_key(&stored.key_enc)?;
    Ok(CertificateAuthority::load(&stored.certificate, &key)?)
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

pub mod crl;

#[cfg(test)]
mod tests;
