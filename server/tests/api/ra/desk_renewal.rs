//! RA-3 / CERT-4 / RA-5: the third renewal in a row is refused to self-service and done at
//! the RA desk — the RA's own card proven in the last 5 minutes, the reason audited, the
//! cardholder's card in the reader — driven by the RA's session only, and it starts the
//! count again.

use api_types::auth::Me;
use api_types::ra::{DeskRenewalRequest, RenewAtDesk, Role};
use api_types::renewal::{RenewalChannel, RenewalChannelRequest};
use api_types::ErrorCode;
use card_protocol::{KeySlot, PivClient};
use x509_cert::der::Decode;
use x509_cert::Certificate;

use super::{as_ra, because, card_again, signed_in, trail, uuid};
use crate::auth::login;
use crate::both;
use crate::helpers::*;
use crate::renewal::{finish_on_card, renew_before, renewal_start};

const DAY: i64 = 24 * 60 * 60;
const ENDS: i64 = START + 3 * 365 * DAY;

async fn ra_3_cert_4_the_third_renewal_is_the_ra_desks_and_starts_the_count_again(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let mut ends = ENDS;
    for _ in 0..2 {
        ends = renew_before(&app, &card, ends - 29 * DAY).await;
    }
    app.clock.set(ends - 5 * DAY);
    let (_, own) = login(&app, &card).await.unwrap();
    let third = renewal_start(&app, &card, &own).await.unwrap_err();
    assert_eq!(third.code(), ErrorCode::RenewalByRa);

    let (ra_card, ra) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let at_desk = |card_guid| DeskRenewalRequest {
        card_guid,
        reason: because("Photo ID seen at the desk: passport"),
    };
    // Only the user's own card; not the RA's, not their own account.
    let refused = as_ra::<RenewAtDesk>(&app, &ra, &uuid(&card), &at_desk(ra_card.guid)).await;
    assert_eq!(refused.unwrap_err(), ErrorCode::NotFound);
    let own_account = as_ra::<RenewAtDesk>(&app, &ra, &uuid(&ra_card), &at_desk(ra_card.guid))
        .await
        .unwrap_err();
    assert_eq!(own_account, ErrorCode::OwnAccount);
    // RA-5: five minutes on, the RA proves their card again first.
    app.clock.advance(5 * 60);
    let stale = as_ra::<RenewAtDesk>(&app, &ra, &uuid(&card), &at_desk(card.guid)).await;
    assert_eq!(stale.unwrap_err(), ErrorCode::CardProofRequired);
    card_again(&app, &ra, &ra_card).await.unwrap();
    let opened = as_ra::<RenewAtDesk>(&app, &ra, &uuid(&card), &at_desk(card.guid))
        .await
        .unwrap();
    assert_eq!(opened.card_guid, card.guid);
    // The cardholder's own session cannot drive the RA's renewal.
    let (_, own) = login(&app, &card).await.unwrap();
    let taken = app
        .send::<RenewalChannel>(Some(&own), &opened.renewal_id, &RenewalChannelRequest {})
        .await
        .unwrap_err();
    assert_eq!(taken.code(), ErrorCode::NotFound);
    // The RA's session does, with the cardholder's card in the reader.
    let done = finish_on_card(&app, &card, &ra, &opened).await.unwrap();
    assert!(done.not_after > ends + 2 * 365 * DAY);
    // The certificate names the cardholder, not the RA who drove it.
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    let der = piv.read_certificate(KeySlot::PivAuth).unwrap().unwrap();
    let subject = Certificate::from_der(&der)
        .unwrap()
        .tbs_certificate
        .subject
        .to_string();
    assert!(subject.contains(uuid(&card).as_str()), "{subject}");
    assert!(!subject.contains(uuid(&ra_card).as_str()), "{subject}");
    assert!(
        crate::auth::session(&app, Some(&ra)).await.is_ok(),
        "the RA goes on"
    );
    // CERT-4: the count starts again: self-service renews the next two.
    let (_, own) = login(&app, &card).await.unwrap();
    let (_, me) = app.send::<Me>(Some(&own), &(), &()).await.unwrap();
    assert_eq!(
        (me.renewals_in_a_row, me.certificate_expires_at),
        (0, Some(done.not_after))
    );
    let events = trail(&app, &ra, &card).await;
    let ra_name = format!("ra:{}", uuid(&ra_card).as_str());
    assert!(events
        .iter()
        .any(|(actor, action, outcome, detail)| actor == &ra_name
            && action == "ra.renew"
            && outcome == "opened"
            && detail.contains("passport")));
    assert!(events
        .iter()
        .any(|(actor, action, outcome, _)| actor == &ra_name
            && action == "cert.renew"
            && outcome == "renewed"));
    renew_before(&app, &card, done.not_after - 29 * DAY).await;
}
both!(ra_3_cert_4_the_third_renewal_is_the_ra_desks_and_starts_the_count_again);

/// POL-4: under nhs-2023 an ended certificate cannot sign in to renew; the RA renews it.
async fn pol_4_an_ended_certificate_is_renewed_at_the_ra_desk(db: Db) {
    let app = TestApp::spawn_with(db, |s| s.policy = api_types::policy::Policy::Nhs2023).await;
    let card = app.enroll_unlocked().await;
    app.clock.set(ENDS + 3 * DAY);
    assert_eq!(
        login(&app, &card).await.unwrap_err().code(),
        ErrorCode::CertificateNotValid
    );
    let (_, ra) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let request = DeskRenewalRequest {
        card_guid: card.guid,
        reason: because("Known to the RA team in person"),
    };
    let opened = as_ra::<RenewAtDesk>(&app, &ra, &uuid(&card), &request)
        .await
        .unwrap();
    finish_on_card(&app, &card, &ra, &opened).await.unwrap();
    assert!(login(&app, &card).await.is_ok());
}
both!(pol_4_an_ended_certificate_is_renewed_at_the_ra_desk);
