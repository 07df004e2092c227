//! AUTH-1 / AUTH-2 tried as a user and as an attacker would: card login with the PIN and
//! the 9A key, sessions that time out and end at logout, challenges that work once, a
//! signature from another card, an expired certificate, cookie-less and cross-site calls.

use api_types::auth::{
    LoginFinish, LoginFinishRequest, LoginStart, LoginStartRequest, Logout, LogoutRequest, Me,
    Session, SessionInfo,
};
use api_types::values::CardSignature;
use api_types::ErrorCode;
use card_protocol::client::PivClient;
use card_protocol::pin::Pin;
use reqwest::StatusCode;
use server::Clock;

use crate::both;
use crate::helpers::*;

/// The card verifies its PIN and signs `challenge` with 9A for our page, as the bridge's
/// login does (the digest of the purpose, [`ORIGIN`] and the challenge).
pub fn card_signs(card: &TestCard, challenge: &[u8; 32]) -> CardSignature {
    card_signs_for(card, ORIGIN, challenge)
}

/// [`card_signs`] for a page of `origin`.
pub fn card_signs_for(card: &TestCard, origin: &str, challenge: &[u8; 32]) -> CardSignature {
    let mut piv = PivClient::new(card.card.clone());
    piv.select().unwrap();
    piv.verify_pin(&Pin::parse(PIN).unwrap()).unwrap();
    let digest = card_protocol::SignedFor::Login.digest(origin, challenge);
    let signature = piv.sign_with_piv_auth_key(&digest).unwrap();
    CardSignature::from_bytes(signature).unwrap()
}

/// Login as the page does; the session cookie as a `Cookie` header value.
pub async fn login(app: &TestApp, card: &TestCard) -> Result<(SessionInfo, String), Refused> {
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await?;
    let signature = card_signs(card, started.challenge.as_bytes());
    let finish = LoginFinishRequest {
        login_id: started.login_id,
        signature,
    };
    let (headers, info) = app.send::<LoginFinish>(None, &(), &finish).await?;
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    Ok((info, set_cookie.split(';').next().unwrap().to_owned()))
}

/// Who is signed in with this cookie (or none).
pub(crate) async fn session(app: &TestApp, cookie: Option<&str>) -> Result<SessionInfo, ErrorCode> {
    app.send::<Session>(cookie, &(), &())
        .await
        .map(|(_, info)| info)
        .map_err(|refused| refused.code())
}

async fn logout(app: &TestApp, cookie: &str) -> Result<(), ErrorCode> {
    app.call_as::<Logout>(cookie, &(), &LogoutRequest {})
        .await
        .map(|_| ())
        .map_err(|refused| refused.code())
}

async fn auth_1_a_card_and_its_pin_sign_in_and_logout_ends_the_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    app.clock.advance(60);
    let (info, cookie) = login(&app, &card).await.unwrap();
    assert_eq!(
        (info.uuid.as_str(), info.card_guid),
        (card.uuid.as_str(), card.guid)
    );
    assert_eq!(info.display_name, "Mr John Rigby");
    // RA-2: the PIN just verified: the RA sees the card with all its tries as of now,
    // read from the session (the sign-in writes nothing to the card's row).
    let mut conn = app.state.store.pool.acquire().await.unwrap();
    let uuid = api_types::ra::UserUuid::parse(card.uuid.as_str()).unwrap();
    let listed = server::store::ra::cards_of(&mut conn, &uuid).await.unwrap();
    assert_eq!(listed[0].signed_in_at, Some(app.clock.now()));
    assert_eq!(listed[0].pin_tries_seen_at, None);
    drop(conn);
    // Any instance serves it: it lives in the database.
    let other = app.restart().await;
    assert_eq!(
        session(&other, Some(&cookie)).await.unwrap().uuid.as_str(),
        card.uuid
    );
    logout(&app, &cookie).await.unwrap();
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    assert_eq!(
        logout(&app, &cookie).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    let events = app.audit_events(&card).await;
    // The challenge itself proves nothing and is not an event (ALL-5).
    assert!(events.iter().all(|(a, _)| a != "auth.login_start"));
    for action in ["auth.login", "auth.logout"] {
        assert!(
            events.iter().any(|(a, o)| a == action && o == "ok"),
            "{events:?}"
        );
    }
}
both!(auth_1_a_card_and_its_pin_sign_in_and_logout_ends_the_session);

