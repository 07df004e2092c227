//! "This wasn't me": the link in a notice email reports once, closes self-service for
//! the user, and is recorded for the RA.

use api_types::auth::{NotMe, NotMeRequest};
use api_types::values::NotMeToken;
use api_types::ErrorCode;

use crate::both;
use crate::helpers::*;

/// The token in a notice's `/not-me#TOKEN` link.
pub(crate) fn token_in(mail: &str) -> NotMeToken {
    let start = mail.find("/not-me#").expect("a not-me link") + "/not-me#".len();
    NotMeToken::parse(&mail[start..start + 64]).unwrap()
}

pub(crate) async fn report(app: &TestApp, token: NotMeToken) -> Result<(), ErrorCode> {
    app.send::<NotMe>(None, &(), &NotMeRequest { token })
        .await
        .map(|_| ())
        .map_err(|refused| refused.code())
}

async fn ra_4_this_wasnt_me_reports_once_and_closes_self_service(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll(true).await;
    let (id, code) = app.up_to_code(&card).await;
    app.finish_unlock(&card, &id, &code, "Mine1").await;
    let notice = wait_for_mail(&card.email, "Your smartcard has been unlocked").await;
    assert!(notice.contains(ORIGIN), "the link points at the service");
    let token = token_in(&notice);
    // Nothing is reported until the link is used.
    let dump =
        server::store::not_me::open_reports(&mut app.state.store.pool.acquire().await.unwrap())
            .await
            .unwrap();
    assert!(dump.is_empty());

    report(&app, token).await.unwrap();
    assert_eq!(
        report(&app, token).await.unwrap_err(),
        ErrorCode::CodeAlreadyUsed
    );
    assert_eq!(
        report(&app, NotMeToken::from_bytes([7; 32]))
            .await
            .unwrap_err(),
        ErrorCode::NotFound
    );
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let open = server::store::not_me::open_reports(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].user_uuid.as_str(), open[0].notice.as_str()),
        (card.uuid.as_str(), "unlock")
    );
    // Self-service is closed until the RA has looked into it.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
    let events = app.audit_events(&card).await;
    assert!(
        events
            .iter()
            .any(|(a, o)| a == "user.not_me" && o == "reported"),
        "{events:?}"
    );
}
both!(ra_4_this_wasnt_me_reports_once_and_closes_self_service);

async fn ra_6_a_report_mid_unlock_stops_it_and_ends_every_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = crate::auth::login(&app, &card).await.unwrap();
    // The card locks; someone gets past the code step with it.
    card.card.with_card(|c| c.lock_pin().unwrap());
    let (id, proof) = app.start_and_prove(&card).await;
    app.answer(&id, &proof.unwrap(), true).await.unwrap();
    let mail = wait_for_mail(&card.email, "Smartcard Unlock Code").await;
    app.code(&id, &code_in(&mail)).await.unwrap();
    // The holder reads the code email and says it wasn't them.
    report(&app, token_in(&mail)).await.unwrap();
    // The unlock goes no further, whatever step it had reached.
    assert_eq!(
        app.channel(&id).await.unwrap_err().code(),
        ErrorCode::AttemptEnded
    );
    // Every session of theirs has ended.
    assert_eq!(
        crate::auth::session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    // And a new attempt stops at the card proof: closed until the RA has looked.
    let (_, proof) = app.start_and_prove(&card).await;
    assert_eq!(proof.unwrap_err().code(), ErrorCode::SelfServiceClosed);
}
both!(ra_6_a_report_mid_unlock_stops_it_and_ends_every_session);
