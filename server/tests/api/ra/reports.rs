//! RA-4 / RA-5: "this wasn't me" reports as a work queue, and the dashboard of users at
//! risk: unverified email, expiring certificates, repeat lockouts, open reports.

use api_types::auth::{NotMe, NotMeRequest};
use api_types::ra::{ReportId, Reports, ReviewReport, Role, ViewDashboard, ViewUser};
use api_types::values::NotMeToken;
use api_types::ErrorCode;

use super::{as_ra, reason, signed_in, trail, uuid};
use crate::both;
use crate::helpers::*;

async fn ra_4_ra_5_not_me_reports_are_a_queue_and_the_dashboard_lists_who_is_at_risk(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Agent")).await;
    let jane = app.enroll(false).await;
    let john = app.enroll(true).await;
    // John unlocks twice within 30 days: a repeat lockout.
    for pin in ["First1", "Second2"] {
        let (id, code) = app.up_to_code(&john).await;
        app.finish_unlock(&john, &id, &code, pin).await;
        let notice = wait_for_mail(&john.email, "Your smartcard has been unlocked").await;
        if pin == "Second2" {
            // …and says the second was not him.
            let start = notice.find("/not-me#").unwrap() + "/not-me#".len();
            let token = NotMeToken::parse(&notice[start..start + 64]).unwrap();
            app.call::<NotMe>(&(), &NotMeRequest { token })
                .await
                .unwrap();
        }
        // Lock the card again for the next round.
        let mut piv = card_protocol::client::PivClient::new(john.card.clone());
        piv.select().unwrap();
        for _ in 0..3 {
            let _ = piv.verify_pin(&card_protocol::pin::Pin::parse("9999").unwrap());
        }
    }
    let dashboard = as_ra::<ViewDashboard>(&app, &cookie, &(), &())
        .await
        .unwrap();
    assert!(dashboard
        .unverified_email
        .iter()
        .any(|u| u.uuid.as_str() == jane.uuid));
    assert!(!dashboard
        .unverified_email
        .iter()
        .any(|u| u.uuid.as_str() == john.uuid));
    let repeat = dashboard
        .repeat_lockouts
        .iter()
        .find(|l| l.user.uuid.as_str() == john.uuid)
        .unwrap();
    assert_eq!(repeat.lockouts, 2);
    assert_eq!(dashboard.open_reports.len(), 1);
    assert!(dashboard.expiring_certificates.is_empty());
    // Certificates within 30 days of their end show up.
    let record = as_ra::<ViewUser>(&app, &cookie, &uuid(&jane), &())
        .await
        .unwrap();
    let ends = record.cards[0].certificate_expires_at.unwrap();
    app.clock.set(ends - 10 * 86_400);
    let (_, cookie) = signed_in(&app, Role::RaAgent, ("Ann", "Later")).await;
    let later = as_ra::<ViewDashboard>(&app, &cookie, &(), &())
        .await
        .unwrap();
    assert!(later
        .expiring_certificates
        .iter()
        .any(|e| e.user.uuid.as_str() == jane.uuid && e.expires_at == ends));
    // Lockouts older than 30 days no longer count.
    assert!(!later
        .repeat_lockouts
        .iter()
        .any(|l| l.user.uuid.as_str() == john.uuid));

    // The queue: John's report; reviewing takes it off, once.
    let reports = as_ra::<Reports>(&app, &cookie, &(), &()).await.unwrap();
    assert_eq!(reports.reports.len(), 1);
    let report = &reports.reports[0];
    assert_eq!(
        (report.user.uuid.as_str(), report.notice.as_str()),
        (john.uuid.as_str(), "unlock")
    );
    let id = report.id.clone();
    as_ra::<ReviewReport>(&app, &cookie, &id, &reason())
        .await
        .unwrap();
    assert_eq!(
        as_ra::<ReviewReport>(&app, &cookie, &id, &reason())
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
    let unknown = ReportId::of_hash(&[0x5a; 32]);
    assert_eq!(
        as_ra::<ReviewReport>(&app, &cookie, &unknown, &reason())
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
    let after = as_ra::<Reports>(&app, &cookie, &(), &()).await.unwrap();
    assert!(after.reports.is_empty());
    let events = trail(&app, &cookie, &john).await;
    assert!(events
        .iter()
        .any(|e| e.1 == "ra.review_report" && e.2 == "reviewed"));
    // Reviewing does not reopen self-service: that is its own decision.
    assert!(app.counters(&john).await.self_service_closed);
}
both!(ra_4_ra_5_not_me_reports_are_a_queue_and_the_dashboard_lists_who_is_at_risk);