async fn auth_2_a_session_ends_when_idle_and_at_its_absolute_end(db: Db) {
    let app = TestApp::spawn_with(db, |s| {
        s.session_idle_secs = 600;
        s.session_absolute_secs = 3600;
    })
    .await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    app.clock.advance(599);
    session(&app, Some(&cookie)).await.unwrap(); // used: idle clock starts again
    app.clock.advance(599);
    session(&app, Some(&cookie)).await.unwrap();
    app.clock.advance(600);
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    // Used often, it still ends at its absolute end.
    let (_, cookie) = login(&app, &card).await.unwrap();
    for _ in 0..6 {
        app.clock.advance(590);
        session(&app, Some(&cookie)).await.unwrap();
    }
    app.clock.advance(60);
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    // Ended for good, even if the clock were turned back.
    app.clock.advance(-3000);
    assert_eq!(
        session(&app, Some(&cookie)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
}
both!(auth_2_a_session_ends_when_idle_and_at_its_absolute_end);

async fn auth_1_a_challenge_works_once_and_not_for_long(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let finish = |started: api_types::auth::LoginStartResponse| LoginFinishRequest {
        signature: card_signs(&card, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = finish(started);
    app.send::<LoginFinish>(None, &(), &request).await.unwrap();
    // The same signed challenge again: a replay.
    let replayed = app
        .send::<LoginFinish>(None, &(), &request)
        .await
        .unwrap_err();
    assert_eq!(replayed.code(), ErrorCode::LoginExpired);
    // Answered too late.
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = finish(started);
    app.clock.advance(121);
    let late = app
        .send::<LoginFinish>(None, &(), &request)
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::LoginExpired);
    // An unknown card gets no challenge.
    let stranger = LoginStartRequest {
        card_guid: api_types::CardGuid::from_bytes([9; 16]),
    };
    let refused = app
        .send::<LoginStart>(None, &(), &stranger)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::UnknownCard);
}
both!(auth_1_a_challenge_works_once_and_not_for_long);

// AUTH-1 (issue 22): a login id is sealed by the server, not a row. Changed anywhere —
// to name another card, to end later, or under a made-up MAC — it opens nothing and is
// refused as not_found, before any card's signature is checked. Another instance sharing
// the settings opens it, and once answered there it stays spent here.
async fn auth_1_a_sealed_login_id_changed_anywhere_opens_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let signature = card_signs(&card, started.challenge.as_bytes());
    let sealed = started.login_id.as_str().to_owned();
    // Nonce, card, end and MAC: one hex digit changed in each.
    for at in [3, 40, 75, 100] {
        let mut changed = sealed.clone().into_bytes();
        changed[at] = if changed[at] == b'f' { b'e' } else { b'f' };
        let login_id =
            api_types::auth::LoginId::parse(std::str::from_utf8(&changed).unwrap()).unwrap();
        let forged = LoginFinishRequest {
            login_id,
            signature: signature.clone(),
        };
        let refused = app
            .send::<LoginFinish>(None, &(), &forged)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::NotFound, "changed at {at}");
    }
    let answer = LoginFinishRequest {
        login_id: started.login_id,
        signature,
    };
    let other = app.restart().await;
    other.send::<LoginFinish>(None, &(), &answer).await.unwrap();
    let replayed = app
        .send::<LoginFinish>(None, &(), &answer)
        .await
        .unwrap_err();
    assert_eq!(replayed.code(), ErrorCode::LoginExpired);
    assert_eq!(app.count("sessions").await, 1);
    // Its spending is swept once the challenge has ended, when it is refused as late.
    app.clock.advance(120);
    app.state.sweep_rate_limits().await.unwrap();
    assert_eq!(app.count("spent_logins").await, 0);
    let late = app
        .send::<LoginFinish>(None, &(), &answer)
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::LoginExpired);
}
both!(auth_1_a_sealed_login_id_changed_anywhere_opens_nothing);

