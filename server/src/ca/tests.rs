#![allow(clippy::unwrap_used)]
use super::*;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

const NOW: i64 = 1_900_000_000;

fn holder(display_name: &str) -> Holder<'_> {
    Holder {
        display_name,
        uuid: "555123456789",
        organisation: "Birmingham NHS Trust",
    }
}

/// The leaf's signature checked with the CA's public key, as a relying party does.
fn signed_by(leaf: &Certificate, ca: &Certificate) -> bool {
    let key = VerifyingKey::from_sec1_bytes(
        ca.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
    .unwrap();
    let signature = Signature::from_der(leaf.signature.raw_bytes()).unwrap();
    key.verify(&leaf.tbs_certificate.to_der().unwrap(), &signature)
        .is_ok()
}

#[test]
fn cert_1_the_ca_issues_certificates_for_card_generated_keys() {
    let ca = CertificateAuthority::create("Birmingham NHS Trust", NOW).unwrap();
    let card_key = SigningKey::random(&mut OsRng);
    let public = p256::PublicKey::from(*card_key.verifying_key());
    let issued = ca
        .issue(KeySlot::PivAuth, &holder("John Rigby"), &public, NOW)
        .unwrap();
    let leaf = Certificate::from_der(&issued.der).unwrap();
    let root = Certificate::from_der(ca.certificate_der()).unwrap();
    assert!(signed_by(&leaf, &root));
    assert!(signed_by(&root, &root));
    assert_eq!(leaf.tbs_certificate.issuer, root.tbs_certificate.subject);
    assert_eq!(
        issued.not_after,
        NOW + i64::try_from(CARD_LIFETIME_DAYS * DAY).unwrap()
    );
    let subject = leaf.tbs_certificate.subject.to_string();
    assert!(subject.contains("CN=John Rigby"), "{subject}");
    assert!(ca
        .certificate_pem()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn cert_1_the_ca_reloads_only_with_its_own_key() {
    let ca = CertificateAuthority::create("Trust", NOW).unwrap();
    let again = CertificateAuthority::load(ca.certificate_der(), &ca.key_bytes()).unwrap();
    assert_eq!(again.certificate_der(), ca.certificate_der());
    let other = CertificateAuthority::create("Trust", NOW).unwrap();
    assert!(CertificateAuthority::load(ca.certificate_der(), &other.key_bytes()).is_err());
    assert!(CertificateAuthority::load(b"not a certificate", &ca.key_bytes()).is_err());
    assert!(!format!("{ca:?}").contains(&hex::encode(ca.key_bytes())));
}

#[test]
fn all_2_a_name_cannot_add_attributes_to_a_certificate() {
    let ca = CertificateAuthority::create("Trust, O=Evil", NOW).unwrap();
    let public = p256::PublicKey::from(*SigningKey::random(&mut OsRng).verifying_key());
    let issued = ca
        .issue(
            KeySlot::PivAuth,
            &holder("Rigby, O=Evil+CN=Admin"),
            &public,
            NOW,
        )
        .unwrap();
    let leaf = Certificate::from_der(&issued.der).unwrap();
    // Three attributes (CN, UID, O), whatever the name holds.
    assert_eq!(leaf.tbs_certificate.subject.0.len(), 3);
    let root = Certificate::from_der(ca.certificate_der()).unwrap();
    assert_eq!(root.tbs_certificate.subject.0.len(), 2);
}

#[test]
fn auth_1_a_certificate_remembered_as_ours_does_not_vouch_for_a_forged_one() {
    let ca = CertificateAuthority::create("Trust", NOW).unwrap();
    let other = CertificateAuthority::create("Trust", NOW).unwrap();
    let public = p256::PublicKey::from(*SigningKey::random(&mut OsRng).verifying_key());
    let issued = ca
        .issue(KeySlot::PivAuth, &holder("John Rigby"), &public, NOW)
        .unwrap();
    // Checked twice: the second time from what the first remembered.
    assert!(ca.current_key(&issued.der, NOW).is_some());
    assert!(ca.current_key(&issued.der, NOW).is_some());
    // The same holder and key, signed by another CA of the same name: refused.
    let forged = other
        .issue(KeySlot::PivAuth, &holder("John Rigby"), &public, NOW)
        .unwrap();
    assert!(ca.current_key(&forged.der, NOW).is_none());
    // Ours, but out of its validity: refused, remembered or not.
    assert!(ca.current_key(&issued.der, NOW - 1).is_none());
    let expired = NOW + i64::try_from(CARD_LIFETIME_DAYS * DAY).unwrap();
    assert!(ca.current_key(&issued.der, expired).is_none());
}
