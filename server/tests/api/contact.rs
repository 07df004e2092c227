//! REG-5: contact details on "My card": the passcode again on the card, an approved
//! email, a UK mobile, and a notice to the old address.

use api_types::auth::{ChangeContact, ChangeContactRequest, LoginStart, LoginStartRequest};
use api_types::ErrorCode;

use crate::auth::{card_signs, login};
use crate::both;
use crate::helpers::*;

/// A fresh card proof (login challenge signed after the PIN) and the change.
async fn change(
    app: &TestApp,
    card: &TestCard,
    cookie: &str,
    email: &str,
    mobile: Option<&str>,
) -> Result<api_types::auth::MyCard, Refused> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await?;
    let request = ChangeContactRequest {
        signature: card_signs(card, started.challenge.as_bytes()),
        login_id: started.login_id,
        email: email.into(),
        mobile: mobile.map(Into::into),
    };
    app.send::<ChangeContact>(Some(cookie), &(), &request)
        .await
        .map(|(_, mine)| mine)
}

async fn reg_5_contact_changes_need_the_card_and_tell_the_old_address(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let new_email = format!("moved.{}@trust.nhs.uk", card.uuid);
    let mine = change(&app, &card, &cookie, &new_email, Some("07700 900123"))
        .await
        .unwrap();
    assert_eq!(mine.email, new_email);
    assert_eq!(mine.mobile.as_deref(), Some("+447700900123"));
    let notice = wait_for_mail(
        &card.email,
        "Your Smartcard Self-Service contact details changed",
    )
    .await;
    assert!(notice.contains("/not-me#"), "the old address can report it");

    let refused = change(&app, &card, &cookie, "me@gmail.com", None)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::EmailNotApproved);
    let refused = change(&app, &card, &cookie, &new_email, Some("0121 496 0000"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BadRequest);
    // Without a fresh card proof: a challenge that was never issued.
    let request = ChangeContactRequest {
        login_id: api_types::auth::LoginId::from_bytes([3; 56]),
        signature: api_types::values::CardSignature::from_bytes(vec![0x30, 0x00]).unwrap(),
        email: new_email.clone(),
        mobile: None,
    };
    let refused = app
        .send::<ChangeContact>(Some(&cookie), &(), &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotFound);
    // Without a session.
    let refused = app
        .send::<ChangeContact>(None, &(), &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotSignedIn);
}
both!(reg_5_contact_changes_need_the_card_and_tell_the_old_address);