// AUTH-1: one signed challenge sent twice at once (a double click, or a replay racing
// its owner) begins one session; the other is refused as login_expired.
async fn auth_1_a_challenge_answered_twice_at_once_begins_one_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    for round in 0..5 {
        let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
        let answer = LoginFinishRequest {
            signature: card_signs(&card, started.challenge.as_bytes()),
            login_id: started.login_id,
        };
        let (first, second) = tokio::join!(
            app.send::<LoginFinish>(None, &(), &answer),
            app.send::<LoginFinish>(None, &(), &answer)
        );
        let refused: Vec<ErrorCode> = [first.err(), second.err()]
            .into_iter()
            .flatten()
            .map(|refused| refused.code())
            .collect();
        assert_eq!(refused, [ErrorCode::LoginExpired], "round {round}");
        assert_eq!(app.count("sessions").await, round + 1);
    }
}
both!(auth_1_a_challenge_answered_twice_at_once_begins_one_session);

async fn auth_1_another_cards_signature_or_an_expired_certificate_is_refused(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let other = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let (_, started) = app.send::<LoginStart>(None, &(), &start).await.unwrap();
    let request = LoginFinishRequest {
        signature: card_signs(&other, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    let refused = app
        .send::<LoginFinish>(None, &(), &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CardNotGenuine);
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Three years on, the card's certificate has expired: no login, even with its key.
    app.clock.advance(3 * 365 * 24 * 3600 + 1);
    let refused = login(&app, &card).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::CertificateNotValid);
}
both!(auth_1_another_cards_signature_or_an_expired_certificate_is_refused);

async fn all_6_sessions_need_their_cookie_and_our_origin(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    assert_eq!(
        session(&app, None).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    let forged = format!("scss-session={}", "ab".repeat(32));
    assert_eq!(
        session(&app, Some(&forged)).await.unwrap_err(),
        ErrorCode::NotSignedIn
    );
    // Logout from another site's page: refused before it reaches the session.
    let response = app
        .request_from::<Logout>(
            "https://evil.example",
            Some(&cookie),
            &(),
            &LogoutRequest {},
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    session(&app, Some(&cookie)).await.unwrap();
}
both!(all_6_sessions_need_their_cookie_and_our_origin);

// AUTH-2 / ALL-6: on an HTTPS origin the session cookie is `__Host-` and Secure.
#[tokio::test]
async fn auth_2_an_https_origin_gets_a_host_prefixed_secure_session_cookie() {
    const HTTPS: &str = "https://selfservice.example.nhs.uk";
    let db = std::sync::Arc::new(TestDb::new(Db::Sqlite).await);
    let mut settings = settings(&db.url);
    settings.public_origin = HTTPS.into();
    let app =
        server::Application::build(settings, std::sync::Arc::new(server::TestClock::new(START)))
            .await
            .unwrap();
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let app = TestApp::attach(port, state, db).await;
    let card = app.enroll_unlocked().await;
    let start = LoginStartRequest {
        card_guid: card.guid,
    };
    let started: api_types::auth::LoginStartResponse = app
        .request_from::<LoginStart>(HTTPS, None, &(), &start)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let finish = LoginFinishRequest {
        signature: card_signs_for(&card, HTTPS, started.challenge.as_bytes()),
        login_id: started.login_id,
    };
    let response = app
        .request_from::<LoginFinish>(HTTPS, None, &(), &finish)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-scss-session="), "{cookie}");
    for attribute in ["; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}

// REG-5: "My card" shows the user, their registration, the certificate's expiry and
// their own recent security events — and nothing without a session.
async fn reg_5_my_card_shows_the_user_their_card_and_their_events(db: Db) {
    let app = TestApp::spawn(db).await;
    let card = app.enroll_unlocked().await;
    let (_, cookie) = login(&app, &card).await.unwrap();
    let mine = app.call_as::<Me>(&cookie, &(), &()).await.unwrap();
    assert_eq!(
        (mine.uuid.as_str(), mine.card_guid),
        (card.uuid.as_str(), card.guid)
    );
    assert!(mine.registered && !mine.self_service_closed);
    assert_eq!(mine.email, card.email);
    let expiry = mine.certificate_expires_at.unwrap();
    assert!(expiry > START + 2 * 365 * 24 * 3600, "{expiry}");
    let actions: Vec<&str> = mine.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.first(),
        Some(&"auth.login"),
        "newest first: {actions:?}"
    );
    assert!(actions.contains(&"card.issue"));
    let refused = app.call::<Me>(&(), &()).await.unwrap_err();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}
both!(reg_5_my_card_shows_the_user_their_card_and_their_events);
