//! CERT-1: issuance through the secure channel — the card's own keys, certified by the
//! server's CA, written to the card and recorded.

use card_protocol::client::PivClient;
use card_protocol::issue::KeySlot;
use server::issue::IssueError;
use server::store::{cards, certificates};
use x509_cert::der::Decode;
use x509_cert::Certificate;

use crate::both;
use crate::helpers::*;

async fn cert_1_a_card_is_issued_its_own_keys_and_the_cas_certificates(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await; // issued as part of enrolment
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let recorded = certificates::for_card(&mut conn, &card.guid).await.unwrap();
    let row = cards::find(&mut conn, &card.guid).await.unwrap().unwrap();
    drop(conn);
    let mut slots: Vec<&str> = recorded.iter().map(|c| c.slot.as_str()).collect();
    slots.sort_unstable();
    assert_eq!(slots, ["9a", "9e"]);
    assert!(recorded
        .iter()
        .all(|c| c.not_after > START && c.revoked_at.is_none()));

    let ca = Certificate::from_der(app.state.ca.certificate_der()).unwrap();
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    for (slot, name) in [(KeySlot::PivAuth, "9a"), (KeySlot::CardAuth, "9e")] {
        let on_card = piv.read_certificate(slot).unwrap().unwrap();
        let stored = recorded.iter().find(|c| c.slot == slot).unwrap();
        assert_eq!(on_card, stored.certificate, "slot {name}");
        let cert = Certificate::from_der(&on_card).unwrap();
        assert_eq!(cert.tbs_certificate.issuer, ca.tbs_certificate.subject);
        let key = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        if slot == KeySlot::CardAuth {
            // CARD-6 checks the card's signatures with the key it generated.
            assert_eq!(key, row.card_auth_public_key);
        }
    }
    // The CA's key is not the cards', and the card's keys never left it.
    let state = card.card.with_card(|c| c.state());
    let dump = [
        app.state.ca.certificate_der().to_vec(),
        recorded
            .iter()
            .flat_map(|c| c.certificate.clone())
            .collect(),
    ]
    .concat();
    let private = hex::decode(&state.card_auth_key).unwrap();
    assert!(!dump.windows(private.len()).any(|w| w == private));
}
both!(cert_1_a_card_is_issued_its_own_keys_and_the_cas_certificates);

async fn cert_1_only_the_enrolled_card_itself_is_issued_and_a_refusal_is_audited(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let other = app.enroll(true).await;
    // Another card in the reader than the one named.
    let refused = app.state.issue_card(other.card.clone(), &card.guid).await;
    assert!(matches!(refused, Err(IssueError::WrongCard)), "{refused:?}");
    // RA-4: a failed issuance is a security event too, under the card it named.
    let events = app.audit_events(&card).await;
    assert_eq!(
        events.last(),
        Some(&("card.issue".to_owned(), "card_update_failed".to_owned()))
    );
    // A card the server never enrolled.
    let stranger = api_types::CardGuid::from_bytes([0x42; 16]);
    let refused = app.state.issue_card(card.card.clone(), &stranger).await;
    assert!(
        matches!(refused, Err(IssueError::NotEnrolled)),
        "{refused:?}"
    );
}
both!(cert_1_only_the_enrolled_card_itself_is_issued_and_a_refusal_is_audited);
