//! CERT-5: the certificate revocation list the CA signs — every certificate it revoked
//! that has not yet expired, each with its reason, and when the next list is due — as
//! `GET /api/crl` serves it and `openssl verify -crl_check` reads it.

use der::asn1::{BitString, Uint};
use der::Encode;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::DerSignature;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{crl::CrlNumber, CrlReason};
use x509_cert::ext::AsExtension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Version;

use super::{time, CaError, CertificateAuthority};
use crate::store::certificates::{RevokedCertificate as Revoked, LOST_OR_STOLEN, SUPERSEDED};

/// How long a list is good for: relying parties fetch a new one by then.
pub const CRL_LIFETIME_SECS: i64 = 24 * 60 * 60;

fn reason_code(reason: Option<&str>) -> CrlReason {
    match reason {
        Some(SUPERSEDED) => CrlReason::Superseded,
        Some(LOST_OR_STOLEN) => CrlReason::KeyCompromise,
        _ => CrlReason::Unspecified,
    }
}

impl CertificateAuthority {
    /// The list as of `now` (DER), numbered by `now` so a later list has a higher number.
    pub fn crl(&self, revoked: &[Revoked], now: i64) -> Result<Vec<u8>, CaError> {
        let issuer = self.certificate.tbs_certificate.subject.clone();
        let entries = revoked
            .iter()
            .map(|r| {
                let serial = hex::decode(&r.serial).map_err(|_| CaError::Serial)?;
                let reason = reason_code(r.revoked_reason.as_deref()).to_extension(&issuer, &[])?;
                Ok(RevokedCert {
                    serial_number: SerialNumber::new(&serial)?,
                    revocation_date: time(r.revoked_at)?,
                    crl_entry_extensions: Some(vec![reason]),
                })
            })
            .collect::<Result<Vec<_>, CaError>>()?;
        let number = CrlNumber(Uint::new(&now.max(0).to_be_bytes())?);
        let tbs = TbsCertList {
            version: Version::V2,
            signature: self.certificate.signature_algorithm.clone(),
            issuer: issuer.clone(),
            this_update: time(now)?,
            next_update: Some(time(now + CRL_LIFETIME_SECS)?),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: Some(vec![number.to_extension(&issuer, &[])?]),
        };
        let signature: DerSignature = self.key.sign(&tbs.to_der()?);
        let list = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: self.certificate.signature_algorithm.clone(),
            signature: BitString::from_bytes(signature.as_bytes())?,
        };
        Ok(list.to_der()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use p256::ecdsa::signature::Verifier;

    const NOW: i64 = 1_795_392_000;

    #[test]
    fn cert_5_the_list_names_each_revoked_serial_with_its_reason_and_is_signed_by_the_ca() {
        let ca = CertificateAuthority::create("Test Trust", NOW).unwrap();
        let revoked = [
            Revoked {
                serial: "0aff".repeat(8),
                revoked_at: NOW - 60,
                revoked_reason: Some("superseded".into()),
            },
            Revoked {
                serial: "1b00".repeat(8),
                revoked_at: NOW - 30,
                revoked_reason: Some("lost_or_stolen".into()),
            },
        ];
        let der = ca.crl(&revoked, NOW).unwrap();
        let list = CertificateList::from_der(&der).unwrap();
        let tbs = &list.tbs_cert_list;
        assert_eq!(tbs.issuer, ca.certificate.tbs_certificate.subject);
        let next = tbs.next_update.unwrap().to_unix_duration().as_secs();
        assert_eq!(next as i64, NOW + CRL_LIFETIME_SECS);
        let serials: Vec<String> = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| hex::encode(r.serial_number.as_bytes()))
            .collect();
        assert_eq!(serials, ["0aff".repeat(8), "1b00".repeat(8)]);
        let signature = p256::ecdsa::Signature::from_der(list.signature.raw_bytes()).unwrap();
        let key = ca.key.verifying_key();
        assert!(key.verify(&tbs.to_der().unwrap(), &signature).is_ok());
        // Nothing revoked: a valid, empty list.
        let empty = CertificateList::from_der(&ca.crl(&[], NOW).unwrap()).unwrap();
        assert!(empty.tbs_cert_list.revoked_certificates.is_none());
    }
}
