//! CERT-5: revocation. A renewal revokes what it replaces; the RA revokes the
//! certificates of a card reported lost or stolen, which then signs in, proves itself to
//! the unlock and renews nowhere; `GET /api/crl` lists both, signed by the CA with its
//! next update, and `openssl verify -crl_check` agrees.

use std::process::Command;

use api_types::ra::{RevokeCertificates, Role};
use api_types::ErrorCode;
use card_protocol::KeySlot;
use der::Decode;
use server::mail::templates::RA_CHANGED_SUBJECT;
use server::store::certificates;
use server::Clock;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;

use crate::auth::login;
use crate::both;
use crate::helpers::*;
use crate::ra::{as_ra, reason, signed_in, uuid};
use crate::renewal::{finish_on_card, on_card, renewal_start};
use crate::renewal_recovery::cut_off;

const DAY: i64 = 24 * 60 * 60;

/// The card's certificates in force, as the server recorded them: (slot, serial, DER).
async fn in_force(app: &TestApp, card: &TestCard) -> Vec<(KeySlot, String, Vec<u8>)> {
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    certificates::for_card(&mut conn, &card.guid)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.revoked_at.is_none())
        .map(|c| (c.slot, c.serial, c.certificate))
        .collect()
}

/// `GET /api/crl`: DER, as the CA signed it.
async fn crl(app: &TestApp) -> Vec<u8> {
    let response = app.client.get(app.url("/api/crl")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pkix-crl");
    response.bytes().await.unwrap().to_vec()
}

/// Each revoked serial (hex) the list names, with its reason.
fn listed(der: &[u8]) -> Vec<(String, CrlReason)> {
    let list = CertificateList::from_der(der).unwrap();
    list.tbs_cert_list
        .revoked_certificates
        .into_iter()
        .flatten()
        .map(|entry| {
            let extension = &entry.crl_entry_extensions.unwrap()[0];
            let reason = CrlReason::from_der(extension.extn_value.as_bytes()).unwrap();
            (hex::encode(entry.serial_number.as_bytes()), reason)
        })
        .collect()
}

/// `openssl verify -crl_check` of `certificate` at the test clock's time: its output,
/// and whether it verified.
async fn openssl_verify(app: &TestApp, certificate: &[u8], crl_der: &[u8]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("scss-crl-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = app
        .client
        .get(app.url("/api/ca-certificate"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca).unwrap();
    std::fs::write(dir.join("card.der"), certificate).unwrap();
    std::fs::write(dir.join("crl.der"), crl_der).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let converted = [
        run(&[
            "x509", "-inform", "DER", "-in", "card.der", "-out", "card.pem",
        ]),
        run(&["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"]),
    ];
    for (ok, text) in &converted {
        assert!(ok, "{text}");
    }
    let at = app.clock.now().to_string();
    let verified = run(&[
        "verify",
        "-attime",
        &at,
        "-crl_check",
        "-CAfile",
        "ca.pem",
        "-CRLfile",
        "crl.pem",
        "card.pem",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    verified
}

async fn cert_5_a_lost_card_revoked_by_the_ra_is_refused_everywhere_and_the_crl_says_so(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, ra_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let john = app.enroll_unlocked().await;
    let (_, johns_session) = login(&app, &john).await.unwrap();
    let certificates = in_force(&app, &john).await;
    assert_eq!(certificates.len(), 2, "9A and 9E");
    let login_certificate = &certificates
        .iter()
        .find(|(slot, _, _)| *slot == KeySlot::PivAuth)
        .unwrap()
        .2;
    let before = crl(&app).await;
    assert!(listed(&before).is_empty());
    let (verified, said) = openssl_verify(&app, login_certificate, &before).await;
    assert!(verified, "{said}");

    app.clock.advance(60);
    as_ra::<RevokeCertificates>(&app, &ra_cookie, &uuid(&john), &reason())
        .await
        .unwrap();
    // Signed out everywhere; the card signs in and proves itself nowhere.
    assert_eq!(
        crate::auth::session(&app, Some(&johns_session))
            .await
            .unwrap_err(),
        ErrorCode::NotSignedIn
    );
    let refused = login(&app, &john).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CertificateNotValid);
    let (_, proof) = app.start_and_prove(&john).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::CertificateNotValid);
    assert!(in_force(&app, &john).await.is_empty());
    // The list names both, as compromised keys, and openssl now refuses the certificate.
    let after = crl(&app).await;
    let mut expected: Vec<(String, CrlReason)> = certificates
        .iter()
        .map(|(_, serial, _)| (serial.clone(), CrlReason::KeyCompromise))
        .collect();
    let mut names = listed(&after);
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(names, expected);
    let list = CertificateList::from_der(&after).unwrap().tbs_cert_list;
    let next = list.next_update.unwrap().to_unix_duration().as_secs();
    assert_eq!(next as i64, app.clock.now() + DAY);
    let (verified, said) = openssl_verify(&app, login_certificate, &after).await;
    assert!(!verified && said.contains("certificate revoked"), "{said}");
    // John is told, and the trail keeps who did it and why.
    let text = wait_for_mail(&john.email, RA_CHANGED_SUBJECT).await;
    assert!(text.contains("revoked the certificates"), "{text}");
    let events = app.audit_events(&john).await;
    assert!(
        events
            .iter()
            .any(|(action, outcome)| action == "ra.revoke" && outcome == "revoked"),
        "{events:?}"
    );
}
both!(cert_5_a_lost_card_revoked_by_the_ra_is_refused_everywhere_and_the_crl_says_so);

async fn cert_5_a_renewal_lists_what_it_replaced_as_superseded(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let old = in_force(&app, &card).await;
    app.clock.set(START + 3 * 365 * DAY - 10 * DAY);
    let (_, cookie) = login(&app, &card).await.unwrap();
    let opened = renewal_start(&app, &card, &cookie).await.unwrap();
    finish_on_card(&app, &card, &cookie, &opened).await.unwrap();
    let list = listed(&crl(&app).await);
    for (_, serial, _) in &old {
        assert!(
            list.contains(&(serial.clone(), CrlReason::Superseded)),
            "{list:?}"
        );
    }
    // The new certificate verifies against the same list.
    let new = in_force(&app, &card).await;
    let login_certificate = &new
        .iter()
        .find(|(s, _, _)| *s == KeySlot::PivAuth)
        .unwrap()
        .2;
    let (verified, said) = openssl_verify(&app, login_certificate, &crl(&app).await).await;
    assert!(verified, "{said}");
    // An old one is refused by it.
    let old_login = &old
        .iter()
        .find(|(s, _, _)| *s == KeySlot::PivAuth)
        .unwrap()
        .2;
    let (verified, said) = openssl_verify(&app, old_login, &crl(&app).await).await;
    assert!(!verified && said.contains("certificate revoked"), "{said}");
}
both!(cert_5_a_renewal_lists_what_it_replaced_as_superseded);

async fn cert_5_a_card_revoked_mid_renewal_has_the_certificates_it_was_sent_listed_too(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    // The card took its new certificates; the page never said so, and then it was lost.
    cut_off(&app, &card, 2, None).await;
    let (_, ra_cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let on_the_card = on_card(&card, KeySlot::PivAuth);
    assert!(in_force(&app, &card)
        .await
        .iter()
        .all(|(_, _, der)| der != &on_the_card));
    as_ra::<RevokeCertificates>(&app, &ra_cookie, &uuid(&card), &reason())
        .await
        .unwrap();
    // What the card holds is a certificate the CA issued for its live key: the list
    // names it, and openssl refuses it.
    let (verified, said) = openssl_verify(&app, &on_the_card, &crl(&app).await).await;
    assert!(!verified && said.contains("certificate revoked"), "{said}");
}
both!(cert_5_a_card_revoked_mid_renewal_has_the_certificates_it_was_sent_listed_too);
